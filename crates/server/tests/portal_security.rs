//! The web portal's security, over plain HTTP against the real binary: CSRF tokens on every
//! form, authorisation per object (a user never reaches another's page, a domain admin
//! never another domain), login throttling, the security headers of every page, and the
//! audit log. (The browser flows are in portal_browser.rs.)

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;

use testkit::http::Client;
use testkit::ports::free_port;
use testkit::server::{password, Options, Server};

/// The server binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// A provisioned server (example.com: alice, bob, carol) with its portal on a free port,
/// the admin `root`, the domain admin `ops` of example.com, and eve in other.test.
fn portal_server() -> (Server, SocketAddr) {
    let port = free_port();
    let server = Server::start(
        BIN,
        Options {
            extra: format!("[portal]\nlisten = \"127.0.0.1:{port}\"\nmax_failed_logins = 3\n"),
            ..Options::default()
        },
    );
    server.cli(&["admin", "add", "root", "--password", "root-pw"]);
    server.cli(&["domain", "add", "other.test"]);
    server.cli(&["user", "add", "eve@other.test", "--password", "eve-pw"]);
    server.cli(&[
        "admin",
        "add",
        "ops",
        "--password",
        "ops-pw",
        "--domain",
        "example.com",
    ]);
    (server, SocketAddr::from(([127, 0, 0, 1], port)))
}

fn logged_in(addr: SocketAddr, name: &str, pw: &str) -> Client {
    let mut c = Client::new(addr);
    let r = c.login(name, pw);
    assert_eq!(r.status, 303, "login of {name}: {}", r.body);
    c
}

#[test]
fn every_page_carries_the_security_headers_and_no_inline_script() {
    let (_server, addr) = portal_server();
    let mut anon = Client::new(addr);
    let login = anon.get("/login");
    let cookie = login.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let mut root = logged_in(addr, "root", "root-pw");
    let mut alice = logged_in(addr, "alice@example.com", &password("alice"));
    let mut pages = vec![
        anon.get("/login"),
        anon.get("/nowhere"),
        anon.get("/static/portal.js"),
    ];
    for p in [
        "/dashboard",
        "/api/live",
        "/domains",
        "/users",
        "/users/alice@example.com",
        "/users/alice@example.com/delete",
        "/aliases",
        "/online",
        "/gateways",
        "/routes",
        "/dialplan?test_domain=example.com&number=0123",
        "/trusted",
        "/classes",
        "/audit",
    ] {
        let r = root.get(p);
        assert_eq!(r.status, 200, "{p}: {}", r.body);
        pages.push(r);
    }
    pages.push(alice.get("/me"));
    for r in &pages {
        let csp = r.header("content-security-policy").unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        assert!(!r.body.contains("<script>"), "inline script:\n{}", r.body);
        assert!(!r.body.contains(" style=\""), "inline style:\n{}", r.body);
    }
}

