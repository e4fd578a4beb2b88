//! A SIP phone in the test process, written by hand over UDP on 127.0.0.1: REGISTER,
//! INVITE with an SDP offer, ACK, BYE, answering an INVITE or the far end's BYE, INFO. It plays the signalling of a
//! call whose media is a [`crate::rtp_peer::RtpPeer`], against a service host or the
//! server. Once answered, requests in the dialog go to the far end's Contact with the
//! Route set from the 2xx's Record-Route (RFC 3261 §12.1.2), so a call through the proxy
//! keeps to the proxy's route.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use crate::rtp_peer::RtpPeer;

/// A SIP message received, as text.
#[derive(Debug, Clone)]
pub struct Received {
    /// The whole message.
    pub text: String,
}

impl Received {
    /// Every value of a header (by full name, case-insensitive), one per header line.
    pub fn headers(&self, name: &str) -> Vec<&str> {
        let head = self.text.split("\r\n\r\n").next().unwrap_or("");
        head.lines()
            .skip(1)
            .filter_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
            })
            .collect()
    }

    /// The status code of a response (0 for a request).
    pub fn status(&self) -> u16 {
        self.text
            .strip_prefix("SIP/2.0 ")
            .and_then(|r| r.get(..3))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }

    /// The method of a request ("" for a response).
    pub fn method(&self) -> &str {
        if self.text.starts_with("SIP/2.0") {
            return "";
        }
        self.text.split(' ').next().unwrap_or("")
    }

    /// The first value of a header (by full name, case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let head = self.text.split("\r\n\r\n").next().unwrap_or("");
        head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The body.
    pub fn body(&self) -> &str {
        self.text.split_once("\r\n\r\n").map_or("", |(_, b)| b)
    }

    /// The RTP address of an SDP body (`c=` and the first `m=`).
    pub fn sdp_rtp_addr(&self) -> Option<SocketAddr> {
        sdp_rtp_addr(self.body())
    }
}

/// The `m=audio` port of an SDP body.
pub fn sdp_audio_port(sdp: &str) -> Option<u16> {
    sdp.lines()
        .find_map(|l| l.trim().strip_prefix("m=audio "))?
        .split(' ')
        .next()?
        .parse()
        .ok()
}

/// The RTP address of an SDP body (`c=IN IP4` and the first `m=audio`).
pub fn sdp_rtp_addr(sdp: &str) -> Option<SocketAddr> {
    let ip = sdp
        .lines()
        .find_map(|l| l.trim().strip_prefix("c=IN IP4 "))?
        .trim()
        .parse()
        .ok()?;
    Some(SocketAddr::new(ip, sdp_audio_port(sdp)?))
}

/// One call's signalling from the caller's side.
pub struct SipPhone {
    sock: UdpSocket,
    /// Where requests go.
    pub server: SocketAddr,
    call_id: String,
    cseq: u32,
    /// The request URI of the INVITE.
    pub uri: String,
    /// The To header of the dialog (with the far end's tag once answered).
    pub to: String,
    /// Our From header (with our tag).
    pub from: String,
    /// The dialog's remote target (the 2xx's Contact URI), once answered.
    target: Option<String>,
    /// The dialog's Route set (the 2xx's Record-Route, reversed), once answered.
    route: Vec<String>,
    /// Extra header lines of the next request but ACK (e.g. `Join: ...\r\n`).
    extra_headers: String,
}

impl SipPhone {
    /// A phone on a free 127.0.0.1 port calling through `server`.
    pub fn new(server: SocketAddr, from_user: &str) -> SipPhone {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let port = sock.local_addr().unwrap().port();
        SipPhone {
            sock,
            server,
            call_id: format!("phone-{port}-{}", std::process::id()),
            cseq: 0,
            uri: String::new(),
            to: String::new(),
            from: format!("<sip:{from_user}@example.com>;tag=ph{port}"),
            target: None,
            route: Vec::new(),
            extra_headers: String::new(),
        }
    }

    /// Our SIP address.
    pub fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    /// An SDP offer for an RTP port on 127.0.0.1, with these `m=` formats and extra lines.
    pub fn offer(rtp: SocketAddr, formats: &str, extra: &str) -> String {
        format!(
            "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {} RTP/AVP {formats}\r\n{extra}",
            rtp.port()
        )
    }

