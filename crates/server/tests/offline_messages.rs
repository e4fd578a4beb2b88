//! Instant messages for offline users (RFC 3428, issue 17; docs/messages.md), end to end on
//! the real binary with SIPp phones and digest authentication, on SQLite, MariaDB and
//! PostgreSQL (the latter two when `eval "$(scripts/dbs.sh)"` set their URLs).
//!
//! ```text
//! Alice                   Switchboard                       Bob (offline, then online)
//!   | MESSAGE bob "one" / 407 / MESSAGE with credentials |
//!   |------------------------>| stored                    |
//!   | 202 Accepted            |                           |
//!   |<------------------------|   (twice more: "two", "three")
//!   |                         | (OPTIONS: the test's cue) |
//!   |                         | REGISTER / 401 / REGISTER |
//!   |                         |<--------------------------|
//!   |                         | 200                       |
//!   |                         |-------------------------->|
//!   |                         | MESSAGE "one" (From alice, Date) / 200, deleted
//!   |                         | MESSAGE "two" / 200, MESSAGE "three" / 200
//!   |                         |<------------------------->|
//!   |                         | REGISTER again: nothing   |
//!   | MESSAGE bob (online) -> routed to the phone, 200    |
//! ```
#![allow(clippy::unwrap_used)]

use testkit::database::TempDatabase;
use testkit::digest;
use testkit::ports::free_port;
use testkit::server::{password, Options, Server};
use testkit::sipp::{header, SippResult};
use testkit::udp::RawUdp;
use testkit::wait::{wait_until, HANG_GUARD};

/// The server binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

const TEXTS: [&str; 3] = ["Message one", "Message two", "Message three"];

/// Alice sends `text` to `to` with her credentials, expecting `status`.
fn alice_sends(server: &Server, name: &str, to: &str, text: &str, status: u16) {
    let a = server
        .sipp(
            name,
            &format!("uac-message-auth-expect-{status}.xml"),
            free_port(),
        )
        .service(to)
        .key("caller", "alice")
        .key("text", text)
        .credentials("alice", &password("alice"))
        .run();
    a.assert_ok(name);
    // Unauthenticated first: challenged as an INVITE would be.
    assert_eq!(
        a.ladder(),
        [
            "> MESSAGE".to_string(),
            "< 407".to_string(),
            "> MESSAGE".to_string(),
            format!("< {status}")
        ]
    );
}

/// `messages list USER --json`: the stored messages' bodies, oldest first.
fn stored_bodies(server: &Server, user: &str) -> Vec<String> {
    let out = server.cli(&["--json", "messages", "list", user]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap().trim_end().to_string())
        .collect()
}

/// The metrics text of the server whose `[metrics]` listens on `port`.
fn metrics(port: u16) -> String {
    use std::io::{Read as _, Write as _};
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    conn.read_to_string(&mut text).unwrap();
    text
}

/// Digest options on `db` (None: SQLite) with the metrics endpoint on a port of its own.
fn options(db: Option<&TempDatabase>) -> (Options, u16) {
    let port = free_port();
    let base = match db {
        Some(db) => Options::digest().on_database(db),
        None => Options::digest(),
    };
    let opts = Options {
        extra: format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n"),
        ..base
    };
    (opts, port)
}

