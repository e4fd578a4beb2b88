//! The web portal in a real headless Chromium (Debian's chromium through chromedriver),
//! against the real binary and real SIPp phones: an admin logs in, adds a domain, a user
//! and a DID; the user's phone registers and shows on the online page; the user logs in
//! with their SIP password, sets forwarding, and a call to their DID follows it; the call
//! then shows in the admin's call history. The PSTN pages: the admin adds a gateway (a
//! SIPp UAS), a route and a dial-plan rule, tests the rule on its form, and a SIPp phone's
//! call reaches the gateway with the rewritten number; the portal's sessions and logins
//! are read on the Prometheus endpoint. The tests
//! write the screenshots in docs/portal/, so the documentation shows the pages as they
//! are.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use testkit::audio;
use testkit::browser::Browser;
use testkit::open::{caller, phone, register};
use testkit::ports::free_port;
use testkit::rtp_peer::RtpPeer;
use testkit::server::{password, Options, Server};
use testkit::sip_phone::SipPhone;
use testkit::sipp::{headers, Sipp};
use testkit::wait::{wait_until, HANG_GUARD};

/// The server binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn shots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/portal")
}

fn server_with_portal() -> (Server, String) {
    let port = free_port();
    let server = Server::start(
        BIN,
        Options {
            extra: format!("[portal]\nlisten = \"127.0.0.1:{port}\"\n"),
            ..Options::default()
        },
    );
    server.cli(&["admin", "add", "root", "--password", "root-pw"]);
    (server, format!("http://127.0.0.1:{port}"))
}

fn log_in(b: &Browser, name: &str, password: &str) {
    b.open("/login");
    b.fill("#name", name);
    b.fill("#password", password);
    b.click("#login-submit");
}

#[test]
fn an_admin_provisions_and_the_user_forwards_their_calls() {
    let (server, base) = server_with_portal();
    let b = Browser::start(&base, 1280, 900);
    let shots = shots();

    // The admin logs in and lands on the dashboard.
    b.open("/login");
    b.screenshot(&shots.join("login.png"));
    log_in(&b, "root", "root-pw");
    assert_eq!(b.path(), "/dashboard");

    // A domain, a user, a DID.
    b.open("/domains");
    b.fill("#domain", "branch.example");
    b.click("#add-domain");
    b.wait_for_text("branch.example");
    b.screenshot(&shots.join("domains.png"));
    assert!(server.cli(&["domain", "list"]).contains("branch.example"));

    b.open("/users");
    b.fill("#user", "dave@example.com");
    b.fill("#password", "dave-pw");
    b.click("#add-user");
    assert_eq!(b.path(), "/users/dave@example.com");
    assert!(server.cli(&["user", "list"]).contains("dave@example.com"));

    b.open("/aliases");
    b.fill("#alias", "5551234@example.com");
    b.fill("#target", "dave@example.com");
    b.click("#add-alias");
    b.wait_for_text("5551234@example.com");
    b.screenshot(&shots.join("aliases.png"));
    b.open("/users");
    b.screenshot(&shots.join("users.png"));

    // A CSV file uploaded: the progress bar fills, then the per-line report.
    let csv = tempfile::NamedTempFile::new().unwrap();
    let mut lines = String::new();
    for i in 0..300 {
        lines.push_str(&format!("staff{i:03}@example.com,pw-{i}\n"));
    }
    lines.push_str("not a line\n");
    std::fs::write(csv.path(), lines).unwrap();
    b.choose_file("#csv-file", csv.path());
    b.click("#upload-users");
    assert!(b.path().starts_with("/users/import/"), "{}", b.path());
    b.wait_for_text("id=\"import-done\"");
    assert_eq!(
        b.eval("return document.getElementById('import-progress').value;"),
        serde_json::json!(301)
    );
    let report = b.text("#import-report");
    assert!(
        report.contains("301") && report.contains("expected user@domain,password"),
        "{report}"
    );
    b.screenshot(&shots.join("import.png"));
    assert!(server
        .cli(&["user", "list"])
        .contains("staff299@example.com"));

    // Dave's phone registers (SIPp) and shows on the online page and the dashboard.
    let dave_port = free_port();
    register(&server, "dave", dave_port, 60);
    b.open("/dashboard");
    assert_eq!(b.text("#registered"), "1");
    b.screenshot(&shots.join("dashboard.png"));
    b.open("/online");
    let online = b.text("#online-list");
    assert!(online.contains("dave@example.com"), "{online}");
    assert!(
        online.contains(&format!("127.0.0.1:{dave_port}")),
        "{online}"
    );
    b.screenshot(&shots.join("online.png"));

    // The admin unregisters the phone: gone from the page and from the server.
    b.click("#online-list button");
    assert!(!b.text("#online-list").contains("dave@example.com"));
    assert!(!server
        .cli(&["location", "list"])
        .contains("dave@example.com"));

    // Dave, in his own session, forwards every call to Carol.
    b.forget_cookies();
    log_in(&b, "dave@example.com", "dave-pw");
    assert_eq!(b.path(), "/me");
    b.fill("#fwd-always", "carol@example.com");
    b.click("#save-forwarding");
    b.wait_for_text("Saved.");
    b.screenshot(&shots.join("me.png"));

    // Alice calls Dave's DID: the call reaches Carol, with Dave in History-Info.
    let (_, carol) = phone(&server, "carol", "uas-answer-200.xml");
    let carol = carol.spawn();
    let a = caller(
        &server,
        "alice",
        "uac-invite-forwarded-expect-200.xml",
        "5551234",
    )
    .run();
    a.assert_ok("caller");
    let carol = carol.wait();
    carol.assert_ok("forwarding target");
    let invite = &carol.find(false, "INVITE")[0];
    let history = headers(invite, "History-Info").join(", ");
    assert!(history.contains("dave@example.com"), "{invite}");

    // The same page in Simplified Chinese, chosen with the switch.
    b.open("/lang/zh");
    b.open("/me");
    assert!(b.source().contains("呼叫转移"));
    b.screenshot(&shots.join("me-zh.png"));

    // The admin finds the forwarded call in the call history: answered (200), its DID
    // dialled, Carol its final target.
    b.open("/lang/en");
    b.forget_cookies();
    log_in(&b, "root", "root-pw");
    let mut history = String::new();
    wait_until("the forwarded call in the history", HANG_GUARD, || {
        b.open("/calls");
        history = b.text("#call-list");
        history.contains("sip:carol@example.com")
    });
    let row = history
        .lines()
        .find(|l| l.contains("sip:5551234@example.com"))
        .unwrap_or_else(|| panic!("{history}"));
    assert!(
        row.contains("sip:carol@example.com") && row.contains("200"),
        "{row}"
    );
    b.screenshot(&shots.join("calls.png"));

    // Dave finds it in his own history too: the call to his DID he forwarded away.
    b.forget_cookies();
    log_in(&b, "dave@example.com", "dave-pw");
    b.open("/me/calls");
    let mine = b.text("#call-list");
    assert!(
        mine.contains("sip:5551234@example.com") && mine.contains("sip:carol@example.com"),
        "{mine}"
    );
}

