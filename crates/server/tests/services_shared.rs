//! The RFC 5359 call services in shared-database mode: two nodes on one PostgreSQL
//! database (`[database] shared_location = true`). Every phone registers on node A;
//! alice calls through node B, which holds no binding in memory and finds each user's
//! phones with a location query (the proxy parks the call and resumes it with the
//! answer). Busy, no-answer and unavailable forwarding and find-me all need such a
//! lookup, some of them after the first leg has failed. Same ladders as
//! tests/services.rs, which runs them on one node.
//!
//! Runs when `SWITCHBOARD_TEST_POSTGRES_URL` is set (`eval "$(scripts/dbs.sh)"`); with
//! `SWITCHBOARD_REQUIRE_DBS=1` a missing URL fails.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use testkit::database::TempDatabase;
use testkit::location::contacts;
use testkit::open;
use testkit::server::{Options, Server};
use testkit::sipp::headers;
use testkit::wait::{wait_until, HANG_GUARD};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// Node A (where the phones register) and node B (where alice calls), sharing `db`;
/// find-me rings each contact group for 2 s.
fn nodes(db: &TempDatabase) -> (Server, Server) {
    let opts = |name: &str, provision: bool| Options {
        sip: "\n[services]\nfindme_contact_ring_secs = 2\n".into(),
        db_url: Some(db.url.clone()),
        shared_location: true,
        node_name: name.into(),
        provision,
        ..Options::default()
    };
    let a = Server::start(BIN, opts("node-a", true));
    let b = Server::start(BIN, opts("node-b", false));
    (a, b)
}

/// A phone of `user` registered on node `a` playing `scenario`, once node `b` sees its
/// binding in the shared store.
fn phone(a: &Server, b: &Server, user: &str, scenario: &str) -> testkit::sipp::Background {
    let before = contacts(b, user).len();
    let (_, sipp) = open::phone(a, user, scenario);
    wait_until(
        &format!("{user}'s binding in the store"),
        HANG_GUARD,
        || contacts(b, user).len() > before,
    );
    sipp.spawn()
}

/// Alice calling `callee` through node `b`.
fn alice(b: &Server, scenario: &str, callee: &str) -> testkit::sipp::SippResult {
    open::caller(b, "alice", scenario, callee).run()
}

/// The History-Info entries of the INVITE a forwarding target received.
fn history(invite: &str) -> Vec<String> {
    headers(invite, "History-Info")
        .iter()
        .flat_map(|v| v.split(", "))
        .map(str::to_string)
        .collect()
}

/// The caller's ladder: `head` up to the 200, then ACK, BYE and its 200.
fn ladder(head: &[&str]) -> Vec<String> {
    head.iter()
        .chain(["> ACK", "> BYE", "< 200"].iter())
        .map(|s| s.to_string())
        .collect()
}

/// RFC 5359 §2.8 Call Forwarding Busy across nodes: bob's phone (on A) answers 486; node
/// B asks the store for carol's phones (also on A) and retargets.
///
/// ```text
/// Alice          Node B              Store             Bob (on A)      Carol (on A)
///   | INVITE bob   | bindings of bob?  |                   |                 |
///   |------------->|------------------>|                   |                 |
///   | 100          | INVITE            |                   |                 |
///   |<-------------|-------------------------------------->|                 |
///   |              | 486 / ACK                             |                 |
///   |              |<------------------------------------->|                 |
///   |              | bindings of carol?|                   |                 |
///   |              |------------------>|                   |                 |
///   | 181          | INVITE carol (History-Info cause=486)                   |
///   |<-------------|-------------------------------------------------------->|
///   | 180, 200     |                                         180, 200        |
///   |<-------------|<--------------------------------------------------------|
/// ```
#[test]
fn call_forwarding_busy_across_nodes() {
    let Some(db) = TempDatabase::create(true) else {
        return;
    };
    let (a, b) = nodes(&db);
    b.cli(&[
        "forward",
        "set",
        "bob@example.com",
        "busy",
        "carol@example.com",
    ]);
    let bob = phone(&a, &b, "bob", "uas-answer-486.xml");
    let carol = phone(&a, &b, "carol", "uas-answer-200.xml");
    let call = alice(&b, "uac-invite-forwarded-expect-200.xml", "bob");
    call.assert_ok("caller");
    let bob = bob.wait();
    bob.assert_ok("busy callee");
    let carol = carol.wait();
    carol.assert_ok("forwarding target");
    assert_eq!(
        call.ladder(),
        ladder(&["> INVITE", "< 100", "< 181", "< 180", "< 200"])
    );
    assert!(
        call.find(false, "SIP/2.0 486").is_empty(),
        "the 486 was relayed"
    );
    assert_eq!(bob.ladder(), ["< INVITE", "> 486", "< ACK"]);
    let invite = &carol.find(false, "INVITE")[0];
    let h = history(invite);
    assert_eq!(h[0], "<sip:bob@example.com>;index=1", "{invite}");
    assert_eq!(
        h[1], "<sip:carol@example.com;cause=486>;index=1.1;mp=1",
        "{invite}"
    );
}

