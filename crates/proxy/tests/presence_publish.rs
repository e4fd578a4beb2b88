//! Presence served by the proxy (RFC 3903 PUBLISH, RFC 3856 SUBSCRIBE, RFC 3863 PIDF), on a
//! virtual clock: two devices of bob publish, alice watches and gets the composed document
//! with both tuples, then each change (modify, remove, expiry); refresh by `SIP-If-Match`
//! gives a new entity tag; bad input gets its defined answer; the bounds; an expired
//! presence subscription gets its final NOTIFY. The same flow with SIPp phones against the
//! real server: crates/server/tests/presence_pidf.rs.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use proxy::{Destination, PresenceConfig};
use sip_message::SipMessage;
use testkit::proxy_net::{self, answer, udp};

const ALICE: &str = "198.51.100.1:5060";
const DESK: &str = "203.0.113.5:5062";
const MOBILE: &str = "203.0.113.6:5064";

fn net() -> proxy_net::Net {
    let cfg = proxy_net::config_with_presence(PresenceConfig {
        max_publications: 3,
        max_publications_per_user: 2,
        ..PresenceConfig::default()
    });
    proxy_net::Net::with_directory(cfg, proxy_net::directory(&["alice", "bob", "carol"]))
}

fn pidf(basic: &str, note: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:bob@example.com\">
<tuple id=\"t1\"><status><basic>{basic}</basic></status><note>{note}</note></tuple>
</presence>"
    )
}

static BRANCH: AtomicU64 = AtomicU64::new(1);

/// A PUBLISH to build: from `user` at `addr` to `target`'s (by default the user's own)
/// presence, with no Expires, SIP-If-Match or body unless set.
struct Publish<'a> {
    user: &'a str,
    addr: &'a str,
    target: &'a str,
    event: &'a str,
    expires: Option<u32>,
    if_match: Option<&'a str>,
    body: Option<(&'a str, &'a str)>,
}

impl<'a> Publish<'a> {
    fn by(user: &'a str, addr: &'a str) -> Self {
        Publish {
            user,
            addr,
            target: user,
            event: "presence",
            expires: None,
            if_match: None,
            body: None,
        }
    }

    fn to(mut self, target: &'a str) -> Self {
        self.target = target;
        self
    }

    fn event(mut self, event: &'a str) -> Self {
        self.event = event;
        self
    }

    fn expires(mut self, secs: u32) -> Self {
        self.expires = Some(secs);
        self
    }

    fn if_match(mut self, tag: &'a str) -> Self {
        self.if_match = Some(tag);
        self
    }

    fn body(mut self, content_type: &'a str, body: &'a str) -> Self {
        self.body = Some((content_type, body));
        self
    }

    fn pidf(self, doc: &'a str) -> Self {
        self.body("application/pidf+xml", doc)
    }

    /// Sends it: everything the proxy sent (its answer first, then any NOTIFY).
    fn send(self, net: &mut proxy_net::Net) -> Vec<(Destination, SipMessage)> {
        let Publish {
            user,
            addr,
            target,
            event,
            ..
        } = self;
        let branch = BRANCH.fetch_add(1, Ordering::Relaxed);
        let if_match = self
            .if_match
            .map_or_else(String::new, |e| format!("SIP-If-Match: {e}\n"));
        let expires = self
            .expires
            .map_or_else(String::new, |e| format!("Expires: {e}\n"));
        let (ct, body) = self.body.map_or_else(
            || (String::new(), String::new()),
            |(t, b)| (format!("Content-Type: {t}\n"), b.to_string()),
        );
        let len = body.replace('\n', "\r\n").len();
        net.send(
            udp(addr),
            &format!(
                "PUBLISH sip:{target}@example.com SIP/2.0
Via: SIP/2.0/UDP {addr};branch=z9hG4bKpub{branch}
Max-Forwards: 70
From: <sip:{user}@example.com>;tag=p{user}{branch}
To: <sip:{target}@example.com>
Call-ID: pub-{branch}
CSeq: 1 PUBLISH
Event: {event}
{expires}{if_match}{ct}Content-Length: {len}

{body}"
            ),
        );
        net.out()
    }
}

/// The proxy's answer in `out`.
fn response(out: &[(Destination, SipMessage)]) -> &SipMessage {
    &out.iter().find(|(_, m)| !m.is_request()).unwrap().1
}

