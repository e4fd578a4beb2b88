//! Registration with digest authentication, end to end: the real binary with `[auth]
//! enabled = true`, SIPp phones (scenarios in `tests/sipp/`), ladders after RFC 3665 §2.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::net::{Ipv4Addr, UdpSocket};
use std::time::{Duration, Instant};

use sip_auth::{Algorithm, Qop};
use testkit::digest::{register, register_challenge};
use testkit::location::{contacts, wait_for_contacts};
use testkit::ports::free_port;
use testkit::server::{password, Options, Server, BOTH_ALGORITHMS, DOMAIN};
use testkit::sipp::{digest_param, header, headers};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// RFC 3665 §2.1 Successful New Registration, with authentication:
///
/// ```text
/// Bob                    Switchboard
///  |--- F1 REGISTER -------->|
///  |<-- F2 401 Unauthorized -|   WWW-Authenticate: MD5, then SHA-256 (one nonce, qop=auth)
///  |--- F3 REGISTER -------->|   Authorization: Digest (MD5)
///  |<-- F4 200 OK -----------|
/// ```
#[test]
fn rfc3665_2_1_registration_with_digest_authentication() {
    let node = Server::start(
        BIN,
        Options {
            auth: Some(BOTH_ALGORITHMS.into()),
            ..Options::digest()
        },
    );
    let port = free_port();
    let r = register(&node, "bob", port);
    let (challenge, www) = register_challenge(&r);
    assert_eq!(www.len(), 2, "{challenge}");
    assert_eq!(digest_param(&www[0], "algorithm"), Some("MD5"));
    assert_eq!(digest_param(&www[1], "algorithm"), Some("SHA-256"));
    for w in &www {
        assert_eq!(digest_param(w, "realm"), Some(DOMAIN));
        assert_eq!(digest_param(w, "qop"), Some("auth"));
        assert_eq!(digest_param(w, "stale"), None);
    }
    assert_eq!(
        digest_param(&www[0], "nonce"),
        digest_param(&www[1], "nonce"),
        "one nonce for both algorithms"
    );
    let creds = header(&r.find(true, "REGISTER")[1], "Authorization")
        .unwrap()
        .to_string();
    assert_eq!(digest_param(&creds, "username"), Some("bob"));
    wait_for_contacts(&node, "bob", &[format!("sip:bob@127.0.0.1:{port}")]);
    assert_eq!(node.status()["registered_contacts"], 1);
}

/// The default configuration sends one challenge, MD5: Debian's baresip 1.0 (and other
/// phones) reject a 401 that carries several WWW-Authenticate headers (issue 11, item 2).
#[test]
fn the_default_challenge_is_one_md5_header() {
    let node = Server::start(BIN, Options::digest());
    let r = register(&node, "bob", free_port());
    let (challenge, www) = register_challenge(&r);
    assert_eq!(www.len(), 1, "{challenge}");
    assert_eq!(digest_param(&www[0], "algorithm"), Some("MD5"));
}

