//! Issue 13: provisioning changes reach a running server as per-entity change notices,
//! applied off the core task. A user added while the server runs can log in at once; a
//! deleted one is gone at once; calls placed while the CLI changes users and forwarding
//! every few milliseconds all complete.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use testkit::digest::register;
use testkit::ports::free_port;
use testkit::server::{password, Options, Server, DOMAIN};
use testkit::wait::HANG_GUARD;

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn counts(node: &Server) -> (u64, u64, u64) {
    let s = node.status();
    let n = |k: &str| s[k].as_u64().unwrap();
    (n("domains"), n("users"), n("aliases"))
}

/// Each CLI change is in the server's directory when the command returns: the CLI waits
/// for the server's answer to each notice.
#[test]
fn each_change_reaches_the_running_server_entity_by_entity() {
    let node = Server::start(BIN, Options::digest());
    assert_eq!(counts(&node), (1, 3, 0));

    let dave = format!("dave@{DOMAIN}");
    node.cli(&["user", "add", &dave, "--password", &password("dave")]);
    assert_eq!(counts(&node), (1, 4, 0));
    register(&node, "dave", free_port());

    node.cli(&["alias", "add", &format!("4711@{DOMAIN}"), &dave]);
    assert_eq!(counts(&node), (1, 4, 1));
    // Deleting dave takes his alias with him, in the store and in the server.
    node.cli(&["user", "del", &dave]);
    assert_eq!(counts(&node), (1, 3, 0));

    node.cli(&["domain", "add", "other.test"]);
    node.cli(&["user", "add", "erin@other.test", "--password", "pw-erin"]);
    assert_eq!(counts(&node), (2, 4, 0));
    node.cli(&["domain", "del", "other.test"]);
    assert_eq!(counts(&node), (1, 3, 0));

    // The whole reload stays, for bulk changes (`user import`).
    let csv = node.dir.path().join("users.csv");
    std::fs::write(
        &csv,
        "frank,example.com,pw-frank\ngina,example.com,pw-gina\n",
    )
    .unwrap();
    node.cli(&["user", "import", csv.to_str().unwrap()]);
    assert_eq!(counts(&node), (1, 5, 0));
}

/// Calls placed while the CLI adds and deletes a user and sets and clears forwarding in a
/// loop all complete, none retransmitted by the caller beyond what loopback needs.
#[test]
fn calls_keep_flowing_while_the_directory_changes() {
    const CALLS: u32 = 40;
    let node = Server::start(BIN, Options::digest());
    let bob_port = free_port();
    register(&node, "bob", bob_port);
    let bob = bob_answers_many(&node, bob_port, CALLS);
    let alice = node
        .sipp("alice-calls", "uac-invite-auth-expect-200.xml", free_port())
        .service("bob")
        .key("caller", "alice")
        .credentials("alice", &password("alice"))
        .calls(CALLS)
        .rate(10)
        .timeout(HANG_GUARD.as_secs())
        .spawn();
    let carol = format!("carol@{DOMAIN}");
    let temp = format!("temp@{DOMAIN}");
    let started = std::time::Instant::now();
    let mut changes = 0;
    // The calls take about CALLS / 10 seconds; change things for that long.
    while started.elapsed() < std::time::Duration::from_millis(u64::from(CALLS) * 100) {
        node.cli(&["user", "add", &temp, "--password", "pw-temp"]);
        node.cli(&["forward", "set", &carol, "busy", &temp]);
        node.cli(&["forward", "clear", &carol]);
        node.cli(&["user", "del", &temp]);
        changes += 4;
    }
    let a = alice.wait();
    a.assert_ok("alice's calls during changes");
    bob.wait().assert_ok("bob's UAS during changes");
    assert_eq!(
        a.stat("SuccessfulCall(C)"),
        Some(u64::from(CALLS)),
        "{:?}",
        a.stats
    );
    assert_eq!(a.stat("FailedCall(C)"), Some(0), "{:?}", a.stats);
    assert!(changes >= 8, "only {changes} changes were made");
    eprintln!(
        "{CALLS} calls, {changes} changes, caller retransmissions {:?}",
        a.stat("Retransmissions(C)")
    );
}

/// Bob's UAS on `port` (registered there) answering `calls` calls.
fn bob_answers_many(node: &Server, port: u16, calls: u32) -> testkit::sipp::Background {
    node.sipp("bob-uas-many", "uas-invite-answer-expect-bye.xml", port)
        .uas()
        .calls(calls)
        .timeout(HANG_GUARD.as_secs())
        .spawn()
}
