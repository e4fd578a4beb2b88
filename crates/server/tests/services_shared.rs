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
use testkit::forwarding;
use testkit::server::{Options, Server};

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
    forwarding::busy(&a, &b);
}

/// RFC 5359 §2.9 Call Forwarding No Answer across nodes: bob rings 2 s, then node B
/// looks carol up and retargets (CANCEL to bob, 181 to alice).
#[test]
fn call_forwarding_no_answer_across_nodes() {
    let Some(db) = TempDatabase::create(true) else {
        return;
    };
    let (a, b) = nodes(&db);
    forwarding::no_answer(&a, &b);
}

/// Call Forwarding Unavailable across nodes: the store has no phone of bob; node B
/// forwards to carol, whose phone (on A) it finds with a second query.
#[test]
fn call_forwarding_unavailable_across_nodes() {
    let Some(db) = TempDatabase::create(true) else {
        return;
    };
    let (a, b) = nodes(&db);
    forwarding::unavailable(&a, &b);
}

/// RFC 5359 §2.12 Find-Me across nodes: node B looks up bob and every user of his
/// find-me list before the first INVITE; bob's phone rings 2 s, then carol's answers.
#[test]
fn find_me_across_nodes() {
    let Some(db) = TempDatabase::create(true) else {
        return;
    };
    let (a, b) = nodes(&db);
    forwarding::find_me(&a, &b);
}