/// RFC 3665 §2.5 Unsuccessful SIP Registration (wrong password → 401 again), then the
/// brute-force throttle: after `max_failures_per_source` failures from one address, its
/// next REGISTER gets 403 at once, without a challenge.
///
/// ```text
/// Bob                    Switchboard
///  |--- F1 REGISTER -------->|
///  |<-- F2 401 --------------|
///  |--- F3 REGISTER -------->|   wrong password
///  |<-- F4 401 --------------|   (three times: the third failure bans 127.0.0.1)
///  |--- REGISTER ----------->|
///  |<-- 403 Too Many Failed Authentications
/// ```
#[test]
fn rfc3665_2_5_wrong_password_then_throttled() {
    let node = Server::start(
        BIN,
        Options {
            auth: Some(
                "max_failures_per_source = 3\nmax_failures_per_user = 100\nban_secs = 60\n".into(),
            ),
            ..Options::digest()
        },
    );
    for attempt in 1..=3 {
        let r = node
            .sipp(
                &format!("wrong-{attempt}"),
                "uac-register-wrongpw-expect-401.xml",
                free_port(),
            )
            .service("bob")
            .credentials("bob", "not-the-password")
            .key("expires", 300)
            .run();
        r.assert_ok(&format!("wrong password, attempt {attempt}"));
        assert_eq!(
            r.ladder(),
            ["> REGISTER", "< 401", "> REGISTER", "< 401"],
            "attempt {attempt}: {}",
            r.messages
        );
    }
    // Banned now: even bob with no credentials at all is refused, not challenged.
    let r = node
        .sipp(
            "throttled",
            "uac-register-throttled-expect-403.xml",
            free_port(),
        )
        .service("bob")
        .key("expires", 300)
        .run();
    r.assert_ok("REGISTER from a throttled address");
    assert_eq!(r.ladder(), ["> REGISTER", "< 403"], "{}", r.messages);
    assert!(
        headers(&r.find(false, "SIP/2.0 403")[0], "WWW-Authenticate").is_empty(),
        "no challenge for a banned source"
    );
    assert!(contacts(&node, "bob").is_empty());
}

/// An expired nonce with otherwise right credentials earns `stale=true` (RFC 7616 §3.3),
/// and the phone retries on the fresh nonce without asking its user (nonce_ttl_secs = 1,
/// the scenario waits 2 s between F2 and F3).
///
/// ```text
///  |--- F1 REGISTER -------->|
///  |<-- F2 401 --------------|   nonce N1
///  |      (2 s pass)         |
///  |--- F3 REGISTER -------->|   right digest on N1
///  |<-- F4 401 stale=true ---|   nonce N2
///  |--- F5 REGISTER -------->|   right digest on N2
///  |<-- F6 200 OK -----------|
/// ```
#[test]
fn expired_nonce_gets_stale_true_then_succeeds() {
    let node = Server::start(
        BIN,
        Options {
            auth: Some(format!("nonce_ttl_secs = 1\n{BOTH_ALGORITHMS}")),
            ..Options::digest()
        },
    );
    let port = free_port();
    let r = node
        .sipp("stale", "uac-register-stale-expect-200.xml", port)
        .service("alice")
        .credentials("alice", &password("alice"))
        .key("expires", 300)
        .run();
    r.assert_ok("REGISTER on an expired nonce");
    assert_eq!(
        r.ladder(),
        [
            "> REGISTER",
            "< 401",
            "> REGISTER",
            "< 401",
            "> REGISTER",
            "< 200"
        ],
        "{}",
        r.messages
    );
    let challenges = r.find(false, "SIP/2.0 401");
    let first = headers(&challenges[0], "WWW-Authenticate");
    let stale = headers(&challenges[1], "WWW-Authenticate");
    assert!(first.iter().all(|w| digest_param(w, "stale").is_none()));
    assert_eq!(stale.len(), 2);
    assert!(stale
        .iter()
        .all(|w| digest_param(w, "stale") == Some("true")));
    assert_ne!(
        digest_param(first[0], "nonce"),
        digest_param(stale[0], "nonce")
    );
    wait_for_contacts(&node, "alice", &[format!("sip:alice@127.0.0.1:{port}")]);
}

/// Credentials for another realm are ignored (RFC 3261 §22.4): the answer is a plain new
/// challenge for ours, not a failure.
#[test]
fn credentials_for_another_realm_get_a_new_challenge() {
    let node = Server::start(BIN, Options::digest());
    let r = node
        .sipp(
            "wrong-realm",
            "uac-register-wrongrealm-expect-401.xml",
            free_port(),
        )
        .service("alice")
        .key("expires", 300)
        .run();
    r.assert_ok("REGISTER with credentials for elsewhere.example");
    assert_eq!(
        r.ladder(),
        ["> REGISTER", "< 401", "> REGISTER", "< 401"],
        "{}",
        r.messages
    );
    let again = &r.find(false, "SIP/2.0 401")[1];
    for w in headers(again, "WWW-Authenticate") {
        assert_eq!(digest_param(w, "realm"), Some(DOMAIN));
        assert_eq!(digest_param(w, "stale"), None);
    }
    assert!(contacts(&node, "alice").is_empty());
}

