//! Authentication on every storage backend: users created by the CLI (`user add` and `user
//! import`) in SQLite, MariaDB and PostgreSQL authenticate their REGISTER and INVITE; and
//! two nodes sharing one PostgreSQL database reach each other's phones.
//!
//! MariaDB and PostgreSQL run when `SWITCHBOARD_TEST_MYSQL_URL` and
//! `SWITCHBOARD_TEST_POSTGRES_URL` are set (`eval "$(scripts/dbs.sh)"`); each test makes
//! its own database and drops it. With `SWITCHBOARD_REQUIRE_DBS=1` a missing URL fails.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use testkit::database::TempDatabase;
use testkit::digest::{authenticated_call, register};
use testkit::ports::free_port;
use testkit::server::{Options, Server, DOMAIN};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// §2.1 with authentication for a user added with `user add` and one imported from CSV
/// (password and HA1 rows), then the §3.1 call with a 407 challenge.
fn register_and_call(node: &Server) {
    let csv = node.dir.path().join("users.csv");
    let dave_md5 = sip_auth::ha1(sip_auth::Algorithm::Md5, "dave", DOMAIN, "dave-pw");
    let dave_sha = sip_auth::ha1(sip_auth::Algorithm::Sha256, "dave", DOMAIN, "dave-pw");
    std::fs::write(
        &csv,
        format!(
            "username,domain,password\n# imported\nerin,{DOMAIN},erin-pw\n\
             dave,{DOMAIN},{dave_md5},{dave_sha}\n"
        ),
    )
    .unwrap();
    let out = node.cli(&["--json", "user", "import", csv.to_str().unwrap()]);
    let summary: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(summary["imported"], 2, "{summary}");
    for (user, pw) in [("erin", "erin-pw"), ("dave", "dave-pw")] {
        let r = node
            .sipp(
                &format!("imported-{user}"),
                "uac-register-auth-expect-200.xml",
                free_port(),
            )
            .service(user)
            .credentials(user, pw)
            .key("expires", 300)
            .run();
        r.assert_ok(&format!("REGISTER of imported {user}"));
    }
    register(node, "carol", free_port());
    authenticated_call(node, node);
}

#[test]
fn sqlite() {
    let node = Server::start(BIN, Options::digest());
    register_and_call(&node);
}

#[test]
fn mariadb() {
    if let Some(db) = TempDatabase::create(false) {
        register_and_call(&Server::start(BIN, Options::digest().on_database(&db)));
    }
}

#[test]
fn postgres() {
    if let Some(db) = TempDatabase::create(true) {
        register_and_call(&Server::start(BIN, Options::digest().on_database(&db)));
    }
}

/// Two nodes on one PostgreSQL database with `shared_location = true` (and one nonce
/// secret): bob's UAS registers, with digest, on node A; alice calls bob through node B,
/// which challenges her (407), finds bob's contact in the shared table and completes the
/// call.
#[test]
fn two_nodes_share_locations_on_postgres() {
    let Some(db) = TempDatabase::create(true) else {
        return;
    };
    let a = Server::start(
        BIN,
        Options {
            shared_location: true,
            node_name: "node-a".into(),
            ..Options::digest().on_database(&db)
        },
    );
    let b = Server::start(
        BIN,
        Options {
            shared_location: true,
            node_name: "node-b".into(),
            provision: false,
            ..Options::digest().on_database(&db)
        },
    );
    authenticated_call(&a, &b);
    let out = b.cli(&["--json", "location", "list", &format!("bob@{DOMAIN}")]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v[0]["node"], "node-a", "{v}");
}