/// RFC 5359 §2.9 Call Forwarding No Answer across nodes: bob rings 2 s, then node B
/// looks carol up and retargets (CANCEL to bob, 181 to alice).
#[test]
fn call_forwarding_no_answer_across_nodes() {
    let Some(db) = TempDatabase::create(true) else {
        return;
    };
    let (a, b) = nodes(&db);
    b.cli(&[
        "forward",
        "set",
        "bob@example.com",
        "no-answer",
        "carol@example.com",
        "--after",
        "2",
    ]);
    let bob = phone(&a, &b, "bob", "uas-ring-cancel-487.xml");
    let carol = phone(&a, &b, "carol", "uas-answer-200.xml");
    let call = alice(&b, "uac-invite-forwarded-expect-200.xml", "bob");
    call.assert_ok("caller");
    let bob = bob.wait();
    bob.assert_ok("unanswered callee");
    let carol = carol.wait();
    carol.assert_ok("forwarding target");
    assert_eq!(
        call.ladder(),
        ladder(&["> INVITE", "< 100", "< 180", "< 181", "< 180", "< 200"])
    );
    assert!(
        call.find(false, "SIP/2.0 487").is_empty(),
        "a 487 was relayed"
    );
    assert_eq!(
        bob.ladder(),
        ["< INVITE", "> 180", "< CANCEL", "> 200", "> 487", "< ACK"]
    );
    let h = history(&carol.find(false, "INVITE")[0]);
    assert_eq!(h[1], "<sip:carol@example.com;cause=408>;index=1.1;mp=1");
}

/// Call Forwarding Unavailable across nodes: the store has no phone of bob; node B
/// forwards to carol, whose phone (on A) it finds with a second query.
#[test]
fn call_forwarding_unavailable_across_nodes() {
    let Some(db) = TempDatabase::create(true) else {
        return;
    };
    let (a, b) = nodes(&db);
    b.cli(&[
        "forward",
        "set",
        "bob@example.com",
        "unavailable",
        "carol@example.com",
    ]);
    let carol = phone(&a, &b, "carol", "uas-answer-200.xml");
    assert!(contacts(&b, "bob").is_empty(), "bob has a phone");
    let call = alice(&b, "uac-invite-forwarded-expect-200.xml", "bob");
    call.assert_ok("caller");
    let carol = carol.wait();
    carol.assert_ok("forwarding target");
    assert_eq!(
        call.ladder(),
        ladder(&["> INVITE", "< 100", "< 181", "< 180", "< 200"])
    );
    let h = history(&carol.find(false, "INVITE")[0]);
    assert_eq!(h[1], "<sip:carol@example.com;cause=404>;index=1.1;mp=1");
}

/// RFC 5359 §2.12 Find-Me across nodes: node B looks up bob and every user of his
/// find-me list before the first INVITE; bob's phone rings 2 s, then carol's answers.
#[test]
fn find_me_across_nodes() {
    let Some(db) = TempDatabase::create(true) else {
        return;
    };
    let (a, b) = nodes(&db);
    b.cli(&["findme", "set", "bob@example.com", "carol@example.com:10"]);
    let bob = phone(&a, &b, "bob", "uas-ring-cancel-487.xml");
    let carol = phone(&a, &b, "carol", "uas-answer-200.xml");
    let call = alice(&b, "uac-invite-findme-expect-200.xml", "bob");
    call.assert_ok("caller");
    bob.wait().assert_ok("first target (times out)");
    carol.wait().assert_ok("second target");
    assert_eq!(
        call.ladder(),
        ladder(&["> INVITE", "< 100", "< 180", "< 180", "< 200"])
    );
}
