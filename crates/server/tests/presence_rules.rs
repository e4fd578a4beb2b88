//! Per-user watcher rules (`switchboard presence allow|deny|list|del`, issue 17) on every
//! storage backend: bob denies carol; carol's phone asking for bob's presence and line
//! state gets `403 Watcher Denied` (a clear refusal, not polite blocking), alice's is
//! served; once the rule is removed, carol is served again. The CLI writes the database
//! and tells the running server (a change notice), so no restart is needed.
//!
//! MariaDB and PostgreSQL run when `SWITCHBOARD_TEST_MYSQL_URL` and
//! `SWITCHBOARD_TEST_POSTGRES_URL` are set (`eval "$(scripts/dbs.sh)"`); each test makes
//! its own database and drops it. With `SWITCHBOARD_REQUIRE_DBS=1` a missing URL fails.
#![allow(clippy::unwrap_used)]

use testkit::database::TempDatabase;
use testkit::ports::free_port;
use testkit::server::{password, Options, Server};

/// The server binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// `watcher`'s fetch of bob's `event` state: the final answer's status.
fn fetch(server: &Server, name: &str, watcher: &str, event: &str) -> u16 {
    let r = server
        .sipp(
            name,
            "uac-subscribe-fetch-expect-200-or-403.xml",
            free_port(),
        )
        .service("bob")
        .key("caller", watcher)
        .key("event", event)
        .credentials(watcher, &password(watcher))
        .run();
    r.assert_ok(name);
    let ladder = r.ladder();
    if ladder.contains(&"< 403".to_string()) {
        let refusal = r.find(false, "SIP/2.0 403").pop().unwrap();
        assert!(
            refusal.starts_with("SIP/2.0 403 Watcher Denied"),
            "{refusal}"
        );
        403
    } else {
        assert!(ladder.contains(&"< NOTIFY".to_string()), "{ladder:?}");
        200
    }
}

fn deny_then_allow_again(server: &Server) {
    let out = server.cli(&["presence", "deny", "bob@example.com", "carol@example.com"]);
    assert!(out.contains("denies carol@example.com"), "{out}");
    let list = server.cli(&["--json", "presence", "list", "bob@example.com"]);
    let rules: serde_json::Value = serde_json::from_str(list.trim()).unwrap();
    assert_eq!(
        rules,
        serde_json::json!([{"user": "bob@example.com", "watcher": "carol@example.com", "rule": "deny"}])
    );
    assert_eq!(fetch(server, "carol-presence", "carol", "presence"), 403);
    assert_eq!(fetch(server, "carol-dialog", "carol", "dialog"), 403);
    assert_eq!(fetch(server, "alice-presence", "alice", "presence"), 200);
    // A rule for a user that does not exist: the CLI names it.
    let bad = server.cli_raw(&[
        "presence",
        "deny",
        "nobody@example.com",
        "carol@example.com",
    ]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("nobody@example.com"),
        "{bad:?}"
    );
    server.cli(&["presence", "del", "bob@example.com", "carol@example.com"]);
    assert_eq!(fetch(server, "carol-again", "carol", "presence"), 200);
    let list = server.cli(&["--json", "presence", "list"]);
    assert_eq!(list.trim(), "[]");
}

#[test]
fn sqlite() {
    let server = Server::start(BIN, Options::digest());
    deny_then_allow_again(&server);
}

#[test]
fn mariadb() {
    if let Some(db) = TempDatabase::create(false) {
        let server = Server::start(BIN, Options::digest().on_database(&db));
        deny_then_allow_again(&server);
    }
}

#[test]
fn postgres() {
    if let Some(db) = TempDatabase::create(true) {
        let server = Server::start(BIN, Options::digest().on_database(&db));
        deny_then_allow_again(&server);
    }
}
