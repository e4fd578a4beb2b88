//! The portal's admin and self-care forms over plain HTTP against the real binary: the
//! user list's search and paging, CSV import with its per-line report, password resets
//! (the new password is the SIP password: HA1 updated), deletes behind a confirmation,
//! a user's own password change, and the call history (filters, paging, the CSV export,
//! who sees which calls). (Security: portal_security.rs; the browser flows:
//! portal_browser.rs; disabling accounts and CSV file uploads: portal_accounts.rs.)

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;

use testkit::http::Client;
use testkit::open;
use testkit::server::{other_domain_admin, password, with_portal, Options, Server};
use testkit::wait::{wait_until, HANG_GUARD};

/// The server binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn portal_server(extra: &str) -> (Server, SocketAddr) {
    with_portal(BIN, extra, Options::default())
}

/// `name`@example.com signed in with their SIP password.
fn user(addr: SocketAddr, name: &str) -> Client {
    let mut c = Client::new(addr);
    let r = c.login(&format!("{name}@example.com"), &password(name));
    assert_eq!(r.status, 303, "{name} signs in: {}", r.body);
    c
}

#[test]
fn csv_import_reports_each_bad_line_and_adds_the_good_ones() {
    let (server, addr) = portal_server("");
    let mut c = Client::root(addr);
    let token = c.token("/users");
    let csv = "# a comment\n\
               dan@example.com,dan-pw\n\
               no-at-sign,pw\n\
               erin@nowhere.test,pw\n\
               alice@example.com,again\n\
               frank@example.com\n\
               gina@example.com,gina-pw\n";
    let r = c.post("/users/import", &[("csrf", &token), ("csv", csv)]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("Imported: 2"), "{}", r.body);
    for (line, why) in [
        (3, "write it as user@domain"),
        (4, "nowhere.test is not served here"),
        (5, "already exists"),
        (6, "expected user@domain,password"),
    ] {
        assert!(
            r.body.contains(&format!("<td>{line}</td><td>")) && r.body.contains(why),
            "line {line}: {why}\n{}",
            r.body
        );
    }
    let users = server.cli(&["user", "list"]);
    assert!(users.contains("dan@example.com") && users.contains("gina@example.com"));
    assert!(!users.contains("frank"));
    // The imported users log in with their password.
    assert_eq!(
        Client::new(addr)
            .login("gina@example.com", "gina-pw")
            .status,
        303
    );
}

#[test]
fn the_user_list_searches_and_pages() {
    let (server, addr) = portal_server("page_size = 2\n");
    for u in ["amy", "andy", "ann", "zoe"] {
        server.cli(&[
            "user",
            "add",
            &format!("{u}@example.com"),
            "--password",
            "pw",
        ]);
    }
    let mut c = Client::root(addr);
    // example.com: alice amy andy ann bob carol zoe, two a page.
    let p1 = c.get("/users?q=a&domain=example.com");
    assert!(p1.body.contains("alice@example.com") && p1.body.contains("amy@example.com"));
    assert!(!p1.body.contains("andy@example.com"));
    let next = "/users?q=a&domain=example.com&after=amy%40example.com";
    assert!(p1.body.contains("after=amy%40example.com"), "{}", p1.body);
    let p2 = c.get(next);
    assert!(p2.body.contains("andy@example.com") && p2.body.contains("ann@example.com"));
    assert!(!p2.body.contains(">alice@example.com<") && !p2.body.contains("zoe@"));
    let p3 = c.get("/users?q=a&domain=example.com&after=ann%40example.com");
    assert!(
        p3.body.contains("<td colspan=\"2\">None</td>"),
        "{}",
        p3.body
    );
}