fn subscribe(net: &mut proxy_net::Net, expires: u32) -> Vec<(Destination, SipMessage)> {
    net.send(
        udp(ALICE),
        &format!(
            "SUBSCRIBE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP {ALICE};branch=z9hG4bKsub{expires}
Max-Forwards: 70
From: <sip:alice@example.com>;tag=walice
To: <sip:bob@example.com>
Call-ID: pres-1
CSeq: 1 SUBSCRIBE
Contact: <sip:alice@{ALICE}>
Event: presence
Accept: application/pidf+xml
Expires: {expires}
Content-Length: 0

"
        ),
    );
    net.out()
}

/// The NOTIFYs in `out`.
fn notifies(out: &[(Destination, SipMessage)]) -> Vec<&SipMessage> {
    out.iter()
        .filter(|(_, m)| m.is_request() && m.method_str() == "NOTIFY")
        .map(|(_, m)| m)
        .collect()
}

/// The one NOTIFY in `out`, answered 200; its Subscription-State and body.
fn one_notify(net: &mut proxy_net::Net, out: &[(Destination, SipMessage)]) -> (String, String) {
    let n = notifies(out);
    assert_eq!(n.len(), 1, "{out:?}");
    assert_eq!(n[0].header_by_name("Event"), Some("presence"));
    assert_eq!(
        n[0].header_by_name("Content-Type"),
        Some("application/pidf+xml")
    );
    net.send(udp(ALICE), &answer(n[0], 200));
    (
        n[0].header_by_name("Subscription-State")
            .unwrap()
            .to_string(),
        String::from_utf8_lossy(n[0].body()).into_owned(),
    )
}

#[test]
fn two_devices_publish_a_watcher_sees_both_tuples_then_each_change() {
    let mut net = net();
    let out = subscribe(&mut net, 600);
    assert_eq!(response(&out).status(), 200);
    let (state, doc) = one_notify(&mut net, &out);
    assert_eq!(state, "active;expires=600");
    assert!(doc.contains("<basic>closed</basic>"), "{doc}");
    assert!(doc.contains("entity=\"sip:bob@example.com\""), "{doc}");

    // The desk phone publishes: open.
    let desk = pidf("open", "At my desk");
    let out = Publish::by("bob", DESK)
        .expires(120)
        .pidf(&desk)
        .send(&mut net);
    let r = response(&out);
    assert_eq!(r.status(), 200, "{}", r.head());
    assert_eq!(r.expires(), Some(120));
    let desk_tag = r.header_by_name("SIP-ETag").unwrap().to_string();
    let (_, doc) = one_notify(&mut net, &out);
    assert!(
        doc.contains("<basic>open</basic></status><note>At my desk</note>"),
        "{doc}"
    );
    assert!(!doc.contains("closed"), "{doc}");

    // The mobile publishes too (no Expires: an hour): both tuples.
    let mobile = pidf("closed", "In a meeting");
    let out = Publish::by("bob", MOBILE).pidf(&mobile).send(&mut net);
    assert_eq!(response(&out).expires(), Some(3600));
    let mobile_tag = response(&out)
        .header_by_name("SIP-ETag")
        .unwrap()
        .to_string();
    assert_ne!(mobile_tag, desk_tag);
    let (_, doc) = one_notify(&mut net, &out);
    assert!(
        doc.contains(
            "<tuple id=\"t1\"><status><basic>open</basic></status><note>At my desk</note>"
        ),
        "{doc}"
    );
    assert!(
        doc.contains(
            "<tuple id=\"t1-2\"><status><basic>closed</basic></status><note>In a meeting</note>"
        ),
        "{doc}"
    );

    // A refresh by SIP-If-Match: a new tag, no NOTIFY (nothing changed); the old tag is
    // then unknown (412).
    let out = Publish::by("bob", DESK)
        .expires(120)
        .if_match(&desk_tag)
        .send(&mut net);
    assert_eq!(response(&out).status(), 200);
    let desk_tag2 = response(&out)
        .header_by_name("SIP-ETag")
        .unwrap()
        .to_string();
    assert_ne!(desk_tag2, desk_tag);
    assert!(notifies(&out).is_empty(), "{out:?}");
    let out = Publish::by("bob", DESK)
        .expires(120)
        .if_match(&desk_tag)
        .send(&mut net);
    assert_eq!(response(&out).status(), 412);

    // The mobile modifies its state: open, and the watcher is told.
    let back = pidf("open", "Back");
    let out = Publish::by("bob", MOBILE)
        .expires(600)
        .if_match(&mobile_tag)
        .pidf(&back)
        .send(&mut net);
    assert_eq!(response(&out).status(), 200);
    let mobile_tag = response(&out)
        .header_by_name("SIP-ETag")
        .unwrap()
        .to_string();
    let (_, doc) = one_notify(&mut net, &out);
    assert!(
        doc.contains("<basic>open</basic></status><note>Back</note>"),
        "{doc}"
    );
    assert!(!doc.contains("In a meeting"), "{doc}");

    // The mobile removes its publication: only the desk's tuple is left.
    let out = Publish::by("bob", MOBILE)
        .expires(0)
        .if_match(&mobile_tag)
        .send(&mut net);
    assert_eq!(response(&out).status(), 200);
    let (_, doc) = one_notify(&mut net, &out);
    assert!(doc.contains("At my desk") && !doc.contains("Back"), "{doc}");
    assert_eq!(net.proxy.presence_publications(), 1);

    // The desk's publication expires (120 s): the timer tells the watcher, closed.
    net.advance(Duration::from_secs(121));
    let out = net.out();
    let (state, doc) = one_notify(&mut net, &out);
    assert!(state.starts_with("active;expires="), "{state}");
    assert!(
        doc.contains("<basic>closed</basic>") && !doc.contains("At my desk"),
        "{doc}"
    );
    assert_eq!(net.proxy.presence_publications(), 0);

    // The subscription itself expires (600 s): a final NOTIFY from the timer.
    net.advance(Duration::from_secs(480));
    let out = net.out();
    let (state, _) = one_notify(&mut net, &out);
    assert_eq!(state, "terminated;reason=timeout");
    assert_eq!(net.proxy.dialog_subscriptions(), 0);
}