#[test]
fn click_to_dial_refers_the_users_phone_which_places_the_call() {
    let (server, base) = server_with_portal();
    let b = Browser::start(&base, 1280, 900);
    // Alice's desk phone takes the REFER; Bob's answers the call it places. Alice has a
    // second phone, registered last (so the first the server would pick): a socket that
    // must hear nothing, because she chooses the desk phone on the page.
    let (desk, alice_phone) = phone(&server, "alice", "uas-refer-norefersub-202.xml");
    let alice_phone = alice_phone.spawn();
    let (_, bob) = phone(&server, "bob", "uas-answer-200.xml");
    let bob = bob.spawn();
    let other = free_port();
    register(&server, "alice", other, 60);
    let mut other_phone = None;
    wait_until("the second phone's port to be free", HANG_GUARD, || {
        other_phone = std::net::UdpSocket::bind(("127.0.0.1", other)).ok();
        other_phone.is_some()
    });
    let other_phone = other_phone.unwrap();
    other_phone.set_nonblocking(true).unwrap();

    log_in(&b, "alice@example.com", &password("alice"));
    b.open("/me/dial");
    let phones = b.text("#dial-phones");
    assert!(
        phones.contains(&format!(":{desk}")) && phones.contains(&format!(":{other}")),
        "{phones}"
    );
    b.fill("#dial-number", "bob");
    b.eval(&format!(
        "document.querySelector('#dial-phones input[value*=\":{desk}\"]').click(); return null;"
    ));
    b.click("#dial-submit");
    assert!(b.path().starts_with("/me/dial/"), "{}", b.path());
    // The phone got the REFER (Refer-Sub: false, Refer-To Bob: the scenario checks them)
    // and accepted it; the page says so.
    let refer = alice_phone.wait();
    refer.assert_ok("alice's phone taking the REFER");
    let msg = &refer.find(false, "REFER")[0];
    assert_eq!(headers(msg, "Refer-Sub"), ["false"], "{msg}");
    assert_eq!(headers(msg, "Refer-To"), ["<sip:bob@example.com>"], "{msg}");
    b.wait_for_text("Your phone accepted");
    let mut buf = [0u8; 2048];
    assert!(
        other_phone.recv(&mut buf).is_err(),
        "the phone not chosen got a request"
    );
    b.screenshot(&shots().join("dial.png"));

    // The phone places the call to the Refer-To target; Bob answers; the page follows it.
    caller(&server, "alice", "uac-invite-expect-200.xml", "bob")
        .run()
        .assert_ok("alice's call");
    bob.wait().assert_ok("bob answering");
    b.wait_for_text("The call ended");
}

