//! Portal account administration against the real binary: an admin disables an account
//! (its phones are unregistered and refused 403 until it is enabled again) and imports
//! users from an uploaded CSV file in the background, with a report of each line.
//! (The other admin and self-care forms: portal_pages.rs.)

#![allow(clippy::unwrap_used)]

use testkit::http::Client;
use testkit::ports::free_port;
use testkit::server::{other_domain_admin, password, with_portal, Options, Server};
use testkit::wait::{wait_until, HANG_GUARD};

/// The server binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// Alice registers with digest credentials playing `scenario`.
fn alice_registers(server: &Server, scenario: &str) -> testkit::sipp::SippResult {
    server
        .sipp("alice-register", scenario, free_port())
        .service("alice")
        .credentials("alice", &password("alice"))
        .key("expires", 300)
        .run()
}

#[test]
fn a_disabled_account_is_refused_403_until_enabled_again() {
    let (server, addr) = with_portal(BIN, "", Options::digest());
    alice_registers(&server, "uac-register-auth-expect-200.xml").assert_ok("alice registers");

    // The admin disables Alice from her page: her phone is unregistered.
    let mut c = Client::root(addr);
    let token = c.token("/users/alice@example.com");
    let long = "x".repeat(201);
    let r = c.post(
        "/users/alice@example.com/disable",
        &[("csrf", &token), ("reason", &long)],
    );
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("id=\"reason-error\">reason: one line"),
        "{}",
        r.body
    );
    let r = c.post(
        "/users/alice@example.com/disable",
        &[("csrf", &token), ("reason", "left the company")],
    );
    assert_eq!(r.status, 303);
    let page = c.get("/users/alice@example.com");
    assert!(
        page.body
            .contains("This account is disabled: left the company"),
        "{}",
        page.body
    );
    assert!(!server
        .cli(&["location", "list"])
        .contains("alice@example.com"));

    // Her REGISTER and her call are refused after she proves who she is; each is a log
    // line; the portal does not let her in either.
    let r = alice_registers(&server, "uac-register-auth-disabled-expect-403.xml");
    r.assert_ok("a disabled account's REGISTER");
    let call = server
        .sipp(
            "alice-call",
            "uac-invite-auth-disabled-expect-403.xml",
            free_port(),
        )
        .service("bob")
        .key("caller", "alice")
        .credentials("alice", &password("alice"))
        .run();
    call.assert_ok("a disabled account's INVITE");
    assert_eq!(
        call.ladder(),
        ["> INVITE", "< 407", "> ACK", "> INVITE", "< 403", "> ACK"]
    );
    wait_until("the refusals' log lines", HANG_GUARD, || {
        server
            .log_text()
            .matches("user=alice@example.com source=127.0.0.1 reason=disabled")
            .count()
            >= 2
    });
    assert_eq!(
        Client::new(addr)
            .login("alice@example.com", &password("alice"))
            .status,
        401
    );

    // Enabled again (the CLI this time): she registers.
    let out = server.cli(&["user", "enable", "alice@example.com"]);
    assert!(out.contains("user alice@example.com enabled"), "{out}");
    alice_registers(&server, "uac-register-auth-expect-200.xml").assert_ok("enabled again");
    assert!(!c
        .get("/users/alice@example.com")
        .body
        .contains("This account is disabled"));
    // And the CLI disables too.
    server.cli(&["user", "disable", "bob@example.com", "--reason", "unpaid"]);
    assert!(c
        .get("/users/bob@example.com")
        .body
        .contains("This account is disabled: unpaid"));
}

#[test]
fn a_csv_file_upload_imports_in_the_background_and_reports_each_line() {
    let (server, addr) = with_portal(BIN, "", Options::default());
    other_domain_admin(&server);
    let mut c = Client::root(addr);
    let token = c.token("/users");
    let mut csv = String::from("# users\n");
    for i in 0..200 {
        csv.push_str(&format!("imp{i:03}@example.com,pw-{i}\n"));
    }
    csv.push_str("broken line\nalice@example.com,again\n");
    assert_eq!(
        c.post_multipart(
            "/users/import/upload",
            &[],
            ("file", "u.csv", csv.as_bytes())
        )
        .status,
        403,
        "no CSRF token"
    );
    let r = c.post_multipart(
        "/users/import/upload",
        &[("csrf", &token)],
        ("file", "u.csv", csv.as_bytes()),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let job = r.header("location").unwrap().to_string();
    assert!(job.starts_with("/users/import/"), "{job}");
    // The progress, as the page's script reads it, until the end.
    let mut status = serde_json::Value::Null;
    wait_until("the import to finish", HANG_GUARD, || {
        status = serde_json::from_str(&c.get(&format!("{job}/status")).body).unwrap();
        status["finished"] == true
    });
    assert_eq!(status["total"], 203, "{status}");
    assert_eq!(status["done"], 203, "{status}");
    assert_eq!(status["added"], 200, "{status}");
    let page = c.get(&job);
    assert!(page.body.contains("Imported: 200"), "{}", page.body);
    assert!(page
        .body
        .contains("<td>202</td><td>expected user@domain,password</td>"));
    assert!(page.body.contains("<td>203</td><td>") && page.body.contains("already exists"));
    assert!(server.cli(&["user", "list"]).contains("imp199@example.com"));
    // The job is its starter's only.
    let mut ops = Client::new(addr);
    ops.login("ops", "ops-pw");
    assert_eq!(ops.get(&job).status, 404);
}
