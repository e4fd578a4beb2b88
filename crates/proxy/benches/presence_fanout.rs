//! NOTIFY fan-out of the presence event package (issue 17): one user watched by N presence
//! subscriptions (0, 100, 1000), two devices publishing. One iteration is one PUBLISH
//! modifying a device's state (`SIP-If-Match`, a PIDF body) through the sans-IO proxy: the
//! PIDF is parsed and checked, the user's document composed, and each watcher NOTIFYed
//! (every NOTIFY answered 200). `(watched - unwatched) / N` is the CPU per presence NOTIFY,
//! an upper bound since the bench's own parsing of the NOTIFYs and printing of their
//! answers is included.

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use proxy::PresenceConfig;
use testkit::proxy_net::{self, answer, udp, Net};

const DESK: &str = "203.0.113.5:5060";

fn pidf(note: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
         <presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:bob@example.com\">\r\n\
         <tuple id=\"desk\"><status><basic>open</basic></status>\
         <contact priority=\"0.8\">sip:bob@{DESK}</contact><note>{note}</note></tuple>\r\n\
         </presence>\r\n"
    )
}

/// Bob's device publishes `note` (modifying `etag` when given): the new entity tag and the
/// number of NOTIFYs it caused (each answered 200).
fn publish(net: &mut Net, from: &str, k: u64, etag: Option<&str>, note: &str) -> (String, usize) {
    let body = pidf(note);
    let if_match = etag.map_or_else(String::new, |e| format!("SIP-If-Match: {e}\r\n"));
    let text = format!(
        "PUBLISH sip:bob@example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP {from};branch=z9hG4bKp{k};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:bob@example.com>;tag=p{k}\r\n\
         To: <sip:bob@example.com>\r\n\
         Call-ID: pub-{k}\r\n\
         CSeq: 1 PUBLISH\r\n\
         Event: presence\r\n\
         Expires: 3600\r\n\
         {if_match}Content-Type: application/pidf+xml\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    // `send` turns "\n" into "\r\n": give it "\n" lines.
    net.send(udp(from), &text.replace("\r\n", "\n"));
    let mut tag = String::new();
    let mut notifies = 0;
    for (dest, m) in net.out() {
        if !m.is_request() {
            assert_eq!(m.status(), 200, "{}", m.head());
            tag = m.header_by_name("SIP-ETag").unwrap().to_string();
        } else if m.method_str() == "NOTIFY" {
            net.send(dest, &answer(&m, 200));
            notifies += 1;
        }
    }
    net.out();
    (tag, notifies)
}

fn net(watchers: usize) -> Net {
    let cfg = proxy_net::config_with_presence(PresenceConfig {
        max_subscriptions: 20_000,
        max_per_user: 20_000,
        ..PresenceConfig::default()
    });
    let mut net = Net::with_directory(cfg, proxy_net::directory(&["bob", "carol"]));
    for w in 0..watchers {
        let src = format!("192.0.2.{}:{}", 1 + w % 200, 5060 + w / 200);
        net.send(
            udp(&src),
            &format!(
                "SUBSCRIBE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP {src};branch=z9hG4bKs{w};rport
Max-Forwards: 70
From: <sip:carol@example.com>;tag=w{w}
To: <sip:bob@example.com>
Call-ID: pres-{w}
CSeq: 1 SUBSCRIBE
Contact: <sip:carol@{src}>
Event: presence
Expires: 3600
Content-Length: 0

"
            ),
        );
        for (dest, m) in net.out() {
            if m.is_request() {
                net.send(dest, &answer(&m, 200));
            }
        }
        net.out();
    }
    net
}

fn fanout(c: &mut Criterion) {
    for watchers in [0, 100, 1000] {
        let mut net = net(watchers);
        // A second device's publication stays, so every document has two tuples.
        let (_, n) = publish(&mut net, "203.0.113.6:5060", u64::MAX, None, "mobile");
        assert_eq!(n, watchers);
        let (mut etag, _) = publish(&mut net, DESK, u64::MAX - 1, None, "first");
        let mut k = 0u64;
        c.bench_function(&format!("publish_to_{watchers}_presence_watchers"), |b| {
            b.iter(|| {
                k += 1;
                net.advance(Duration::from_millis(100));
                let (tag, n) = publish(&mut net, DESK, k, Some(&etag), &format!("note {k}"));
                etag = tag;
                n
            })
        });
    }
}

criterion_group!(benches, fanout);
criterion_main!(benches);
