//! `switchboard user import` against a running server: a file with errors imports nothing,
//! names every bad line and field, exits non-zero; a good file is imported and the running
//! server authenticates its users at once (reloaded through the control socket).
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use testkit::ports::free_port;
use testkit::server::{Options, Server, DOMAIN};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

#[test]
fn a_file_with_errors_imports_nothing_and_names_each_line() {
    let node = Server::start(BIN, Options::digest());
    let csv = node.dir.path().join("bad.csv");
    std::fs::write(
        &csv,
        format!(
            "username,domain,password\n\
             # comment, then a blank line\n\
             \n\
             erin,{DOMAIN},erin-pw\n\
             frank,{DOMAIN},\n\
             gina,x,gina-pw\n\
             alice,{DOMAIN},new-pw\n\
             erin,{DOMAIN},again\n\
             hank,{DOMAIN}\n"
        ),
    )
    .unwrap();
    let path = csv.to_str().unwrap();
    let out = node.cli_raw(&["user", "import", path]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in [
        "error: line 5: password: must not be empty",
        "error: line 6: domain \"x\" is not served",
        "error: line 7: username: alice@example.com already exists",
        "error: line 8: username: erin@example.com already appears on line 4",
        "error: line 9: expected 3 fields (username,domain,password) or 4 \
         (username,domain,ha1_md5,ha1_sha256), found 2",
        "error: 5 error(s) in",
    ] {
        assert!(stderr.contains(line), "missing {line:?} in:\n{stderr}");
    }
    assert!(stderr.contains("nothing imported"), "{stderr}");

    let out = node.cli_raw(&["--json", "user", "import", path]);
    assert_eq!(out.status.code(), Some(1));
    let summary: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    assert_eq!(summary["ok"], false);
    assert_eq!(summary["imported"], 0);
    assert_eq!(summary["errors"].as_array().unwrap().len(), 5);
    assert_eq!(summary["errors"][1]["line"], 6);
    assert_eq!(summary["errors"][1]["field"], "domain");

    // Nothing was written: erin (a good line) does not exist.
    let users = node.cli(&["--json", "user", "list"]);
    assert!(!users.contains("erin@"), "{users}");
    assert_eq!(node.status()["users"], 3);
}

#[test]
fn imported_users_register_on_the_running_server_at_once() {
    let node = Server::start(BIN, Options::digest());
    let csv = node.dir.path().join("good.csv");
    std::fs::write(
        &csv,
        format!("erin,{DOMAIN},erin-pw\nfrank,{DOMAIN},frank-pw\n"),
    )
    .unwrap();
    let out = node.cli(&["user", "import", csv.to_str().unwrap()]);
    assert!(out.contains("2 user(s) imported"), "{out}");
    assert_eq!(node.status()["users"], 5);
    let r = node
        .sipp("erin", "uac-register-auth-expect-200.xml", free_port())
        .service("erin")
        .credentials("erin", "erin-pw")
        .key("expires", 300)
        .run();
    r.assert_ok("REGISTER of an imported user");
    assert_eq!(r.ladder(), testkit::digest::AUTHENTICATED_REGISTER_LADDER);
}
