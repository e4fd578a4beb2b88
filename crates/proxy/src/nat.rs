//! NAT detection (issue 19): is a party behind a NAT? Its request or answer says where it
//! thinks it is (Via sent-by, Contact, the SDP's `c=`); the transport says where its
//! packets really come from. A party is NATed when
//! - its Via sent-by or its Contact host is an IP address other than its packets' source
//!   address (what Kamailio's `nat_uac_test` flags 2 and 16 look at), or
//! - its SDP's connection address is private (RFC 1918, RFC 6598, IPv6 ULA) while its
//!   packets come from another address (flag 8).
//!
//! Host names prove nothing either way and are not counted. Pure functions over the
//! message; the relay stage (`core/relay.rs`) decides what to do with the answer.

use std::net::IpAddr;

use sip_message::{HeaderName, NameAddr, SipMessage, Uri};

/// `[relay] mode`: which calls the media relay carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RelayMode {
    /// None (no relay configured).
    #[default]
    Never,
    /// Calls where a party is behind NAT.
    Nat,
    /// Every call with SDP.
    Always,
}

/// True for an address a home router hands out (RFC 1918, RFC 6598 shared space, IPv6
/// unique local).
pub(crate) fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private() || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// The IP address a URI host names, when it is one.
fn host_ip(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// The host of `contact` (a Contact value or a bare URI) as an IP address.
pub(crate) fn contact_ip(contact: &str) -> Option<IpAddr> {
    let uri = match NameAddr::parse(contact) {
        Ok(na) => na.uri,
        Err(_) => Uri::parse(contact).ok()?,
    };
    host_ip(uri.host_unbracketed())
}

/// The SDP's first connection address.
pub(crate) fn sdp_ip(body: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(body).ok()?;
    text.lines()
        .find_map(|l| l.trim_end().strip_prefix("c="))
        .and_then(|c| c.split_whitespace().nth(2))
        .and_then(|a| a.parse().ok())
}

/// True when `msg` (a request from, or an answer by, the party whose packets come from
/// `source`) shows that party behind a NAT. For a response the Via is ours, so only
/// Contact and SDP count.
pub(crate) fn behind_nat(msg: &SipMessage, source: IpAddr) -> bool {
    let differs = |ip: Option<IpAddr>| ip.is_some_and(|ip| ip != source);
    if msg.is_request() && differs(msg.top_via().and_then(|v| host_ip(v.host))) {
        return true;
    }
    if differs(msg.header(HeaderName::Contact).and_then(contact_ip)) {
        return true;
    }
    sdp_ip(msg.body()).is_some_and(|ip| ip != source && is_private(ip))
}

/// True when the body looks like SDP (an offer or answer to relay).
pub(crate) fn has_sdp(msg: &SipMessage) -> bool {
    let body = msg.body();
    let typed = msg.header(HeaderName::ContentType).is_none_or(|ct| {
        ct.trim()
            .to_ascii_lowercase()
            .starts_with("application/sdp")
    });
    typed && body.starts_with(b"v=0")
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn invite(via_host: &str, contact_host: &str, c: &str) -> SipMessage {
        let sdp = format!("v=0\r\no=- 1 1 IN IP4 {c}\r\ns=-\r\nc=IN IP4 {c}\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n");
        let text = format!(
            "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP {via_host}:5060;branch=z9hG4bK1;rport\r\n\
             From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\
             Contact: <sip:alice@{contact_host}:5060>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        );
        SipMessage::parse(Bytes::from(text)).unwrap()
    }

    #[test]
    fn a_phone_behind_nat_is_seen() {
        let source: IpAddr = "203.0.113.7".parse().unwrap();
        // All three say 192.168.1.2: NATed.
        assert!(behind_nat(
            &invite("192.168.1.2", "192.168.1.2", "192.168.1.2"),
            source
        ));
        // Only the SDP is private (a phone whose SIP is fixed up by an ALG).
        assert!(behind_nat(
            &invite("203.0.113.7", "203.0.113.7", "192.168.1.2"),
            source
        ));
        // Only the Contact.
        assert!(behind_nat(
            &invite("203.0.113.7", "10.0.0.2", "203.0.113.7"),
            source
        ));
        // Everything matches: not NATed, even when the address is private itself.
        assert!(!behind_nat(
            &invite("203.0.113.7", "203.0.113.7", "203.0.113.7"),
            source
        ));
        let lan: IpAddr = "10.99.0.2".parse().unwrap();
        assert!(!behind_nat(
            &invite("10.99.0.2", "10.99.0.2", "10.99.0.2"),
            lan
        ));
        // Names prove nothing; a public SDP address elsewhere (a media server) is no NAT.
        assert!(!behind_nat(
            &invite("pbx.example.com", "pbx.example.com", "198.51.100.1"),
            source
        ));
        assert!(has_sdp(&invite("a", "b", "10.0.0.1")));
    }

    #[test]
    fn private_addresses() {
        for a in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.2",
            "100.64.0.1",
            "fd00::1",
        ] {
            assert!(is_private(a.parse().unwrap()), "{a}");
        }
        for a in ["203.0.113.5", "127.0.0.1", "100.128.0.1", "2001:db8::1"] {
            assert!(!is_private(a.parse().unwrap()), "{a}");
        }
        assert_eq!(
            contact_ip("<sip:a@[::1]:5060>"),
            Some("::1".parse().unwrap())
        );
        assert_eq!(contact_ip("sip:a@host.example"), None);
    }
}