/// `user`'s phone comes online to `messages` stored messages: its SIPp registers (told to
/// by an OPTIONS, so that it is one process in server mode, whose calls the server's
/// MESSAGEs start) and answers each 200, checking alice's From and a Date.
fn comes_online(server: &Server, user: &str, messages: u32) -> (u16, SippResult) {
    let port = free_port();
    let phone = server
        .sipp(
            &format!("{user}-comes-online"),
            "uas-register-on-cue-receive-messages.xml",
            port,
        )
        // Everything it sends goes to the server (the REGISTER, not back to the cue), and
        // its digest URI names the server.
        .arg("-rsa")
        .arg(&server.addr())
        .service(user)
        .credentials(user, &password(user))
        .key("expires", 300)
        .calls(1 + messages)
        .spawn();
    let cue = RawUdp::bind("127.0.0.1:0".parse().unwrap());
    let me = cue.sock.local_addr().unwrap();
    let options = format!(
        "OPTIONS sip:{user}@127.0.0.1:{port} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {me};branch=z9hG4bKcue{port}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:test@127.0.0.1>;tag=cue\r\n\
         To: <sip:{user}@127.0.0.1>\r\n\
         Call-ID: cue-{port}@127.0.0.1\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    );
    cue.send(
        format!("127.0.0.1:{port}").parse().unwrap(),
        options.as_bytes(),
    );
    (port, phone.wait())
}

fn delivered_in_order_once((opts, metrics_port): (Options, u16)) {
    let server = &Server::start(BIN, opts);
    for (i, text) in TEXTS.iter().enumerate() {
        alice_sends(server, &format!("alice-offline-{i}"), "bob", text, 202);
    }
    assert_eq!(stored_bodies(server, "bob@example.com"), TEXTS);

    // Bob comes online and answers the three, each with alice's From and a Date (the
    // scenario checks both).
    let (bob_port, bob) = comes_online(server, "bob", TEXTS.len() as u32);
    bob.assert_ok("bob's phone receiving the stored messages");
    // In order, each once: the MESSAGEs received, one per Call-ID (a retransmission
    // repeats one), carry the three bodies in the order they were sent.
    let mut seen: Vec<(String, String)> = Vec::new();
    for m in bob.find(false, "MESSAGE") {
        let call_id = header(&m, "Call-ID").unwrap().to_string();
        if seen.iter().any(|(c, _)| *c == call_id) {
            continue;
        }
        let m = m.replace("\r\n", "\n");
        let body = m.split("\n\n").nth(1).unwrap_or("").trim().to_string();
        seen.push((call_id, body));
    }
    let bodies: Vec<&str> = seen.iter().map(|(_, b)| b.as_str()).collect();
    assert_eq!(bodies, TEXTS, "{}", bob.messages);
    assert_eq!(bob.find(true, "REGISTER").len(), 2, "{}", bob.messages);
    // Deleted after their 2xx (the store's work runs behind the answers).
    wait_until("the store to be empty", HANG_GUARD, || {
        stored_bodies(server, "bob@example.com").is_empty()
    });

    // A second REGISTER delivers nothing: the next MESSAGE bob's phone sees is a new one,
    // routed to it online as before.
    digest::register(server, "bob", bob_port);
    let phone = server
        .sipp("bob-phone", "uas-message-200.xml", bob_port)
        .uas()
        .spawn();
    alice_sends(server, "alice-online", "bob", "Watson, come here.", 200);
    let phone = phone.wait();
    phone.assert_ok("bob's phone, online");
    assert_eq!(phone.ladder(), ["< MESSAGE", "> 200"]);
    let log = server.log_text();
    assert_eq!(log.matches("message stored").count(), 3, "{log}");
    assert_eq!(log.matches("message delivered").count(), 3, "{log}");
    assert!(!log.contains("message not delivered"), "{log}");
    let text = metrics(metrics_port);
    assert!(
        text.contains("switchboard_messages_delivered_total 3\n")
            && text.contains("switchboard_messages_stored_total 3\n"),
        "{text}"
    );
    wait_until("the stored gauge to reach 0", HANG_GUARD, || {
        metrics(metrics_port).contains("switchboard_messages_stored 0\n")
    });
}

#[test]
fn sqlite() {
    delivered_in_order_once(options(None));
}

#[test]
fn mariadb() {
    if let Some(db) = TempDatabase::create(false) {
        delivered_in_order_once(options(Some(&db)));
    }
}

#[test]
fn postgres() {
    if let Some(db) = TempDatabase::create(true) {
        delivered_in_order_once(options(Some(&db)));
    }
}

/// Bad input and bounds: a body over `max_bytes` (413), a user's store full (486), a
/// stranger's MESSAGE to another domain (403: never an open relay, never stored); and a
/// phone online that answers 480 (the message is stored, 202).
#[test]
fn bounds_and_refusals() {
    let mut server = Server::start(
        BIN,
        Options {
            extra: "[messages]\nmax_bytes = 32\nmax_per_user = 1\n".into(),
            ..Options::digest()
        },
    );
    alice_sends(
        &server,
        "alice-too-large",
        "bob",
        "This message is longer than thirty-two bytes.",
        413,
    );
    alice_sends(&server, "alice-first", "bob", "short one", 202);
    alice_sends(&server, "alice-full", "bob", "short two", 486);
    assert_eq!(stored_bodies(&server, "bob@example.com"), ["short one"]);

    let relay = server
        .sipp(
            "stranger-relay",
            "uac-message-relay-expect-403.xml",
            free_port(),
        )
        .service("victim")
        .key("caller", "mallory")
        .key("from_domain", "elsewhere.example")
        .key("to_domain", "target.example")
        .run();
    relay.assert_ok("a stranger's MESSAGE to another domain");
    assert_eq!(relay.ladder(), ["> MESSAGE", "< 403"]);

    // Carol's phone is registered but answers 480: the message is kept for her.
    let carol_port = free_port();
    digest::register(&server, "carol", carol_port);
    let carol = server
        .sipp("carol-busy", "uas-message-480.xml", carol_port)
        .uas()
        .spawn();
    alice_sends(&server, "alice-to-carol", "carol", "later then", 202);
    carol.wait().assert_ok("carol's phone");
    assert_eq!(stored_bodies(&server, "carol@example.com"), ["later then"]);
    let purged = server.cli(&["messages", "purge", "carol@example.com"]);
    assert!(purged.contains("1 message(s) purged"), "{purged}");
    assert!(stored_bodies(&server, "carol@example.com").is_empty());

    // A message stored before a restart reaches its user's first REGISTER after it: the
    // server reads at start who has messages waiting, and a single node asks the store
    // only for them.
    server.restart();
    let (_, bob) = comes_online(&server, "bob", 1);
    bob.assert_ok("bob's phone, after a restart");
    assert_eq!(bob.find(false, "MESSAGE").len(), 1, "{}", bob.messages);
    assert!(bob.messages.contains("short one"), "{}", bob.messages);
    wait_until("bob's store to be empty", HANG_GUARD, || {
        stored_bodies(&server, "bob@example.com").is_empty()
    });
}
