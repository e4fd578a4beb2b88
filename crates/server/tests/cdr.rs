//! Call records after real calls, end to end: SIPp phones through the real binary, on
//! SQLite, MariaDB and PostgreSQL; then `switchboard cdr list|export` read back (the CSV
//! with a CSV parser). See docs/cdr.md.
//!
//! One server per backend plays four calls in turn, alice calling bob each time:
//!
//! ```text
//! 1 answered   alice -> bob 200, alice hangs up         status 200, hangup caller
//! 2 busy       alice -> bob 486                         status 486
//! 3 cancelled  alice -> bob 180, alice CANCELs          status 487, hangup caller
//! 4 forwarded  alice -> bob 486 -> (busy) carol 200     status 200, target carol, chain busy
//! 5 failed over alice -> 0301234567: gateway A 503, B 200 status 200, gateway B, target B
//! ```

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use serde_json::Value;
use testkit::database::TempDatabase;
use testkit::open;
use testkit::ports::free_port;
use testkit::server::{Options, Server};
use testkit::sipp::Sipp;
use testkit::wait::{wait_until, HANG_GUARD};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn records(server: &Server, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["--json", "cdr", "list"];
    all.extend_from_slice(args);
    let out = server.cli(&all);
    serde_json::from_str::<Value>(out.trim())
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Waits until `n` records exist and every one has ended (the writer batches).
fn wait_records(server: &Server, n: usize) -> Vec<Value> {
    let mut last = Vec::new();
    wait_until("the call records", HANG_GUARD, || {
        last = records(server, &[]);
        last.len() == n && last.iter().all(|r| !r["ended"].is_null())
    });
    last
}

/// bob's phone playing `scenario` (his earlier phones' bindings cleared first).
fn bob(server: &Server, scenario: &str) -> testkit::sipp::Background {
    server.cli(&["location", "clear", "bob@example.com"]);
    open::phone(server, "bob", scenario).1.spawn()
}

fn alice(server: &Server, scenario: &str) {
    open::caller(server, "alice", scenario, "bob")
        .run()
        .assert_ok("alice");
}

fn five_calls(server: &Server) {
    // 1: answered, alice hangs up.
    let b = bob(server, "uas-answer-200.xml");
    alice(server, "uac-invite-expect-200.xml");
    b.wait().assert_ok("bob answering");
    let r = wait_records(server, 1);
    let r = &r[0];
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["caller_from"], "sip:alice@example.com", "{r}");
    assert_eq!(r["dialled"], "sip:bob@example.com", "{r}");
    assert_eq!(r["translated"], "sip:bob@example.com", "{r}");
    assert_eq!(r["target"], "sip:bob@example.com", "{r}");
    assert!(
        r["source"].as_str().unwrap().starts_with("udp:127.0.0.1:"),
        "{r}"
    );
    assert_eq!(r["hangup"], "caller", "{r}");
    assert!(r["gateway"].is_null(), "{r}");
    assert!(r["caller"].is_null(), "no authentication here: {r}");
    let started = r["started_ms"].as_u64().unwrap();
    let answered = r["answered_ms"].as_u64().unwrap();
    let ended = r["ended_ms"].as_u64().unwrap();
    assert!(started <= answered && answered <= ended, "{r}");
    assert_eq!(r["duration_ms"].as_u64().unwrap(), ended - answered, "{r}");
    assert!(r["call_id"].as_str().is_some_and(|c| !c.is_empty()), "{r}");

    // 2: busy.
    let b = bob(server, "uas-answer-486.xml");
    alice(server, "uac-invite-expect-486.xml");
    b.wait().assert_ok("bob busy");
    let r = &wait_records(server, 2)[1];
    assert_eq!(r["status"], 486, "{r}");
    assert!(r["answered"].is_null() && r["duration_ms"].is_null(), "{r}");
    assert!(r["hangup"].is_null(), "{r}");

    // 3: cancelled while ringing.
    let b = bob(server, "uas-ring-cancel-487.xml");
    alice(server, "uac-invite-cancel-expect-487.xml");
    b.wait().assert_ok("bob ringing");
    let r = &wait_records(server, 3)[2];
    assert_eq!(r["status"], 487, "{r}");
    assert_eq!(r["hangup"], "caller", "{r}");
    assert!(r["answered"].is_null(), "{r}");

    // 4: forwarded on busy to carol, who answers.
    server.cli(&[
        "forward",
        "set",
        "bob@example.com",
        "busy",
        "carol@example.com",
    ]);
    let b = bob(server, "uas-answer-486.xml");
    let carol = open::phone(server, "carol", "uas-answer-200.xml").1.spawn();
    alice(server, "uac-invite-forwarded-expect-200.xml");
    b.wait().assert_ok("bob busy");
    carol.wait().assert_ok("carol answering");
    let all = wait_records(server, 4);
    let r = &all[3];
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["dialled"], "sip:bob@example.com", "{r}");
    assert_eq!(r["target"], "sip:carol@example.com", "{r}");
    assert_eq!(
        r["chain"],
        serde_json::json!([{"cause": "busy", "target": "sip:carol@example.com"}]),
        "{r}"
    );
    assert_eq!(r["hangup"], "caller", "{r}");

    // Filters.
    assert_eq!(records(server, &["--status", "486"]).len(), 1);
    let carols = records(server, &["--user", "carol@example.com"]);
    assert_eq!(carols.len(), 1);
    assert_eq!(carols[0]["id"], all[3]["id"]);
    assert_eq!(records(server, &["--user", "bob@example.com"]).len(), 4);
    let first = all[0]["started"].as_str().unwrap();
    assert_eq!(records(server, &["--until", first]).len(), 0);
    assert_eq!(records(server, &["--since", first]).len(), 4);

    // Bad input names the option.
    for (opt, value) in [
        ("--since", "yesterday"),
        ("--status", "99"),
        ("--user", "bob"),
    ] {
        let out = server.cli_raw(&["cdr", "list", opt, value]);
        assert!(!out.status.success(), "{opt} {value} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("{opt}: ")), "{opt}: {err}");
    }

    // The CSV export, parsed back.
    let file = server.dir.path().join("cdr.csv");
    let path = file.to_str().unwrap();
    let said = server.cli(&["cdr", "export", "--csv", path]);
    assert!(said.contains("4 call records"), "{said}");
    let mut csv = csv::Reader::from_path(&file).unwrap();
    let header: Vec<String> = csv.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header, admin::cdr::CSV_COLUMNS);
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (row, rec) in rows.iter().zip(&all) {
        assert_eq!(&row[col("id")], rec["id"].as_str().unwrap());
        assert_eq!(&row[col("call_id")], rec["call_id"].as_str().unwrap());
        assert_eq!(&row[col("started")], rec["started"].as_str().unwrap());
        assert!(row[col("started")].ends_with('Z'), "{row:?}");
        assert_eq!(row[col("status")], rec["status"].to_string());
    }
    assert_eq!(&rows[3][col("chain")], "busy sip:carol@example.com");
    assert_eq!(&rows[1][col("answered")], "");
    let secs: f64 = rows[0][col("duration_secs")].parse().unwrap();
    let ms = all[0]["duration_ms"].as_u64().unwrap();
    assert_eq!((secs * 1000.0).round() as u64, ms);
    let one = server.cli(&["cdr", "export", "--csv", path, "--status", "487"]);
    assert!(one.contains("1 call records"), "{one}");

    failed_over(server);
}