#[test]
fn a_password_reset_is_the_new_sip_password() {
    let (server, addr) = portal_server("");
    let mut c = Client::root(addr);
    let token = c.token("/users/bob@example.com");
    let r = c.post(
        "/users/bob@example.com/password",
        &[("csrf", &token), ("password", "")],
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("password: must not be empty"), "{}", r.body);
    let r = c.post(
        "/users/bob@example.com/password",
        &[("csrf", &token), ("password", "bob-new")],
    );
    assert_eq!(r.status, 303);
    assert_eq!(
        Client::new(addr)
            .login("bob@example.com", &password("bob"))
            .status,
        401
    );
    assert_eq!(
        Client::new(addr).login("bob@example.com", "bob-new").status,
        303
    );
    // The user changes it again themselves; the current one is asked first.
    let mut bob = Client::new(addr);
    bob.login("bob@example.com", "bob-new");
    let token = bob.token("/me");
    let r = bob.post(
        "/me/password",
        &[("csrf", &token), ("current", "wrong"), ("password", "x")],
    );
    assert_eq!(r.status, 400);
    let r = bob.post(
        "/me/password",
        &[
            ("csrf", &token),
            ("current", "bob-new"),
            ("password", "bob-third"),
        ],
    );
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Password changed."));
    assert_eq!(
        Client::new(addr)
            .login("bob@example.com", "bob-third")
            .status,
        303
    );
    assert!(server.log_text().contains("portal action"));
}

#[test]
fn deleting_asks_first_then_deletes() {
    let (server, addr) = portal_server("");
    server.cli(&["alias", "add", "700@example.com", "carol@example.com"]);
    let mut c = Client::root(addr);
    let confirm = c.get("/users/carol@example.com/delete");
    assert_eq!(confirm.status, 200);
    assert!(
        confirm.body.contains("Really delete carol@example.com?"),
        "{}",
        confirm.body
    );
    assert!(server.cli(&["user", "list"]).contains("carol@example.com"));
    let token = confirm.csrf().unwrap();
    assert_eq!(
        c.post("/users/carol@example.com/delete", &[("csrf", &token)])
            .status,
        303
    );
    assert!(!server.cli(&["user", "list"]).contains("carol@example.com"));
    // Her alias went with her, and a second delete finds nothing.
    assert!(!server.cli(&["alias", "list"]).contains("700@example.com"));
    assert_eq!(
        c.post("/users/carol@example.com/delete", &[("csrf", &token)])
            .status,
        404
    );
}

#[test]
fn the_browser_language_chooses_the_pages_language() {
    let (_server, addr) = portal_server("");
    let mut c = Client::new(addr);
    c.accept_language = Some("zh-CN,zh;q=0.9,en;q=0.5".into());
    let r = c.get("/login");
    assert!(r.body.contains("<html lang=\"zh-CN\">") && r.body.contains("登录"));
    c.get("/lang/en");
    let r = c.get("/login");
    assert!(r.body.contains("<html lang=\"en\">") && r.body.contains("Log in"));
}