#[test]
fn a_deposited_voicemail_message_is_listed_and_its_audio_url_serves_the_wav() {
    let prompts = tempfile::tempdir().unwrap();
    audio::write_test_prompts(prompts.path(), &services::VOICEMAIL_PROMPTS, 1500);
    let port = free_port();
    let services_port = free_port();
    let rtp = 30000 + (std::process::id() % 300) as u16 * 20;
    let server = Server::start(
        BIN,
        Options {
            extra: format!(
                "[portal]\nlisten = \"127.0.0.1:{port}\"\n\n\
                 [media]\nenabled = true\nservice_listen = \"127.0.0.1:{services_port}\"\n\
                 bind_address = \"127.0.0.1\"\nrtp_ports = \"{rtp}-{}\"\n\n\
                 [voicemail]\nprompts_dir = {:?}\n",
                rtp + 19,
                prompts.path().display().to_string()
            ),
            ..Options::default()
        },
    );
    server.cli(&["voicemail", "enable", "bob@example.com", "--pin", "1234"]);

    // Alice calls Bob, who has no phone: voicemail answers; she leaves a second of tone.
    let mut peer = RtpPeer::bind();
    let mut alice = SipPhone::new(server.socket_addr(), "alice");
    let ok = alice.invite("sip:bob@example.com", &SipPhone::pcmu_offer(peer.addr()));
    assert_eq!(ok.status(), 200, "{}", ok.text);
    let media = ok.sdp_rtp_addr().unwrap();
    // The greeting (1.5 s), then the beep (400 ms): recording runs.
    wait_until("the greeting and the beep", HANG_GUARD, || {
        let h = peer.heard();
        let first = h.samples.iter().position(|s| s.unsigned_abs() > 200);
        first.is_some_and(|f| h.samples.len() >= f + 2000 * 8)
    });
    peer.send_audio(media, &audio::tone(1000.0, 1000, 8000.0));
    assert_eq!(alice.bye(), 200);
    wait_until("the message", HANG_GUARD, || {
        server
            .cli(&["voicemail", "list", "bob@example.com"])
            .contains("sip:alice@example.com")
    });

    // Bob finds it on his voicemail page, with an audio element whose URL serves the WAV.
    let b = Browser::start(&format!("http://127.0.0.1:{port}"), 1280, 900);
    log_in(&b, "bob@example.com", &password("bob"));
    b.open("/me/voicemail");
    let list = b.text("#vm-messages");
    assert!(list.contains("sip:alice@example.com"), "{list}");
    let head = b.eval(
        "return fetch(document.querySelector('#vm-messages audio').src)\
         .then(function (r) { return r.arrayBuffer(); })\
         .then(function (b) { return Array.from(new Uint8Array(b.slice(0, 44))); });",
    );
    let head: Vec<u8> = head
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u8)
        .collect();
    assert_eq!(&head[..4], b"RIFF", "{head:?}");
    assert_eq!(&head[8..12], b"WAVE", "{head:?}");
    assert_eq!(
        u32::from_le_bytes([head[24], head[25], head[26], head[27]]),
        8000,
        "8 kHz"
    );
    b.screenshot(&shots().join("voicemail.png"));

    // Alice's session does not reach Bob's message.
    let src = b.eval("return document.querySelector('#vm-messages audio').getAttribute('src');");
    let mut other = testkit::http::Client::new(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    assert_eq!(
        other.login("alice@example.com", &password("alice")).status,
        303
    );
    assert_eq!(other.get(src.as_str().unwrap()).status, 404);

    // Bob deletes it, after a confirmation: gone from the page and the mailbox.
    b.click("#vm-messages a.delete");
    b.wait_for_text("Really delete the message from sip:alice@example.com");
    b.click("#confirm-delete");
    b.wait_for_text("<td colspan=\"5\">None</td>");
    assert!(!server
        .cli(&["voicemail", "list", "bob@example.com"])
        .contains("sip:alice@example.com"));
}

