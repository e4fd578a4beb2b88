//! One dialog's state (RFC 3261 §12): its identifiers, our and the peer's CSeq, the remote
//! target and the route set, and the requests sent inside it (§12.2.1.1). It does not know
//! about transactions or calls (`agent.rs` does).

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use sip_message::{HeaderName, NameAddr, SipMessage, Uri};

/// A dialog, from our side (UAS or UAC of its INVITE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    /// Call-ID.
    pub call_id: String,
    /// Our tag (the To tag of our responses).
    pub local_tag: String,
    /// The peer's tag (its From tag).
    pub remote_tag: String,
    /// Our URI (without tag): the To of an INVITE we answer, the From of one we send.
    pub local_uri: String,
    /// The peer's From value (UAS) or To value (UAC), its tag included.
    pub remote_uri: String,
    /// Where requests inside the dialog go (the peer's Contact URI).
    pub remote_target: String,
    /// The route set (RFC 3261 §12.1.1, §12.1.2): the INVITE's Record-Route in order
    /// (UAS), or the 2xx's in reverse (UAC).
    pub route_set: Vec<String>,
    /// Our last CSeq number (our first request uses `local_cseq + 1`).
    pub local_cseq: u32,
    /// The highest CSeq number the peer used.
    pub remote_cseq: u32,
}

impl Dialog {
    /// The dialog an INVITE creates on the UAS side once we pick `local_tag`. `None` when
    /// the INVITE lacks a From tag or a usable Contact.
    pub fn from_invite(invite: &SipMessage, local_tag: &str, first_cseq: u32) -> Option<Dialog> {
        let remote_tag = invite.from_tag()?.to_string();
        let contact = invite.header(HeaderName::Contact)?;
        let remote_target = NameAddr::parse(contact).ok()?.uri.raw.to_string();
        let to = invite.to()?;
        let local_uri = match to.display {
            Some(d) => format!("{d} <{}>", to.uri.raw),
            None => format!("<{}>", to.uri.raw),
        };
        let route_set = invite
            .header_values(HeaderName::RecordRoute)
            .map(|(_, v)| v.to_string())
            .collect();
        Some(Dialog {
            call_id: invite.call_id().to_string(),
            local_tag: local_tag.to_string(),
            remote_tag,
            local_uri,
            remote_uri: invite.value(invite.from_index()).to_string(),
            remote_target,
            route_set,
            local_cseq: first_cseq,
            remote_cseq: invite.cseq().seq,
        })
    }

    /// The dialog an INVITE we send will create (RFC 3261 §12.1.2), before any answer:
    /// the remote tag, target and route set come with the 2xx ([`Dialog::confirm_uac`]).
    /// `local_uri` is our From value without its tag; `remote_uri` the To value.
    pub fn for_uac(
        call_id: &str,
        local_tag: &str,
        local_uri: &str,
        remote_uri: &str,
        request_uri: &str,
        cseq: u32,
    ) -> Dialog {
        Dialog {
            call_id: call_id.to_string(),
            local_tag: local_tag.to_string(),
            remote_tag: String::new(),
            local_uri: local_uri.to_string(),
            remote_uri: remote_uri.to_string(),
            remote_target: request_uri.to_string(),
            route_set: Vec::new(),
            local_cseq: cseq,
            remote_cseq: 0,
        }
    }

    /// Completes a UAC dialog from the 2xx to its INVITE (RFC 3261 §12.1.2): the To tag,
    /// the Contact as remote target, the Record-Route reversed as route set. False when
    /// the 2xx has no To tag.
    pub fn confirm_uac(&mut self, response: &SipMessage) -> bool {
        let Some(tag) = response.to_tag() else {
            return false;
        };
        self.remote_tag = tag.to_string();
        self.remote_uri = response.value(response.to_index()).to_string();
        if let Some(target) = response
            .header(HeaderName::Contact)
            .and_then(|c| NameAddr::parse(c).ok())
        {
            self.remote_target = target.uri.raw.to_string();
        }
        let mut routes: Vec<String> = response
            .header_values(HeaderName::RecordRoute)
            .flat_map(|(_, v)| split_routes(v))
            .collect();
        routes.reverse();
        self.route_set = routes;
        true
    }

    /// Whether a request with these identifiers belongs to this dialog.
    pub fn matches(&self, request: &SipMessage) -> bool {
        request.call_id() == self.call_id
            && request.to_tag() == Some(self.local_tag.as_str())
            && request.from_tag() == Some(self.remote_tag.as_str())
    }