#[test]
fn bad_publications_get_their_defined_answers() {
    let mut net = net();
    let ok = pidf("open", "x");
    // Each from DESK to bob's presence: the answer's status, reason and headers.
    let status = |net: &mut proxy_net::Net, publish: Publish| {
        let out = publish.to("bob").send(net);
        let r = response(&out);
        (
            r.status(),
            r.reason().to_string(),
            r.header_by_name("Allow-Events").map(str::to_string),
            r.header_by_name("Min-Expires").map(str::to_string),
            r.header_by_name("Accept").map(str::to_string),
        )
    };
    // Malformed PIDF: 400 naming the problem.
    let r = status(&mut net, Publish::by("bob", DESK).expires(600).pidf("<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:bob@example.com\"><tuple id=\"a\"><status><basic>busy</basic></status></tuple></presence>"));
    assert_eq!(
        (r.0, r.1.as_str()),
        (400, "PIDF Basic Status Not Open Or Closed")
    );
    let r = status(
        &mut net,
        Publish::by("bob", DESK)
            .expires(600)
            .pidf("<presence><tuple"),
    );
    assert_eq!((r.0, r.1.as_str()), (400, "Malformed XML"));
    let r = status(&mut net, Publish::by("bob", DESK).expires(600).pidf("<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:bob@example.com\"><tuple><status/></tuple></presence>"));
    assert_eq!((r.0, r.1.as_str()), (400, "PIDF Tuple Without Id"));
    // Dialog-info to PUBLISH dialog: checked (400 when malformed), then declined (489).
    let r = status(&mut net, Publish::by("bob", DESK).event("dialog").expires(600).body("application/dialog-info+xml", "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"x\" state=\"full\" entity=\"sip:bob@example.com\"/>"));
    assert_eq!(
        (r.0, r.1.as_str()),
        (400, "Dialog-Info Without A Numeric Version")
    );
    let r = status(&mut net, Publish::by("bob", DESK).event("dialog").expires(600).body("application/dialog-info+xml", "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" state=\"full\" entity=\"sip:bob@example.com\"><dialog id=\"1\"><state>ringing</state></dialog></dialog-info>"));
    assert_eq!((r.0, r.1.as_str()), (400, "Dialog State Unknown"));
    // A wrong Content-Type: 415 with Accept.
    let r = status(
        &mut net,
        Publish::by("bob", DESK)
            .expires(600)
            .body("text/plain", "open"),
    );
    assert_eq!((r.0, r.4.as_deref()), (415, Some("application/pidf+xml")));
    // An unknown package: 489 with Allow-Events.
    let r = status(
        &mut net,
        Publish::by("bob", DESK)
            .event("conference")
            .expires(600)
            .pidf(&ok),
    );
    assert_eq!((r.0, r.2.as_deref()), (489, Some("presence")));
    // Too short: 423 with Min-Expires.
    let r = status(&mut net, Publish::by("bob", DESK).expires(10).pidf(&ok));
    assert_eq!((r.0, r.3.as_deref()), (423, Some("60")));
    // No body, no tag; an unknown tag.
    let r = status(&mut net, Publish::by("bob", DESK).expires(600));
    assert_eq!((r.0, r.1.as_str()), (400, "Initial PUBLISH Without Body"));
    let r = status(
        &mut net,
        Publish::by("bob", DESK).expires(600).if_match("nope"),
    );
    assert_eq!(r.0, 412);
    // Someone else's presence: 403.
    let r = status(&mut net, Publish::by("carol", DESK).expires(600).pidf(&ok));
    assert_eq!((r.0, r.1.as_str()), (403, "Only Your Own Presence"));
    assert_eq!(net.proxy.presence_publications(), 0);

    // Bounds: 2 per user (403), 3 in all (503 with Retry-After).
    for _ in 0..2 {
        assert_eq!(
            status(&mut net, Publish::by("bob", DESK).expires(600).pidf(&ok)).0,
            200
        );
    }
    let r = status(&mut net, Publish::by("bob", DESK).expires(600).pidf(&ok));
    assert_eq!(
        (r.0, r.1.as_str()),
        (403, "Too Many Publications For This User")
    );
    let out = Publish::by("carol", DESK)
        .expires(600)
        .pidf(&ok)
        .send(&mut net);
    assert_eq!(response(&out).status(), 200);
    let out = Publish::by("alice", DESK)
        .expires(600)
        .pidf(&ok)
        .send(&mut net);
    assert_eq!(response(&out).status(), 503);
    assert_eq!(response(&out).header_by_name("Retry-After"), Some("60"));
}