#[test]
fn the_pages_fit_a_phone_sized_screen() {
    let (_server, base) = server_with_portal();
    let b = Browser::start(&base, 390, 844);
    log_in(&b, "root", "root-pw");
    for page in [
        "/dashboard",
        "/users",
        "/users/alice@example.com",
        "/aliases",
        "/online",
        "/calls",
        "/gateways",
        "/routes",
        "/dialplan",
        "/trusted",
        "/classes",
    ] {
        b.open(page);
        // Nothing wider than the screen: the page does not scroll sideways.
        let fits = b.eval("return document.documentElement.scrollWidth <= window.innerWidth;");
        assert_eq!(
            fits,
            serde_json::Value::Bool(true),
            "{page} is wider than a phone"
        );
    }
    b.open("/users");
    b.screenshot(&shots().join("users-phone.png"));
}

/// The value of metric `name` (its whole name, labels included) on `page`.
fn metric(page: &str, name: &str) -> u64 {
    page.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in:\n{page}"))
}

#[test]
fn an_admin_sets_up_a_gateway_route_and_dial_plan_and_a_call_goes_out() {
    let port = free_port();
    let metrics = free_port();
    let server = Server::start(
        BIN,
        Options {
            extra: format!(
                "[portal]\nlisten = \"127.0.0.1:{port}\"\n[metrics]\nlisten = \"127.0.0.1:{metrics}\"\n"
            ),
            ..Options::default()
        },
    );
    server.cli(&["admin", "add", "root", "--password", "root-pw"]);
    let b = Browser::start(&format!("http://127.0.0.1:{port}"), 1280, 900);
    let shots = shots();

    // One wrong password, then the right one: both counted, one session held.
    log_in(&b, "root", "wrong");
    log_in(&b, "root", "root-pw");
    assert_eq!(b.path(), "/dashboard");
    let page = testkit::http::metrics_page(metrics);
    assert_eq!(metric(&page, "switchboard_portal_sessions"), 1, "{page}");
    assert_eq!(metric(&page, "switchboard_portal_logins_total"), 1);
    assert_eq!(metric(&page, "switchboard_portal_login_failures_total"), 1);

    // A gateway: a bad address is answered next to its field, then the right one.
    let gw_port = free_port();
    b.open("/gateways");
    b.fill("#name", "carrier");
    b.fill("#address", "carrier.example:5060");
    b.fill("#probe", "0");
    b.click("#add-gateway");
    assert!(b.text("#address-error").contains("IP:PORT"));
    b.fill("#address", &format!("127.0.0.1:{gw_port}"));
    b.click("#add-gateway");
    assert_eq!(b.path(), "/gateways");
    let list = b.text("#gateway-list");
    assert!(list.contains(&format!("127.0.0.1:{gw_port}")), "{list}");
    assert!(server.cli(&["gateway", "list"]).contains("carrier"));
    // Edited in place: a bad port is answered next to its field, then the prefix changes
    // (and back: the call below expects none).
    b.open("/gateways/carrier/edit");
    b.fill("#address", "127.0.0.1:port");
    b.click("#save-gateway");
    assert!(b.text("#address-error").contains("IP:PORT"));
    b.fill("#address", &format!("127.0.0.1:{gw_port}"));
    // A bad certificate pin is answered next to its field.
    b.fill("#tls_verify", "pin:12:34:zz");
    b.click("#save-gateway");
    let said = b.text("#tls_verify-error");
    assert!(
        said.contains("tls_verify") && said.contains("hex"),
        "{said}"
    );
    b.fill("#tls_verify", "verify");
    b.fill("#prefix", "99");
    b.click("#save-gateway");
    assert_eq!(b.path(), "/gateways");
    let prefix = || {
        let listed = server.cli(&["--json", "gateway", "list"]);
        let all: Vec<serde_json::Value> = serde_json::from_str(listed.trim()).unwrap();
        all[0]["prefix"].as_str().unwrap().to_string()
    };
    assert_eq!(prefix(), "99");
    // The CLI's `gateway set` is the same use case.
    server.cli(&[
        "gateway",
        "set",
        "carrier",
        &format!("127.0.0.1:{gw_port}"),
        "--probe",
        "0",
    ]);
    assert_eq!(prefix(), "");

    // A route for +49 through it; a dial-plan rule making 0... national numbers +49...
    b.open("/routes");
    b.fill("#prefix", "+49");
    b.fill("#gateways", "nowhere");
    b.click("#add-route");
    assert!(b.text("#gateways-error").contains("nowhere"));
    b.fill("#gateways", "carrier");
    b.click("#add-route");
    assert_eq!(b.path(), "/routes");
    assert!(b.text("#route-list").contains("carrier"));
    b.screenshot(&shots.join("routes.png"));
    assert!(server.cli(&["route", "list"]).contains("+49"));

    b.open("/dialplan");
    b.fill("#domain", "example.com");
    b.fill("#pattern", "^0([1-9][0-9]+)$");
    b.fill("#replacement", "+49$1");
    b.click("#add-rule");
    assert_eq!(b.path(), "/dialplan");
    assert!(b.text("#dialplan-list").contains("+49$1"));
    // The test form shows the rewritten number.
    b.fill("#test_domain", "example.com");
    b.fill("#number", "0301234567");
    b.click("#test-dialplan");
    assert_eq!(b.text("#dialplan-out"), "+49301234567");
    b.screenshot(&shots.join("dialplan.png"));

    // A trusted peer, listed, then deleted after a confirmation.
    b.open("/trusted");
    b.fill("#cidr", "127.0.0.9");
    b.fill("#gateway", "carrier");
    b.click("#add-trusted");
    assert!(b.text("#trusted-list").contains("127.0.0.9/32"));
    b.screenshot(&shots.join("trusted.png"));
    b.click("#trusted-list a");
    b.wait_for_text("Really delete 127.0.0.9/32");
    b.click("#confirm-delete");
    assert_eq!(b.path(), "/trusted");
    assert!(!b.text("#trusted-list").contains("127.0.0.9"));

    // Bob's class: international; the lookup shows it.
    b.open("/classes");
    b.fill("#user", "bob@example.com");
    b.eval("document.getElementById('class').value = 'international'; return null;");
    b.click("#set-class");
    assert!(b
        .text("#class-saved")
        .contains("bob@example.com: international"));
    b.open("/classes?user=bob@example.com");
    assert_eq!(
        b.eval("return document.getElementById('class').value;"),
        serde_json::json!("international")
    );
    b.screenshot(&shots.join("classes.png"));

    // Alice dials 0301234567: the gateway gets the INVITE for +49301234567.
    let gw = Sipp::new(&server, "gw-200", "uas-answer-200.xml", gw_port)
        .service("gw")
        .spawn();
    let call = caller(&server, "alice", "uac-invite-expect-200.xml", "0301234567").run();
    call.assert_ok("alice's call to the gateway");
    let gw = gw.wait();
    gw.assert_ok("the gateway answering");
    let invite = &gw.find(false, "INVITE")[0];
    assert!(
        invite.starts_with(&format!(
            "INVITE sip:+49301234567@127.0.0.1:{gw_port} SIP/2.0"
        )),
        "{invite}"
    );

    // The gateway's calls show on its page; a gateway a route uses is not deleted.
    b.open("/gateways");
    assert_eq!(b.text("#gateway-list .state-up"), "up");
    let row = b.text("#gateway-list tbody tr");
    assert!(row.contains("not probed"), "{row}");
    b.screenshot(&shots.join("gateways.png"));
    b.open("/dashboard");
    let health = b.text("#gateway-health tbody");
    assert!(
        health.contains("carrier") && health.contains("up"),
        "{health}"
    );
    b.open("/gateways/carrier/delete");
    b.click("#confirm-delete");
    assert!(b.text("#delete-error").contains("route"));
    assert!(server.cli(&["gateway", "list"]).contains("carrier"));

    // The call in the history, answered, to the gateway's rewritten number.
    let mut history = String::new();
    wait_until("the gateway call in the history", HANG_GUARD, || {
        b.open("/calls");
        history = b.text("#call-list");
        history.contains("+49301234567")
    });
    let row = history
        .lines()
        .find(|l| l.contains("+49301234567"))
        .unwrap_or_else(|| panic!("{history}"));
    assert!(row.contains("200") && row.contains("alice"), "{row}");

    // Every change is in the audit log.
    b.open("/audit");
    let audit = b.source();
    for action in [
        "gateway.add",
        "route.add",
        "dialplan.add",
        "trusted.delete",
        "class.set",
    ] {
        assert!(audit.contains(action), "{action} missing");
    }

    // Logging out ends the session: the gauge follows.
    b.click("form[action='/logout'] button");
    let page = testkit::http::metrics_page(metrics);
    assert_eq!(metric(&page, "switchboard_portal_sessions"), 0, "{page}");
}
