//! Message-waiting (RFC 3842) end to end, on SQLite, MariaDB and PostgreSQL: a SIPp phone
//! subscribes to its own mailbox (digest-authenticated), gets NOTIFY `Voice-Message: 0/0`
//! at once; a message deposited in the store (as the voicemail service does) and the
//! mailbox notice the service host sends -> NOTIFY `1/0`; `switchboard voicemail delete`
//! -> NOTIFY `Messages-Waiting: no`. Another user may not subscribe to it.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::net::UnixStream;

use model::{AddressOfRecord, NewMessage, VoicemailStore};
use storage::SqlStore;
use testkit::database::TempDatabase;
use testkit::ports::free_port;
use testkit::server::{password, Options, Server, DOMAIN};
use testkit::sipp::wait_trace;
use testkit::wait::HANG_GUARD;

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// Sends one control-socket line (what the CLI and the service host send) and returns the
/// answer.
fn control(node: &Server, line: &str) -> String {
    let mut s = UnixStream::connect(node.dir.path().join("data/switchboard.ctl")).unwrap();
    s.write_all(format!("{line}\n").as_bytes()).unwrap();
    let mut answer = String::new();
    BufReader::new(s).read_line(&mut answer).unwrap();
    answer.trim().to_string()
}

fn mwi_flow(db_url: Option<String>) {
    let node = Server::start(
        BIN,
        Options {
            db_url: db_url.clone(),
            ..Options::digest()
        },
    );
    let alice = AddressOfRecord::new("alice", DOMAIN);
    node.cli(&["voicemail", "enable", &alice.to_string(), "--pin", "4711"]);

    // Bob may not learn whether alice has messages.
    let bob = node
        .sipp(
            "bob-mwi",
            "uac-subscribe-mwi-expect-notify.xml",
            free_port(),
        )
        .service("alice")
        .key("caller", "bob")
        .credentials("bob", &password("bob"))
        .timeout(5)
        .run();
    assert!(
        bob.messages.contains("403 Only Your Own Mailbox"),
        "{}",
        bob.messages
    );

    let phone = node
        .sipp(
            "alice-mwi",
            "uac-subscribe-mwi-expect-notify.xml",
            free_port(),
        )
        .service("alice")
        .key("caller", "alice")
        .credentials("alice", &password("alice"))
        .timeout(HANG_GUARD.as_secs())
        .spawn();
    wait_trace(&node, "alice-mwi", "Voice-Message: 0/0");

    // A message deposited (the service host writes the row, then signals the change).
    let url = db_url.unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            node.dir.path().join("data/switchboard.db").display()
        )
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = rt.block_on(SqlStore::connect_existing(&url, 1)).unwrap();
    let id = rt
        .block_on(store.add_message(
            &alice,
            &NewMessage {
                caller: format!("sip:bob@{DOMAIN}"),
                received_at: 1_796_299_199,
                duration_secs: 3,
                file: node.dir.path().join("m1.wav").display().to_string(),
            },
            100,
        ))
        .unwrap();
    assert_eq!(
        control(&node, &format!("changed mailbox changed {alice}")),
        "ok"
    );
    wait_trace(&node, "alice-mwi", "Voice-Message: 1/0");

    node.cli(&["voicemail", "delete", &alice.to_string(), &id.to_string()]);
    let r = phone.wait();
    r.assert_ok("alice's phone: NOTIFY 0/0, 1/0, then Messages-Waiting: no");
    rt.block_on(store.close());
}

#[test]
fn sqlite_mwi_notifies_every_change() {
    mwi_flow(None);
}

#[test]
fn mariadb_mwi_notifies_every_change() {
    let Some(db) = TempDatabase::create(false) else {
        return;
    };
    mwi_flow(Some(db.url.clone()));
}

#[test]
fn postgres_mwi_notifies_every_change() {
    let Some(db) = TempDatabase::create(true) else {
        return;
    };
    mwi_flow(Some(db.url.clone()));
}