/// Alice's valid credentials do not register bob: the authenticated user must be the one
/// in From and To (RFC 3261 §10.3 step 6) → 403 Identity Mismatch.
///
/// ```text
///  |--- F1 REGISTER bob ---->|
///  |<-- F2 401 --------------|
///  |--- F3 REGISTER bob ---->|   Authorization: username="alice" (right password)
///  |<-- F4 403 Identity Mismatch
/// ```
#[test]
fn another_users_credentials_are_an_identity_mismatch() {
    let node = Server::start(BIN, Options::digest());
    let r = node
        .sipp(
            "identity",
            "uac-register-identity-expect-403.xml",
            free_port(),
        )
        .service("bob")
        .credentials("alice", &password("alice"))
        .key("expires", 300)
        .run();
    r.assert_ok("REGISTER of bob with alice's credentials");
    assert_eq!(
        r.ladder(),
        ["> REGISTER", "< 401", "> REGISTER", "< 403"],
        "{}",
        r.messages
    );
    assert!(contacts(&node, "bob").is_empty());
    assert!(contacts(&node, "alice").is_empty());
    let log = node.log_text();
    assert!(
        log.contains(
            "auth failure user=alice@example.com source=127.0.0.1 reason=identity-mismatch"
        ),
        "{log}"
    );
}

/// The shape of a response: status line and header names in order, with the challenge
/// parameters except the nonce (which must exist and differ per challenge).
fn shape(msg: &str) -> Vec<String> {
    let mut out = vec![msg.lines().next().unwrap().to_string()];
    for l in msg.lines().skip(1).take_while(|l| !l.trim().is_empty()) {
        let (name, value) = l.split_once(':').unwrap();
        if name.eq_ignore_ascii_case("WWW-Authenticate") {
            assert!(digest_param(value, "nonce").is_some_and(|n| !n.is_empty()));
            let params: Vec<String> = ["realm", "qop", "algorithm", "stale", "opaque"]
                .iter()
                .map(|p| format!("{p}={:?}", digest_param(value, p)))
                .collect();
            out.push(format!("{name}: {}", params.join(" ")));
        } else {
            out.push(name.to_string());
        }
    }
    out
}

/// An unknown user and a wrong password are indistinguishable from outside (same status,
/// same headers, same challenges): the server computes a digest against a dummy HA1 for
/// unknown users, so neither the answer nor its shape tells which names exist.
#[test]
fn unknown_user_gets_the_same_401_as_a_wrong_password() {
    let node = Server::start(BIN, Options::digest());
    let run = |name: &str, user: &str| {
        let r = node
            .sipp(name, "uac-register-wrongpw-expect-401.xml", free_port())
            .service(user)
            .credentials(user, "not-the-password")
            .key("expires", 300)
            .run();
        r.assert_ok(name);
        assert_eq!(
            r.ladder(),
            ["> REGISTER", "< 401", "> REGISTER", "< 401"],
            "{}",
            r.messages
        );
        r.find(false, "SIP/2.0 401")
    };
    let known = run("known-wrong-password", "alice");
    let unknown = run("unknown-user", "nobody");
    assert_eq!(shape(&known[1]), shape(&unknown[1]));
    assert_eq!(shape(&known[0]), shape(&unknown[0]));
    assert_eq!(shape(&known[0]), shape(&known[1]));
    assert!(contacts(&node, "alice").is_empty());
}

/// A raw UDP phone, for the one flow SIPp cannot play: sending the very same
/// Authorization header twice.
struct Phone {
    sock: UdpSocket,
    server: String,
    n: u32,
}

impl Phone {
    fn new(node: &Server) -> Phone {
        let sock = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Phone {
            sock,
            server: node.addr(),
            n: 0,
        }
    }