/// A watcher's SUBSCRIBE (presence) to bob from `user@domain` at `addr`: its answer's
/// status and reason.
fn watch_bob(net: &mut proxy_net::Net, user: &str, domain: &str, addr: &str) -> (u16, String) {
    let branch = BRANCH.fetch_add(1, Ordering::Relaxed);
    net.send(
        udp(addr),
        &format!(
            "SUBSCRIBE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP {addr};branch=z9hG4bKw{branch}
Max-Forwards: 70
From: <sip:{user}@{domain}>;tag=w{branch}
To: <sip:bob@example.com>
Call-ID: watch-{branch}
CSeq: 1 SUBSCRIBE
Contact: <sip:{user}@{addr}>
Event: presence
Expires: 600
Content-Length: 0

"
        ),
    );
    let out = net.out();
    let r = response(&out);
    (r.status(), r.reason().to_string())
}

#[test]
fn watcher_rules_deny_a_colleague_and_admit_another_domain() {
    let dir = proxy::StaticDirectory::new();
    dir.replace(
        vec!["example.com".to_string(), "other.example".to_string()],
        [
            ("alice", "example.com"),
            ("bob", "example.com"),
            ("carol", "example.com"),
            ("dave", "other.example"),
        ]
        .map(|(u, d)| model::Subscriber {
            aor: model::AddressOfRecord::new(u, d),
            ha1_md5: String::new(),
            ha1_sha256: String::new(),
        }),
        vec![],
    );
    let bob = model::AddressOfRecord::new("bob", "example.com");
    let rule = |watcher: &str, domain: &str, rule| model::PresenceRule {
        watched: bob.clone(),
        watcher: model::AddressOfRecord::new(watcher, domain),
        rule,
    };
    dir.replace_watcher_rules([rule("carol", "example.com", model::WatcherRule::Deny)]);
    let dir = std::sync::Arc::new(dir);
    let mut net = proxy_net::Net::with_shared_directory(
        proxy_net::config(Duration::from_secs(60), false),
        dir.clone(),
    );
    // The default: the same domain may watch, another domain may not.
    assert_eq!(watch_bob(&mut net, "alice", "example.com", ALICE).0, 200);
    assert_eq!(
        watch_bob(&mut net, "dave", "other.example", "192.0.2.40:5060"),
        (403, "Watcher Not Allowed".to_string())
    );
    // Bob's rules: carol denied, dave allowed.
    assert_eq!(
        watch_bob(&mut net, "carol", "example.com", "192.0.2.30:5060"),
        (403, "Watcher Denied".to_string())
    );
    dir.set_watcher_rules(
        &bob,
        [rule("dave", "other.example", model::WatcherRule::Allow)],
    );
    assert_eq!(
        watch_bob(&mut net, "dave", "other.example", "192.0.2.40:5060").0,
        200
    );
    assert_eq!(
        watch_bob(&mut net, "carol", "example.com", "192.0.2.30:5060").0,
        200
    );
}