#[test]
fn a_user_sets_find_me_and_screening_and_errors_name_the_line() {
    let (server, addr) = portal_server("");
    let mut alice = user(addr, "alice");
    let token = alice.token("/me");
    let r = alice.post(
        "/me/lists",
        &[
            ("csrf", &token),
            ("findme", "bob@example.com,15\ncarol@example.com,20"),
            ("screen_in", "@spam.example\n+1900*"),
            ("screen_out", "anonymous"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Saved."));
    let findme = server.cli(&["findme", "list"]);
    assert!(
        findme.contains("bob@example.com") && findme.contains("carol@example.com"),
        "{findme}"
    );
    let screen = server.cli(&["screen", "list"]);
    for p in ["@spam.example", "+1900*", "anonymous"] {
        assert!(screen.contains(p), "{p}: {screen}");
    }
    // One pattern removed, one bad target: the error sits by its field, the rest saved.
    let r = alice.post(
        "/me/lists",
        &[
            ("csrf", &token),
            ("findme", "nobody@example.com,15"),
            ("screen_in", "@spam.example"),
            ("screen_out", "anonymous"),
        ],
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("id=\"findme-error\""), "{}", r.body);
    assert!(
        r.body.contains("nobody@example.com"),
        "the typed value is kept"
    );
    assert!(!server.cli(&["screen", "list"]).contains("+1900"));
    assert!(server.cli(&["findme", "list"]).contains("bob@example.com"));
}

/// The `href` of the link with `rel` in `body`, unescaped.
fn link(body: &str, rel: &str) -> Option<String> {
    let at = body.find(&format!("rel=\"{rel}\""))?;
    let start = body[..at].rfind("href=\"")? + 6;
    let end = start + body[start..].find('"')?;
    Some(
        body[start..end]
            .replace("&amp;", "&")
            .replace("&#x2f;", "/"),
    )
}

#[test]
fn the_call_history_filters_pages_and_exports_like_the_cli() {
    let (server, addr) = portal_server("page_size = 1\n");
    other_domain_admin(&server);
    // Alice calls Bob twice: answered, then busy.
    for (bob, alice) in [
        ("uas-answer-200.xml", "uac-invite-expect-200.xml"),
        ("uas-answer-486.xml", "uac-invite-expect-486.xml"),
    ] {
        server.cli(&["location", "clear", "bob@example.com"]);
        let b = open::phone(&server, "bob", bob).1.spawn();
        open::caller(&server, "alice", alice, "bob")
            .run()
            .assert_ok("alice");
        b.wait().assert_ok("bob");
    }
    wait_until("two ended call records", HANG_GUARD, || {
        let out = server.cli(&["--json", "cdr", "list"]);
        let all: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        let all = all.as_array().unwrap();
        all.len() == 2 && all.iter().all(|r| !r["ended"].is_null())
    });

    // Newest first, one a page: the busy call, then (older) the answered one.
    let mut c = Client::root(addr);
    let p1 = c.get("/calls");
    assert_eq!(p1.status, 200);
    assert!(p1.body.contains("<td class=\"failed\">486"), "{}", p1.body);
    assert!(!p1.body.contains("<td class=\"ok\">200"), "{}", p1.body);
    let older = link(&p1.body, "next").expect("an older page");
    let p2 = c.get(&older);
    assert!(p2.body.contains("<td class=\"ok\">200"), "{}", p2.body);
    assert!(
        p2.body.contains("<td>caller</td>"),
        "who hung up: {}",
        p2.body
    );
    assert!(link(&p2.body, "next").is_none(), "{}", p2.body);
    // Filters: by status, and a bad one answered next to its field.
    let ok = c.get("/calls?status=200&user=bob%40example.com");
    assert!(ok.body.contains("<td class=\"ok\">200") && !ok.body.contains("class=\"failed\""));
    let bad = c.get("/calls?since=soon");
    assert_eq!(bad.status, 400);
    assert!(
        bad.body
            .contains("id=\"since-error\">&quot;soon&quot; is not a time"),
        "{}",
        bad.body
    );
    // The CSV is the CLI's export, byte for byte.
    let csv = c.get("/calls.csv");
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let cli = server.cli(&["cdr", "export", "--csv", "-"]);
    assert_eq!(csv.body, cli);
    assert_eq!(csv.body.matches("\r\n").count(), 3, "{}", csv.body);

    // A domain admin of another domain sees none of them.
    let mut ops = Client::new(addr);
    assert_eq!(ops.login("ops", "ops-pw").status, 303);
    let theirs = ops.get("/calls");
    assert!(
        theirs.body.contains("<td colspan=\"7\">None</td>"),
        "{}",
        theirs.body
    );
    assert_eq!(ops.get("/calls.csv").body.matches("\r\n").count(), 1);

    // Bob sees his own calls, never anyone else's, whatever the URL asks.
    let mut bob = user(addr, "bob");
    assert_eq!(bob.get("/calls").status, 403);
    let mine = bob.get("/me/calls?user=carol%40example.com&status=486");
    assert!(
        mine.body.contains("<td class=\"failed\">486"),
        "{}",
        mine.body
    );
    assert_eq!(bob.get("/me/calls.csv").body.matches("\r\n").count(), 3);
    let mut carol = user(addr, "carol");
    assert_eq!(carol.get("/me/calls.csv").body.matches("\r\n").count(), 1);
}

#[test]
fn click_to_dial_answers_a_bad_number_or_no_phone_next_to_the_field() {
    let (_server, addr) = portal_server("");
    let mut alice = user(addr, "alice");
    let token = alice.token("/me/dial");
    let r = alice.post("/me/dial", &[("csrf", &token), ("number", "bob>;x")]);
    assert_eq!(r.status, 400);
    assert!(
        r.body
            .contains("id=\"number-error\">&quot;bob&gt;;x&quot; is not a number"),
        "{}",
        r.body
    );
    let r = alice.post("/me/dial", &[("csrf", &token), ("number", "bob")]);
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("No phone of yours is registered."),
        "{}",
        r.body
    );
    assert_eq!(alice.post("/me/dial", &[("number", "bob")]).status, 403);
    // No attempt is anyone's to look at by number; staff have no phone to dial from.
    assert_eq!(alice.get("/me/dial/1").status, 404);
    assert_eq!(Client::root(addr).get("/me/dial").status, 403);
}

/// A WAV file of `secs` seconds of a 440 Hz tone, 16 kHz stereo 16-bit.
fn stereo_16k_wav(secs: u32) -> Vec<u8> {
    let frames = 16_000 * secs;
    let data_len = frames * 4;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // PCM
    b.extend_from_slice(&2u16.to_le_bytes()); // stereo
    b.extend_from_slice(&16_000u32.to_le_bytes());
    b.extend_from_slice(&64_000u32.to_le_bytes());
    b.extend_from_slice(&4u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        let s = ((f64::from(i) * 440.0 * std::f64::consts::TAU / 16_000.0).sin() * 8000.0) as i16;
        b.extend_from_slice(&s.to_le_bytes());
        b.extend_from_slice(&s.to_le_bytes());
    }
    b
}

#[test]
fn a_user_sets_their_voicemail_pin_and_uploads_a_greeting() {
    let (server, addr) = portal_server("");
    server.cli(&["voicemail", "enable", "bob@example.com", "--pin", "1234"]);
    let mut bob = user(addr, "bob");
    let page = bob.get("/me/voicemail");
    assert!(page.body.contains("Voicemail is on."), "{}", page.body);
    assert!(page.body.contains("The default greeting plays."));
    let token = page.csrf().unwrap();

    // The PIN: typed twice, digits only.
    let pin = |c: &mut Client, a: &str, b: &str| {
        c.post(
            "/me/voicemail/pin",
            &[("csrf", &token), ("pin", a), ("pin2", b)],
        )
    };
    let r = pin(&mut bob, "4321", "4322");
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("id=\"pin2-error\">The two PINs differ."),
        "{}",
        r.body
    );
    let r = pin(&mut bob, "43x1", "43x1");
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("id=\"pin-error\">") && r.body.contains("digits"),
        "{}",
        r.body
    );
    let r = pin(&mut bob, "4321", "4321");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Saved."));

    // A greeting: not a WAV file is refused next to the field; a 16 kHz stereo one is
    // converted to 8 kHz mono and becomes the mailbox's greeting.
    let r = bob.post_multipart(
        "/me/voicemail/greeting",
        &[("csrf", &token)],
        ("greeting", "notes.txt", b"hello, not audio"),
    );
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("id=\"greeting-error\">not a WAV file"),
        "{}",
        r.body
    );
    let wav = stereo_16k_wav(2);
    assert_eq!(
        bob.post_multipart("/me/voicemail/greeting", &[], ("greeting", "g.wav", &wav))
            .status,
        403,
        "no CSRF token"
    );
    let r = bob.post_multipart(
        "/me/voicemail/greeting",
        &[("csrf", &token)],
        ("greeting", "g.wav", &wav),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Greeting saved.") && r.body.contains("Your own greeting plays."));
    let list: serde_json::Value =
        serde_json::from_str(&server.cli(&["--json", "voicemail", "list", "bob@example.com"]))
            .unwrap();
    let file = list["greeting"].as_str().expect("a greeting").to_string();
    let stored = std::fs::read(&file).unwrap();
    assert_eq!(&stored[..4], b"RIFF");
    assert_eq!(u16::from_le_bytes([stored[22], stored[23]]), 1, "mono");
    assert_eq!(
        u32::from_le_bytes([stored[24], stored[25], stored[26], stored[27]]),
        8000
    );
    // Back to the default prompt.
    let r = bob.post("/me/voicemail/greeting/default", &[("csrf", &token)]);
    assert_eq!(r.status, 303);
    assert!(bob
        .get("/me/voicemail")
        .body
        .contains("The default greeting plays."));

    // Carol has no mailbox: told so; nobody reaches another mailbox's message by number.
    let mut carol = user(addr, "carol");
    assert!(carol
        .get("/me/voicemail")
        .body
        .contains("You have no mailbox"));
    assert_eq!(carol.get("/me/voicemail/1/audio").status, 404);
    assert_eq!(Client::root(addr).get("/me/voicemail").status, 403);
}
