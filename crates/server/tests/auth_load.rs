//! 10,000 users imported from CSV all register with digest authentication, at 500
//! registrations a second from one SIPp (`-inf users.csv`).
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::fmt::Write as _;
use std::time::{Duration, Instant};
use testkit::ports::free_port;
use testkit::server::{Options, Server, DOMAIN};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

const USERS: u32 = 10_000;

#[test]
fn ten_thousand_imported_users_register_with_authentication() {
    let node = Server::start(BIN, Options::digest());
    let started = Instant::now();
    let mut csv = String::from("username,domain,password\n");
    let mut inf = String::from("SEQUENTIAL\n");
    for i in 0..USERS {
        let (user, pw) = (format!("u{i:05}"), format!("pw-{i}-x"));
        writeln!(csv, "{user},{DOMAIN},{pw}").unwrap();
        writeln!(inf, "{user};[authentication username={user} password={pw}]").unwrap();
    }
    let csv_path = node.dir.path().join("users.csv");
    let inf_path = node.dir.path().join("sipp-users.csv");
    std::fs::write(&csv_path, csv).unwrap();
    std::fs::write(&inf_path, inf).unwrap();

    let out = node.cli(&["--json", "user", "import", csv_path.to_str().unwrap()]);
    let summary: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(summary["imported"], USERS, "{summary}");
    assert_eq!(node.status()["users"], USERS + 3);
    let imported = started.elapsed();

    let r = node
        .sipp("load", "uac-register-auth-csv-expect-200.xml", free_port())
        .calls(USERS)
        .arg("-inf")
        .arg(inf_path.to_str().unwrap())
        .rate(500)
        .key("expires", 3600)
        .timeout(60)
        .run();
    r.assert_ok("10,000 authenticated REGISTERs");
    assert_eq!(
        r.stat("SuccessfulCall(C)"),
        Some(u64::from(USERS)),
        "{:?}",
        r.stats
    );
    assert_eq!(r.stat("FailedCall(C)"), Some(0), "{:?}", r.stats);
    let registered = started.elapsed() - imported;

    assert_eq!(node.status()["registered_contacts"], USERS);
    // And in the database (written behind the registrar): poll until all are there.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = node.cli(&["--json", "location", "list"]);
        let list: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        let n = list.as_array().unwrap().len();
        if n == USERS as usize {
            break;
        }
        assert!(Instant::now() < deadline, "{n} contacts in the store");
        std::thread::sleep(Duration::from_millis(250));
    }
    eprintln!("import: {imported:?}; registrations: {registered:?}");
}
