//! The proxy in process on a virtual clock, for the proxy's own tests: a [`Net`] that
//! feeds it text as if from the network and collects what it sends, with helpers for the
//! addresses, REGISTER, INVITE and a far end's answer. No sockets, no sleeping: time
//! moves only when a test calls [`Net::advance`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use model::{AddressOfRecord, Subscriber};
use proxy::{
    AuthConfig, Destination, PresenceConfig, Proxy, ProxyConfig, ServicesConfig, StaticDirectory,
    Transport,
};
use registrar::{Location, Registrar, RegistrarConfig};
use sip_message::{HeaderName, SipMessage};

/// The proxy's advertised address.
pub const PROXY: &str = "192.0.2.10";

/// A UDP peer at `addr`.
pub fn udp(addr: &str) -> Destination {
    Destination {
        transport: Transport::Udp,
        addr: addr.parse().unwrap(),
        conn: None,
    }
}

/// A TCP peer at `addr` on connection 7.
pub fn tcp(addr: &str) -> Destination {
    tcp_on(addr, 7)
}

/// A TCP peer at `addr` on connection `conn`.
pub fn tcp_on(addr: &str, conn: u64) -> Destination {
    Destination {
        transport: Transport::Tcp,
        addr: addr.parse().unwrap(),
        conn: Some(sip_message::ConnectionId(conn)),
    }
}

/// The proxy's configuration in these tests: advertised as [`PROXY`]:5060, `no_answer` as
/// the no-answer timeout, authentication on or off; the rest default.
pub fn config(no_answer: Duration, auth: bool) -> ProxyConfig {
    ProxyConfig {
        advertised_host: Some(PROXY.into()),
        advertised_port: 5060,
        no_answer_timeout: no_answer,
        auth: AuthConfig {
            enabled: auth,
            ..AuthConfig::default()
        },
        ..ProxyConfig::default()
    }
}

/// [`config`] (no authentication, a 60 s no-answer timeout) with `presence` as the bounds
/// and settings of the dialog and presence event packages.
pub fn config_with_presence(presence: PresenceConfig) -> ProxyConfig {
    ProxyConfig {
        services: ServicesConfig {
            presence,
            ..ServicesConfig::default()
        },
        ..config(Duration::from_secs(60), false)
    }
}

/// Replaces the call-service settings of `dir` with `rows` (user of example.com, setting
/// name, value).
pub fn set_settings(dir: &StaticDirectory, rows: &[(&str, &str, &str)]) {
    dir.replace_settings(model::UserSettings::group(rows.iter().map(|(u, n, v)| {
        (
            AddressOfRecord::new(u, "example.com"),
            n.to_string(),
            v.to_string(),
        )
    })));
}

/// A directory serving example.com with `users` (no passwords).
pub fn directory(users: &[&str]) -> StaticDirectory {
    let dir = StaticDirectory::new();
    dir.replace(
        vec!["example.com".to_string()],
        users.iter().map(|u| Subscriber {
            aor: AddressOfRecord::new(u, "example.com"),
            ha1_md5: String::new(),
            ha1_sha256: String::new(),
        }),
        vec![],
    );
    dir
}

/// A proxy on a virtual clock.
pub struct Net {
    /// The proxy under test.
    pub proxy: Proxy,
    /// The virtual monotonic clock.
    pub now: Duration,
    /// The wall clock (seconds since the epoch) handed to the proxy.
    pub wall: u64,
}

impl Net {
    /// Advertised as [`PROXY`]:5060, authentication off, `no_answer` as the no-answer
    /// timeout, users alice and bob.
    pub fn new(no_answer: Duration) -> Net {
        Net::with_auth(no_answer, false)
    }

    /// [`Net::new`] with authentication on or off.
    pub fn with_auth(no_answer: Duration, auth: bool) -> Net {
        Net::with_config(config(no_answer, auth))
    }

    /// A proxy on `cfg` serving example.com with users alice and bob.
    pub fn with_config(cfg: ProxyConfig) -> Net {
        Net::with_directory(cfg, directory(&["alice", "bob"]))
    }

    /// A proxy on `cfg` serving `dir`, at time zero.
    pub fn with_directory(cfg: ProxyConfig, dir: StaticDirectory) -> Net {
        Net::with_shared_directory(cfg, Arc::new(dir))
    }

    /// A proxy on `cfg` serving `dir`, which the test keeps to change while it runs.
    pub fn with_shared_directory(cfg: ProxyConfig, dir: Arc<StaticDirectory>) -> Net {
        let registrar = Registrar::new(RegistrarConfig::default(), Arc::new(Location::new(1000)));
        let proxy = Proxy::new(cfg, sip_transaction::Config::default(), registrar, dir);
        Net {
            proxy,
            now: Duration::ZERO,
            wall: 1_000_000,
        }
    }

    /// `text` (lines ending in `\n`) as a datagram or segment from `from`.
    pub fn send(&mut self, from: Destination, text: &str) {
        let text = text.replace('\n', "\r\n");
        self.proxy
            .handle_message(self.now, self.wall, Bytes::from(text), from);
    }

