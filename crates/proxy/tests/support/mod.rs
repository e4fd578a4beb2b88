//! The in-process test network shared by the proxy's flow tests: a proxy on a virtual
//! clock, helpers to send text and read what it sends.
#![allow(clippy::unwrap_used, dead_code, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use model::{AddressOfRecord, Subscriber};
use proxy::{AuthConfig, Destination, Proxy, ProxyConfig, StaticDirectory, Transport};
use registrar::{Location, Registrar, RegistrarConfig};
use sip_message::{HeaderName, SipMessage};

pub const PROXY: &str = "192.0.2.10";

pub fn udp(addr: &str) -> Destination {
    Destination {
        transport: Transport::Udp,
        addr: addr.parse().unwrap(),
        conn: None,
    }
}

pub fn tcp(addr: &str) -> Destination {
    Destination {
        transport: Transport::Tcp,
        addr: addr.parse().unwrap(),
        conn: Some(7),
    }
}

pub struct Net {
    pub proxy: Proxy,
    pub now: Duration,
    pub wall: u64,
}

impl Net {
    pub fn new(no_answer: Duration) -> Net {
        Net::with_auth(no_answer, false)
    }

    pub fn with_auth(no_answer: Duration, auth: bool) -> Net {
        Net::with_config(ProxyConfig {
            advertised_host: Some(PROXY.into()),
            advertised_port: 5060,
            no_answer_timeout: no_answer,
            auth: AuthConfig {
                enabled: auth,
                ..AuthConfig::default()
            },
            ..ProxyConfig::default()
        })
    }

    /// A proxy on `cfg` serving example.com with users alice and bob.
    pub fn with_config(cfg: ProxyConfig) -> Net {
        let dir = StaticDirectory::new();
        let sub = |u: &str| Subscriber {
            aor: AddressOfRecord::new(u, "example.com"),
            ha1_md5: String::new(),
            ha1_sha256: String::new(),
        };
        dir.replace(
            vec!["example.com".to_string()],
            vec![sub("alice"), sub("bob")],
            vec![],
        );
        let registrar = Registrar::new(RegistrarConfig::default(), Arc::new(Location::new(1000)));
        let proxy = Proxy::new(
            cfg,
            sip_transaction::Config::default(),
            registrar,
            Arc::new(dir),
        );
        Net {
            proxy,
            now: Duration::ZERO,
            wall: 1_000_000,
        }
    }

    pub fn send(&mut self, from: Destination, text: &str) {
        let text = text.replace('\n', "\r\n");
        self.proxy
            .handle_message(self.now, self.wall, Bytes::from(text), from);
    }

    pub fn out(&mut self) -> Vec<(Destination, SipMessage)> {
        let mut v = Vec::new();
        while let Some((d, b)) = self.proxy.poll_transmit() {
            v.push((d, SipMessage::parse(b).unwrap()));
        }
        v
    }

    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        self.proxy.handle_timeout(self.now);
    }

    pub fn register(&mut self, user: &str, contact: &str, from: Destination) {
        self.send(
            from,
            &format!(
                "REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP {contact};branch=z9hG4bKreg{user}{contact}
From: <sip:{user}@example.com>;tag=r1
To: <sip:{user}@example.com>
Call-ID: reg-{user}-{contact}
CSeq: 1 REGISTER
Contact: <sip:{user}@{contact}>
Expires: 600
Content-Length: 0

"
            ),
        );
        let out = self.out();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].1.status(), 200, "{}", out[0].1.head());
    }
}

pub fn invite(branch: &str) -> String {
    format!(
        "INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 198.51.100.1:5060;branch={branch};rport
Max-Forwards: 70
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: call-1
CSeq: 1 INVITE
Contact: <sip:alice@198.51.100.1:5060>
Content-Length: 0

"
    )
}

/// Answers `req` (as the UAS at the far end) with `status`, To tag `t`.
pub fn answer(req: &SipMessage, status: u16) -> String {
    let mut s = format!("SIP/2.0 {status} X\r\n");
    for (i, f) in req.fields().iter().enumerate() {
        use HeaderName as H;
        if matches!(
            f.name,
            H::Via | H::From | H::CallId | H::CSeq | H::RecordRoute
        ) {
            s.push_str(&format!("{}: {}\r\n", req.name_of(i), req.value(i)));
        }
        if f.name == H::To {
            s.push_str(&format!("To: {};tag=b{status}\r\n", req.value(i)));
        }
    }
    s.push_str("Content-Length: 0\r\n\r\n");
    s.replace("\r\n", "\n")
}