/// 5: alice calls a number routed to gateways A then B; A answers 503, the call fails over
/// to B, which answers. One record: B's, with the number as routed and B's Request-URI.
fn failed_over(server: &Server) {
    let (pa, pb) = (free_port(), free_port());
    for (name, port) in [("gw-a", pa), ("gw-b", pb)] {
        let addr = format!("127.0.0.1:{port}");
        server.cli(&["gateway", "add", name, &addr, "--probe", "0"]);
    }
    server.cli(&["route", "add", "0", "gw-a,gw-b"]);
    let a = Sipp::new(server, "gw-a", "uas-answer-503.xml", pa)
        .service("gw")
        .spawn();
    let b = Sipp::new(server, "gw-b", "uas-answer-200.xml", pb)
        .service("gw")
        .spawn();
    open::caller(
        server,
        "alice-gw",
        "uac-invite-expect-200.xml",
        "0301234567",
    )
    .run()
    .assert_ok("alice's call, failed over");
    a.wait().assert_ok("gateway A answering 503");
    b.wait().assert_ok("gateway B answering");
    let all = wait_records(server, 5);
    let r = &all[4];
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["gateway"], "gw-b", "{r}");
    assert_eq!(r["translated"], "0301234567", "{r}");
    assert_eq!(r["target"], format!("sip:0301234567@127.0.0.1:{pb}"), "{r}");
    assert!(
        r["dialled"]
            .as_str()
            .unwrap()
            .starts_with("sip:0301234567@"),
        "{r}"
    );
    assert_eq!(r["hangup"], "caller", "{r}");
    assert!(r["answered_ms"].as_u64().is_some(), "{r}");
}