#[test]
fn a_form_without_its_csrf_token_is_refused() {
    let (server, addr) = portal_server();
    let mut root = logged_in(addr, "root", "root-pw");
    let r = root.post("/domains", &[("domain", "nocsrf.test")]);
    assert_eq!(r.status, 403, "{}", r.body);
    let r = root.post(
        "/domains",
        &[("csrf", "0000"), ("domain", "wrongcsrf.test")],
    );
    assert_eq!(r.status, 403);
    // Another session's token is no better.
    let mut other = logged_in(addr, "root", "root-pw");
    let foreign = other.token("/domains");
    let r = root.post(
        "/domains",
        &[("csrf", &foreign), ("domain", "foreign.test")],
    );
    assert_eq!(r.status, 403);
    let domains = server.cli(&["domain", "list"]);
    assert!(
        !domains.contains("csrf.test") && !domains.contains("foreign.test"),
        "{domains}"
    );
    let token = root.token("/domains");
    let r = root.post("/domains", &[("csrf", &token), ("domain", "ok.test")]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(server.cli(&["domain", "list"]).contains("ok.test"));
    // The login form has its own token.
    let mut anon = Client::new(addr);
    let r = anon.post("/login", &[("name", "root"), ("password", "root-pw")]);
    assert_eq!(r.status, 403);
    assert!(!anon.cookies.contains_key("sb_session"));
}

#[test]
fn a_user_reaches_only_their_own_account() {
    let (server, addr) = portal_server();
    let mut alice = logged_in(addr, "alice@example.com", &password("alice"));
    let me = alice.get("/me");
    assert_eq!(me.status, 200);
    assert!(me.body.contains("alice@example.com"));
    for p in [
        "/users/bob@example.com",
        "/users",
        "/dashboard",
        "/online",
        "/audit",
        "/api/live",
    ] {
        let r = alice.get(p);
        assert!(r.status == 403 || r.status == 404, "{p}: {}", r.status);
        assert!(!r.body.contains("bob@example.com"), "{p} shows bob");
    }
    let token = alice.token("/me");
    let r = alice.post(
        "/users/bob@example.com/forwarding",
        &[("csrf", &token), ("always", "alice@example.com")],
    );
    assert!(r.status == 403 || r.status == 404, "{}", r.status);
    assert!(!server.cli(&["forward", "list"]).contains("alice"));
    // A wrong SIP password does not log in.
    let mut c = Client::new(addr);
    assert_eq!(c.login("bob@example.com", "not-bobs").status, 401);
}

#[test]
fn a_domain_admin_cannot_touch_another_domain() {
    let (server, addr) = portal_server();
    let mut ops = logged_in(addr, "ops", "ops-pw");
    assert_eq!(ops.get("/users/alice@example.com").status, 200);
    assert_eq!(ops.get("/users/eve@other.test").status, 404);
    assert_eq!(ops.get("/users/eve@other.test/delete").status, 404);
    let list = ops.get("/users");
    assert!(list.body.contains("alice@example.com") && !list.body.contains("eve@other.test"));
    let token = ops.token("/users");
    let r = ops.post("/users/eve@other.test/delete", &[("csrf", &token)]);
    assert_eq!(r.status, 404);
    let r = ops.post(
        "/users",
        &[
            ("csrf", &token),
            ("user", "mallory@other.test"),
            ("password", "x"),
        ],
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("not one of yours"), "{}", r.body);
    let r = ops.post(
        "/aliases",
        &[
            ("csrf", &token),
            ("alias", "999@example.com"),
            ("target", "eve@other.test"),
        ],
    );
    assert_eq!(r.status, 400);
    let r = ops.post("/domains/other.test/delete", &[("csrf", &token)]);
    assert_eq!(r.status, 403);
    let users = server.cli(&["user", "list"]);
    assert!(
        users.contains("eve@other.test") && !users.contains("mallory"),
        "{users}"
    );
    assert!(server.cli(&["domain", "list"]).contains("other.test"));
}

#[test]
fn wrong_passwords_are_throttled_per_account_and_per_address() {
    let (server, addr) = portal_server();
    let mut c = Client::new(addr);
    for _ in 0..3 {
        assert_eq!(c.login("root", "guess").status, 401);
    }
    // Over the limit: even the right password is refused, with Retry-After.
    let r = c.login("root", "root-pw");
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
    // From the same address, another account is refused too.
    assert_eq!(c.login("ops", "ops-pw").status, 429);
    assert!(server.log_text().contains("portal login failed"));
}

#[test]
fn admin_actions_are_audited_with_who_and_where() {
    let (_server, addr) = portal_server();
    let mut root = logged_in(addr, "root", "root-pw");
    let token = root.token("/domains");
    assert_eq!(
        root.post("/domains", &[("csrf", &token), ("domain", "audited.test")])
            .status,
        303
    );
    let token = root.token("/users");
    let r = root.post(
        "/users",
        &[
            ("csrf", &token),
            ("user", "dora@audited.test"),
            ("password", "pw"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let audit = root.get("/audit");
    for want in [
        "domain.add",
        "audited.test",
        "user.add",
        "dora@audited.test",
        "root",
        "127.0.0.1",
    ] {
        assert!(audit.body.contains(want), "{want} missing:\n{}", audit.body);
    }
    // Only the admin reads it.
    let mut ops = logged_in(addr, "ops", "ops-pw");
    assert_eq!(ops.get("/audit").status, 403);
}

#[test]
fn the_pstn_pages_are_the_admins_and_dial_plans_stay_in_their_domain() {
    let (server, addr) = portal_server();
    server.cli(&["dialplan", "add", "other.test", "^9(.*)$", "$1"]);
    server.cli(&["dialplan", "add", "example.com", "^8(.*)$", "$1"]);
    // Gateways, routes, trusted peers and classes serve every domain: the admin's only.
    let mut ops = logged_in(addr, "ops", "ops-pw");
    for page in ["/gateways", "/routes", "/trusted", "/classes"] {
        assert_eq!(ops.get(page).status, 403, "{page}");
    }
    let token = ops.token("/dialplan");
    let r = ops.post(
        "/gateways",
        &[("csrf", &token), ("name", "x"), ("address", "127.0.0.1:5")],
    );
    assert_eq!(r.status, 403);
    // Dial plans belong to a domain: ops sees and changes example.com's only.
    let page = ops.get("/dialplan");
    assert!(
        page.body.contains("^8(.*)$") && !page.body.contains("^9(.*)$"),
        "{}",
        page.body
    );
    let r = ops.post(
        "/dialplan",
        &[
            ("csrf", &token),
            ("domain", "other.test"),
            ("pattern", "^7"),
            ("replacement", ""),
        ],
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("not one of yours"), "{}", r.body);
    let r = ops.post(
        "/dialplan/delete",
        &[
            ("csrf", &token),
            ("domain", "other.test"),
            ("pattern", "^9(.*)$"),
        ],
    );
    assert_eq!(r.status, 404);
    assert_eq!(
        ops.get("/dialplan?test_domain=other.test&number=912")
            .status,
        200
    );
    assert!(ops
        .get("/dialplan?test_domain=other.test&number=912")
        .body
        .contains("not one of yours"));
    assert!(server.cli(&["dialplan", "list"]).contains("^9(.*)$"));
    // A user sees none of them; the admin's forms need their token.
    let mut alice = logged_in(addr, "alice@example.com", &password("alice"));
    assert_eq!(alice.get("/dialplan").status, 403);
    let mut root = logged_in(addr, "root", "root-pw");
    let r = root.post("/trusted", &[("cidr", "10.0.0.1")]);
    assert_eq!(r.status, 403);
    let r = root.post("/routes/delete", &[("prefix", "0"), ("domain", "")]);
    assert_eq!(r.status, 403);
    assert!(!server.cli(&["trusted", "list"]).contains("10.0.0.1"));
}