    /// A PCMU + telephone-event/101 offer.
    pub fn pcmu_offer(rtp: SocketAddr) -> String {
        Self::offer(
            rtp,
            "0 101",
            "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n",
        )
    }

    fn send_request(&mut self, method: &str, cseq: u32, body: &str, content_type: &str) {
        let me = self.addr();
        let ct = if body.is_empty() {
            String::new()
        } else {
            format!("Content-Type: {content_type}\r\n")
        };
        let route: String = self
            .route
            .iter()
            .map(|r| format!("Route: {r}\r\n"))
            .collect();
        let extra = if method != "ACK" {
            self.extra_headers.as_str()
        } else {
            ""
        };
        let msg = format!(
            "{method} {} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{method}{cseq}{}\r\n\
             Max-Forwards: 70\r\n{route}From: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\n\
             Contact: <sip:phone@{me}>\r\n{extra}{ct}Content-Length: {}\r\n\r\n{body}",
            self.target.as_deref().unwrap_or(&self.uri),
            self.call_id.len(),
            self.from,
            self.to,
            self.call_id,
            body.len()
        );
        self.sock.send_to(msg.as_bytes(), self.server).unwrap();
    }

    /// The next message within `limit`.
    pub fn recv(&self, limit: Duration) -> Option<Received> {
        let deadline = Instant::now() + limit;
        let mut buf = vec![0u8; 65_536];
        while Instant::now() < deadline {
            if let Ok((n, _)) = self.sock.recv_from(&mut buf) {
                return Some(Received {
                    text: String::from_utf8_lossy(&buf[..n]).into_owned(),
                });
            }
        }
        None
    }

    /// Sends an INVITE to `uri` with `sdp` and returns the final response (provisional
    /// ones skipped); on a 2xx the ACK is sent and the dialog's To kept.
    pub fn invite(&mut self, uri: &str, sdp: &str) -> Received {
        self.uri = uri.to_string();
        self.to = format!("<{}>", uri.split(';').next().unwrap_or(uri));
        self.target = None;
        self.route.clear();
        self.cseq += 1;
        let cseq = self.cseq;
        self.send_request("INVITE", cseq, sdp, "application/sdp");
        loop {
            let r = self
                .recv(Duration::from_secs(10))
                .expect("no final response to INVITE within 10 s");
            let status = r.status();
            if status >= 200 {
                if let Some(to) = r.header("To") {
                    self.to = to.to_string();
                }
                if status < 300 {
                    self.target = r.header("Contact").map(|c| match c.split_once('<') {
                        Some((_, rest)) => rest.split('>').next().unwrap_or(rest).to_string(),
                        None => c.split(';').next().unwrap_or(c).to_string(),
                    });
                    let mut route: Vec<String> = r
                        .headers("Record-Route")
                        .iter()
                        .flat_map(|v| v.split(','))
                        .map(|v| v.trim().to_string())
                        .collect();
                    route.reverse();
                    self.route = route;
                    self.send_request("ACK", cseq, "", "");
                }
                return r;
            }
        }
    }

    /// [`SipPhone::invite`] with extra header lines (each ending in CRLF), such as an
    /// RFC 3911 `Join`.
    pub fn invite_with(&mut self, uri: &str, sdp: &str, headers: &str) -> Received {
        self.extra_headers = headers.to_string();
        let r = self.invite(uri, sdp);
        self.extra_headers.clear();
        r
    }

    /// [`SipPhone::request`] with extra header lines (each ending in CRLF), such as the
    /// `Refer-To` of a REFER.
    pub fn request_with(
        &mut self,
        method: &str,
        body: &str,
        content_type: &str,
        headers: &str,
    ) -> Received {
        self.extra_headers = headers.to_string();
        let r = self.request(method, body, content_type);
        self.extra_headers.clear();
        r
    }

    /// Sends a request in the dialog (e.g. INFO, a re-INVITE) and returns its final
    /// response; a 2xx to a re-INVITE is ACKed.
    pub fn request(&mut self, method: &str, body: &str, content_type: &str) -> Received {
        self.cseq += 1;
        let cseq = self.cseq;
        self.send_request(method, cseq, body, content_type);
        loop {
            let r = self
                .recv(Duration::from_secs(10))
                .unwrap_or_else(|| panic!("no response to {method} within 10 s"));
            if r.status() >= 200 && r.header("CSeq").is_some_and(|c| c.ends_with(method)) {
                if method == "INVITE" && r.status() < 300 {
                    self.send_request("ACK", cseq, "", "");
                }
                return r;
            }
        }
    }