    /// Sends a REGISTER for alice (a new transaction each time) and returns the final
    /// response, retransmitting on silence.
    fn register(&mut self, authorization: Option<&str>) -> String {
        self.n += 1;
        let local = self.sock.local_addr().unwrap();
        let auth = authorization
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        let msg = format!(
            "REGISTER sip:{DOMAIN} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};rport;branch=z9hG4bK-replay-{n}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:alice@{DOMAIN}>;tag=replay\r\n\
             To: <sip:alice@{DOMAIN}>\r\n\
             Call-ID: replay-{port}@127.0.0.1\r\n\
             CSeq: {n} REGISTER\r\n\
             Contact: <sip:alice@{local}>\r\n\
             {auth}Expires: 300\r\n\
             Content-Length: 0\r\n\r\n",
            n = self.n,
            port = local.port(),
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut buf = vec![0u8; 65536];
        let mut next_send = Instant::now();
        loop {
            assert!(Instant::now() < deadline, "no final response to REGISTER");
            if Instant::now() >= next_send {
                self.sock.send_to(msg.as_bytes(), &self.server).unwrap();
                next_send = Instant::now() + Duration::from_millis(500);
            }
            if let Ok((len, _)) = self.sock.recv_from(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..len]).into_owned();
                let is_final = text
                    .split(' ')
                    .nth(1)
                    .is_some_and(|code| !code.starts_with('1'));
                let ours = text.contains(&format!("CSeq: {} REGISTER", self.n));
                if is_final && ours {
                    return text;
                }
            }
        }
    }
}

/// Each (nonce, nc) is accepted once (RFC 7616 §3.4.5): the very same Authorization sent
/// again is a replay and gets a new challenge (stale=true: the password was right, only the
/// nonce is used up), not a second registration.
///
/// ```text
///  |--- F1 REGISTER -------->|
///  |<-- F2 401 --------------|   nonce N
///  |--- F3 REGISTER -------->|   Authorization A (N, nc=00000001)
///  |<-- F4 200 OK -----------|
///  |--- F5 REGISTER -------->|   the same Authorization A
///  |<-- F6 401 stale=true ---|   a new nonce
/// ```
#[test]
fn replayed_credentials_get_a_new_challenge() {
    let node = Server::start(
        BIN,
        Options {
            auth: Some(BOTH_ALGORITHMS.into()),
            ..Options::digest()
        },
    );
    let mut phone = Phone::new(&node);
    let f2 = phone.register(None);
    assert!(f2.starts_with("SIP/2.0 401 "), "{f2}");
    let www = headers(&f2, "WWW-Authenticate");
    let md5 = www
        .iter()
        .find(|w| digest_param(w, "algorithm") == Some("MD5"))
        .unwrap();
    let nonce = digest_param(md5, "nonce").unwrap().to_string();
    let uri = format!("sip:{DOMAIN}");
    let ha1 = sip_auth::ha1(Algorithm::Md5, "alice", DOMAIN, &password("alice"));
    let response = sip_auth::compute_response(
        Algorithm::Md5,
        &ha1,
        &nonce,
        1,
        "0a4f113b",
        Some(Qop::Auth),
        "REGISTER",
        &uri,
        b"",
    );
    let authorization = format!(
        "Digest username=\"alice\", realm=\"{DOMAIN}\", nonce=\"{nonce}\", uri=\"{uri}\", \
         response=\"{response}\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"0a4f113b\""
    );
    let f4 = phone.register(Some(&authorization));
    assert!(f4.starts_with("SIP/2.0 200 "), "{f4}");
    let f6 = phone.register(Some(&authorization));
    assert!(
        f6.starts_with("SIP/2.0 401 "),
        "a replay must not pass: {f6}"
    );
    let again = headers(&f6, "WWW-Authenticate");
    assert_eq!(again.len(), 2, "{f6}");
    for w in &again {
        assert_eq!(digest_param(w, "stale"), Some("true"), "{f6}");
        assert_ne!(digest_param(w, "nonce"), Some(nonce.as_str()));
    }
}