    /// Everything the proxy wants sent, as bytes.
    pub fn out_raw(&mut self) -> Vec<(Destination, Bytes)> {
        std::iter::from_fn(|| self.proxy.poll_transmit()).collect()
    }

    /// Everything the proxy wants sent, parsed.
    pub fn out(&mut self) -> Vec<(Destination, SipMessage)> {
        self.out_raw()
            .into_iter()
            .map(|(d, b)| (d, SipMessage::parse(b).unwrap()))
            .collect()
    }

    /// Moves the clock on by `d` and lets the proxy's timers fire.
    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        self.proxy.handle_timeout(self.now);
    }

    /// The transport could not deliver `bytes` to `to` (a TCP connect failed, a send
    /// erred), reported at the current time.
    pub fn transport_error(&mut self, to: Destination, bytes: Bytes) {
        self.proxy.handle_transport_error(self.now, to, bytes);
    }

    /// Registers `user` at `contact` from `from`, expecting a 200.
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

/// Alice's INVITE to bob from 198.51.100.1:5060 with Via branch `branch`.
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

/// Answers `req` (as the UAS at the far end) with `status`, To tag `b<status>`.
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

/// The statuses of the responses in `out`, in order.
pub fn statuses(out: &[(Destination, SipMessage)]) -> Vec<u16> {
    out.iter()
        .filter(|(_, m)| !m.is_request())
        .map(|(_, m)| m.status())
        .collect()
}

/// The requests in `out`, as (method, destination address), in order.
pub fn requests(out: &[(Destination, SipMessage)]) -> Vec<(String, String)> {
    out.iter()
        .filter(|(_, m)| m.is_request())
        .map(|(d, m)| (m.method_str().to_string(), d.addr.to_string()))
        .collect()
}

/// A SUBSCRIBE from a phone to a user of example.com, to build and send with
/// [`Subscribe::send`]. The Via branch is made of the Call-ID and the CSeq number.
pub struct Subscribe<'a> {
    /// The subscriber's user name (From, Contact).
    pub watcher: &'a str,
    /// The subscriber's address (Via, Contact, and where it is sent from).
    pub addr: &'a str,
    /// The user watched (Request-URI, To).
    pub target: &'a str,
    /// The From tag.
    pub from_tag: String,
    /// The Call-ID.
    pub call_id: &'a str,
    /// The event package (`Event`).
    pub event: &'a str,
    /// The body type asked for (`Accept`).
    pub accept: &'a str,
    /// `Expires`.
    pub expires: u32,
    /// The To tag, for a refresh in the subscription's dialog.
    pub to_tag: Option<&'a str>,
    /// The CSeq number.
    pub cseq: u32,
}

impl<'a> Subscribe<'a> {
    /// With `Expires: expires`.
    pub fn expires(self, expires: u32) -> Self {
        Subscribe { expires, ..self }
    }

    /// A refresh in the subscription's dialog: To tag `to_tag`, CSeq `cseq`.
    pub fn refresh(self, to_tag: &'a str, cseq: u32) -> Self {
        Subscribe {
            to_tag: Some(to_tag),
            cseq,
            ..self
        }
    }

    /// Sends it from `addr` over UDP; what the proxy sent in return.
    pub fn send(&self, net: &mut Net) -> Vec<(Destination, SipMessage)> {
        let Subscribe {
            watcher,
            addr,
            target,
            from_tag,
            call_id,
            event,
            accept,
            expires,
            cseq,
            ..
        } = self;
        let to_tag = self
            .to_tag
            .map_or_else(String::new, |t| format!(";tag={t}"));
        net.send(
            udp(addr),
            &format!(
                "SUBSCRIBE sip:{target}@example.com SIP/2.0
Via: SIP/2.0/UDP {addr};branch=z9hG4bK{call_id}{cseq};rport
Max-Forwards: 70
From: <sip:{watcher}@example.com>;tag={from_tag}
To: <sip:{target}@example.com>{to_tag}
Call-ID: {call_id}
CSeq: {cseq} SUBSCRIBE
Contact: <sip:{watcher}@{addr}>
Event: {event}
Accept: {accept}
Expires: {expires}
Content-Length: 0

"
            ),
        );
        net.out()
    }
}

/// The first response in `out`.
pub fn first_response(out: &[(Destination, SipMessage)]) -> &SipMessage {
    &out.iter()
        .find(|(_, m)| !m.is_request())
        .unwrap_or_else(|| panic!("no response in {out:?}"))
        .1
}

/// The NOTIFY requests in `out`, in order.
pub fn notifies(out: &[(Destination, SipMessage)]) -> Vec<SipMessage> {
    out.iter()
        .filter(|(_, m)| m.is_request() && m.method_str() == "NOTIFY")
        .map(|(_, m)| m.clone())
        .collect()
}

/// A message's body as text.
pub fn body_text(m: &SipMessage) -> String {
    String::from_utf8_lossy(m.body()).into_owned()
}

/// The first `method` request in `out`, with where it goes.
pub fn first_request<'a>(
    out: &'a [(Destination, SipMessage)],
    method: &str,
) -> &'a (Destination, SipMessage) {
    out.iter()
        .find(|(_, m)| m.is_request() && m.method_str() == method)
        .unwrap_or_else(|| panic!("no {method} in {out:?}"))
}