    /// Hangs up; returns the BYE's status.
    pub fn bye(&mut self) -> u16 {
        self.request("BYE", "", "").status()
    }

    /// Registers this phone's address as `user`'s binding for 600 s (a server without
    /// authentication); panics unless the answer is 200.
    pub fn register(&mut self, user: &str) {
        let me = self.addr();
        self.cseq += 1;
        let msg = format!(
            "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKreg{}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:{user}@example.com>;tag=reg{}\r\n\
             To: <sip:{user}@example.com>\r\nCall-ID: reg-{}\r\nCSeq: {} REGISTER\r\n\
             Contact: <sip:{user}@{me}>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n",
            self.cseq,
            me.port(),
            self.call_id,
            self.cseq
        );
        self.sock.send_to(msg.as_bytes(), self.server).unwrap();
        let r = self
            .recv(Duration::from_secs(10))
            .expect("no answer to REGISTER within 10 s");
        assert_eq!(r.status(), 200, "REGISTER: {}", r.text);
    }

    /// Waits for an INVITE and answers it 200 with `sdp` (its Vias, Record-Route and
    /// dialog headers copied, our tag added); returns the INVITE.
    pub fn answer_invite(&self, sdp: &str, limit: Duration) -> Option<Received> {
        let deadline = Instant::now() + limit;
        loop {
            let r = self.recv(deadline.saturating_duration_since(Instant::now()))?;
            if r.method() != "INVITE" {
                continue;
            }
            let me = self.addr();
            let mut answer = String::from("SIP/2.0 200 OK\r\n");
            for name in ["Via", "Record-Route", "From", "Call-ID", "CSeq"] {
                for v in r.headers(name) {
                    answer.push_str(&format!("{name}: {v}\r\n"));
                }
            }
            let to = r.header("To").unwrap_or("");
            answer.push_str(&format!(
                "To: {to};tag=ans{}\r\nContact: <sip:phone@{me}>\r\n\
                 Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
                me.port(),
                sdp.len()
            ));
            self.sock.send_to(answer.as_bytes(), self.server).unwrap();
            return Some(r);
        }
    }

    /// Waits for an INVITE and leaves it unanswered (a phone that rings on while another
    /// device takes the call); returns it.
    pub fn wait_invite(&self, limit: Duration) -> Option<Received> {
        let deadline = Instant::now() + limit;
        loop {
            let r = self.recv(deadline.saturating_duration_since(Instant::now()))?;
            if r.method() == "INVITE" {
                return Some(r);
            }
        }
    }

    /// Waits for a request `method` from the far end (e.g. its BYE) and answers it 200.
    pub fn expect_request(&self, method: &str, limit: Duration) -> Option<Received> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let Some(r) = self.recv(deadline.saturating_duration_since(Instant::now())) else {
                break;
            };
            if r.method() == method {
                let mut answer = String::from("SIP/2.0 200 OK\r\n");
                for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
                    if let Some(v) = r.header(name) {
                        answer.push_str(&format!("{name}: {v}\r\n"));
                    }
                }
                answer.push_str("Content-Length: 0\r\n\r\n");
                self.sock.send_to(answer.as_bytes(), self.server).unwrap();
                return Some(r);
            }
        }
        None
    }
}

/// A call that was answered: `from_user`'s phone through `server` calls `uri` with a PCMU
/// offer for a new [`RtpPeer`] and extra `headers` (each ending in CRLF; may be empty),
/// and must get 200. Returns the phone (in the dialog), its RTP peer and the RTP address
/// the answer names.
pub fn answered_pcmu_call(
    server: SocketAddr,
    from_user: &str,
    uri: &str,
    headers: &str,
) -> (SipPhone, RtpPeer, SocketAddr) {
    let peer = RtpPeer::bind();
    let mut phone = SipPhone::new(server, from_user);
    let ok = phone.invite_with(uri, &SipPhone::pcmu_offer(peer.addr()), headers);
    assert_eq!(ok.status(), 200, "{}", ok.text);
    let media = ok.sdp_rtp_addr().unwrap();
    (phone, peer, media)
}