#[test]
fn sqlite_records_answered_busy_cancelled_forwarded_failed_over() {
    five_calls(&Server::start(BIN, Options::default()));
}

#[test]
fn mariadb_records_answered_busy_cancelled_forwarded_failed_over() {
    if let Some(db) = TempDatabase::create(false) {
        five_calls(&Server::start(BIN, Options::default().on_database(&db)));
    }
}

#[test]
fn postgres_records_answered_busy_cancelled_forwarded_failed_over() {
    if let Some(db) = TempDatabase::create(true) {
        five_calls(&Server::start(BIN, Options::default().on_database(&db)));
    }
}

/// With authentication, the record names the user the caller proved to be.
#[test]
fn an_authenticated_caller_is_recorded() {
    let node = Server::start(BIN, Options::digest());
    testkit::digest::authenticated_call(&node, &node).assert_ok("authenticated call");
    let r = wait_records(&node, 1);
    assert_eq!(r[0]["caller"], "alice@example.com", "{}", r[0]);
    assert_eq!(r[0]["status"], 200, "{}", r[0]);
}

/// A call up when the server crashes leaves its open row: answered, never ended.
///
/// ```text
/// Alice          Switchboard          Bob
///   | INVITE       | INVITE             |
///   |------------->|------------------->|
///   | 180, 200     | 180, 200           |     row written: answered, open
///   |<-------------|<-------------------|
///   | ACK          |------------------->|
///   |        (SIGKILL)                  |     the row stays: ended empty
/// ```
#[test]
fn a_crash_mid_call_leaves_an_open_row() {
    let mut server = Server::start(BIN, Options::default());
    let _bob = open::phone(&server, "bob", "uas-answer-200.xml").1.spawn();
    alice(&server, "uac-invite-answered-stays-up.xml");
    let mut up = Vec::new();
    wait_until("the open row", HANG_GUARD, || {
        up = records(&server, &[]);
        up.len() == 1 && !up[0]["answered"].is_null()
    });
    server.kill();
    let after = records(&server, &[]);
    assert_eq!(after.len(), 1);
    let r = &after[0];
    assert_eq!(r["status"], 200, "{r}");
    assert!(r["answered_ms"].as_u64().is_some(), "{r}");
    assert!(r["ended"].is_null() && r["duration_ms"].is_null(), "{r}");
    assert!(r["hangup"].is_null(), "{r}");
    let table = server.cli(&["cdr", "list"]);
    assert!(
        table.lines().nth(1).is_some_and(|l| l.contains(" up ")),
        "{table}"
    );
}