    /// Where a request inside the dialog is sent: the first route (loose routing), else the
    /// remote target. Only literal IP addresses are resolved (no DNS this round); `None`
    /// for a host name.
    pub fn next_hop(&self) -> Option<SocketAddr> {
        let first = self
            .route_set
            .first()
            .and_then(|r| NameAddr::parse(r).ok())
            .map(|n| n.uri.raw.to_string())
            .unwrap_or_else(|| self.remote_target.clone());
        address_of(&first)
    }

    /// A request inside the dialog (RFC 3261 §12.2.1.1): the next CSeq, the route set as
    /// Route, From/To with the tags. `extra` are whole header lines (CRLF-terminated).
    pub fn request(
        &mut self,
        method: &str,
        branch: &str,
        via_sent_by: &str,
        contact: &str,
        extra: &str,
        body: &[u8],
    ) -> Vec<u8> {
        self.local_cseq = self.local_cseq.wrapping_add(1);
        let mut head = String::with_capacity(512);
        let _ = write!(
            head,
            "{method} {} SIP/2.0\r\nVia: SIP/2.0/UDP {via_sent_by};branch={branch};rport\r\n\
             Max-Forwards: 70\r\n",
            self.remote_target
        );
        for r in &self.route_set {
            let _ = write!(head, "Route: {r}\r\n");
        }
        let _ = write!(
            head,
            "From: {};tag={}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {} {method}\r\n\
             Contact: <{contact}>\r\n{extra}Content-Length: {}\r\n\r\n",
            self.local_uri,
            self.local_tag,
            self.remote_uri,
            self.call_id,
            self.local_cseq,
            body.len()
        );
        let mut out = head.into_bytes();
        out.extend_from_slice(body);
        out
    }
}

/// The route values of one header field (`<a>, <b>`: commas outside `<>` separate).
fn split_routes(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, ch) in v.char_indices() {
        match ch {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => {
                out.push(v[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = v[start..].trim();
    if !last.is_empty() {
        out.push(last.to_string());
    }
    out
}

/// The socket address a SIP URI names, when its host is a literal IP address (port 5060
/// when absent).
pub(crate) fn address_of(uri: &str) -> Option<SocketAddr> {
    let u = Uri::parse(uri).ok()?;
    let ip: IpAddr = u.host_unbracketed().parse().ok()?;
    Some(SocketAddr::new(ip, u.port.unwrap_or(5060)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    const INVITE: &str = "INVITE sip:voicemail@example.com;mode=deposit SIP/2.0\r\n\
        Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc\r\n\
        Record-Route: <sip:192.0.2.9;lr>\r\nRecord-Route: <sip:192.0.2.8;lr>\r\n\
        From: \"Alice\" <sip:alice@example.com>;tag=a1\r\nTo: <sip:voicemail@example.com>\r\n\
        Call-ID: c1@x\r\nCSeq: 7 INVITE\r\nContact: <sip:alice@192.0.2.1:5062>\r\n\
        Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn uas_dialog_and_bye() {
        let inv = SipMessage::parse(Bytes::from_static(INVITE.as_bytes())).unwrap();
        let mut d = Dialog::from_invite(&inv, "b2", 100).unwrap();
        assert_eq!(d.remote_cseq, 7);
        assert_eq!(
            d.route_set,
            vec!["<sip:192.0.2.9;lr>", "<sip:192.0.2.8;lr>"]
        );
        assert_eq!(d.next_hop(), Some("192.0.2.9:5060".parse().unwrap()));
        let bye = d.request(
            "BYE",
            "z9hG4bKx",
            "127.0.0.1:5070",
            "sip:vm@127.0.0.1",
            "",
            b"",
        );
        let bye = SipMessage::parse(Bytes::from(bye)).unwrap();
        assert_eq!(bye.request_uri_str(), "sip:alice@192.0.2.1:5062");
        assert_eq!(bye.cseq().seq, 101);
        assert_eq!(bye.from_tag(), Some("b2"));
        assert_eq!(bye.to_tag(), Some("a1"));
        let routes: Vec<_> = bye
            .header_values(HeaderName::Route)
            .map(|(_, v)| v)
            .collect();
        assert_eq!(routes, vec!["<sip:192.0.2.9;lr>", "<sip:192.0.2.8;lr>"]);
        d.route_set.clear();
        assert_eq!(d.next_hop(), Some("192.0.2.1:5062".parse().unwrap()));
    }
}
