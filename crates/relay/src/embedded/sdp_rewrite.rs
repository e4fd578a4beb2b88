//! The SDP side of the embedded relay: what a party's SDP says about where it wants its
//! media ([`parse`]), and the same SDP with the relay's address and ports in place of the
//! party's ([`rewrite`]): `c=`, each `m=` port, `a=rtcp` (RFC 3605) when present; codecs,
//! directions and every other line kept as written. ICE lines go (candidates would lead the
//! far end around the relay).
//!
//! Line-based on purpose: nothing but the addresses changes, so nothing else is reprinted.
//! Not here: ports, sockets, which party wrote the SDP (`mod.rs`).

use std::net::{IpAddr, SocketAddr};

use crate::RelayError;

/// Most media streams (`m=` lines) one call may relay.
pub const MAX_STREAMS: usize = 4;

/// Where one media stream of an SDP wants its packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamAddr {
    /// RTP address (`c=` of the stream or the session, `m=` port). Port 0: rejected stream.
    pub rtp: SocketAddr,
    /// RTCP address (`a=rtcp`, else the RTP port + 1).
    pub rtcp: SocketAddr,
}

/// The streams of an SDP, in `m=` order.
pub fn parse(sdp: &str) -> Result<Vec<StreamAddr>, RelayError> {
    let mut session_c: Option<IpAddr> = None;
    let mut streams: Vec<(Option<IpAddr>, u16, Option<u16>)> = Vec::new();
    for line in sdp.lines() {
        let line = line.trim_end();
        if let Some(rest) = line.strip_prefix("c=") {
            let ip = connection_ip(rest)?;
            match streams.last_mut() {
                Some(s) => s.0 = Some(ip),
                None => session_c = Some(ip),
            }
        } else if let Some(rest) = line.strip_prefix("m=") {
            let port = rest
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.split('/').next())
                .and_then(|p| p.parse::<u16>().ok())
                .ok_or_else(|| RelayError::BadSdp(format!("bad media line `{line}`")))?;
            if streams.len() >= MAX_STREAMS {
                return Err(RelayError::BadSdp(format!(
                    "more than {MAX_STREAMS} media streams"
                )));
            }
            streams.push((None, port, None));
        } else if let Some(rest) = line.strip_prefix("a=rtcp:") {
            if let Some(s) = streams.last_mut() {
                s.2 = rest.split_whitespace().next().and_then(|p| p.parse().ok());
            }
        }
    }
    if streams.is_empty() {
        return Err(RelayError::BadSdp("no media line".into()));
    }
    streams
        .into_iter()
        .map(|(c, port, rtcp)| {
            let ip = c
                .or(session_c)
                .ok_or_else(|| RelayError::BadSdp("a media stream has no c= line".into()))?;
            let rtcp_port = rtcp.unwrap_or(if port == 0 { 0 } else { port.wrapping_add(1) });
            Ok(StreamAddr {
                rtp: SocketAddr::new(ip, port),
                rtcp: SocketAddr::new(ip, rtcp_port),
            })
        })
        .collect()
}

fn connection_ip(rest: &str) -> Result<IpAddr, RelayError> {
    // `IN IP4 192.0.2.1` (a multicast TTL suffix `/127` is not ours to relay).
    let addr = rest
        .split_whitespace()
        .nth(2)
        .ok_or_else(|| RelayError::BadSdp(format!("bad connection line `c={rest}`")))?;
    addr.parse().map_err(|_| {
        RelayError::BadSdp(format!("connection address `{addr}` is not an IP address"))
    })
}

/// `sdp` with the relay's address `relay` and its RTP port `ports[i]` (RTCP on + 1) for
/// stream `i`; rejected streams (port 0) stay rejected.
pub fn rewrite(sdp: &str, relay: IpAddr, ports: &[u16]) -> String {
    let family = if relay.is_ipv4() { "IP4" } else { "IP6" };
    let eol = if sdp.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = String::with_capacity(sdp.len() + 32);
    let mut stream: Option<usize> = None;
    let mut port_of_stream = 0u16;
    for line in sdp.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        if line.starts_with("a=candidate:")
            || line.starts_with("a=ice-")
            || line.starts_with("a=remote-candidates")
            || line.starts_with("a=end-of-candidates")
        {
            continue;
        }
        if line.starts_with("c=") {
            out.push_str(&format!("c=IN {family} {relay}"));
        } else if let Some(rest) = line.strip_prefix("m=") {
            let i = stream.map_or(0, |s| s + 1);
            stream = Some(i);
            let mut fields = rest.splitn(3, ' ');
            let media = fields.next().unwrap_or("");
            let port = fields.next().unwrap_or("0");
            let tail = fields.next().unwrap_or("");
            let rejected = port == "0";
            port_of_stream = if rejected {
                0
            } else {
                ports.get(i).copied().unwrap_or(0)
            };
            out.push_str(&format!("m={media} {port_of_stream} {tail}"));
        } else if line.starts_with("a=rtcp:") {
            if port_of_stream == 0 {
                continue;
            }
            out.push_str(&format!(
                "a=rtcp:{} IN {family} {relay}",
                port_of_stream.wrapping_add(1)
            ));
        } else if line.starts_with("o=") {
            // The origin's address says who made the session; ours now.
            let mut f: Vec<&str> = line.split(' ').collect();
            if f.len() == 6 {
                let r = relay.to_string();
                f[4] = family;
                f[5] = &r;
                out.push_str(&f.join(" "));
            } else {
                out.push_str(line);
            }
        } else {
            out.push_str(line);
        }
        out.push_str(eol);
    }
    out
}

/// True for an address a home router hands out (RFC 1918, RFC 6598 shared space, IPv6
/// unique local): seen in SDP while the packets come from elsewhere, it means NAT.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private() || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=alice 1 1 IN IP4 192.168.1.2\r\ns=-\r\nc=IN IP4 192.168.1.2\r\n\
        t=0 0\r\nm=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n\
        a=rtcp:40001 IN IP4 192.168.1.2\r\na=candidate:1 1 UDP 1 192.168.1.2 40000 typ host\r\na=sendrecv\r\n";

    #[test]
    fn reads_the_streams() {
        let s = parse(OFFER).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].rtp, "192.168.1.2:40000".parse().unwrap());
        assert_eq!(s[0].rtcp, "192.168.1.2:40001".parse().unwrap());
        // Media-level c= wins; no a=rtcp: RTP port + 1.
        let two = "v=0\nc=IN IP4 10.0.0.1\nm=audio 5000 RTP/AVP 0\nc=IN IP4 10.0.0.9\nm=video 0 RTP/AVP 96\n";
        let s = parse(two).unwrap();
        assert_eq!(s[0].rtp, "10.0.0.9:5000".parse().unwrap());
        assert_eq!(s[0].rtcp.port(), 5001);
        assert_eq!(s[1].rtp.port(), 0);
    }

    #[test]
    fn refuses_what_it_cannot_relay() {
        assert!(matches!(parse("v=0\r\n"), Err(RelayError::BadSdp(_))));
        assert!(matches!(
            parse("v=0\r\nm=audio 5000 RTP/AVP 0\r\n"),
            Err(RelayError::BadSdp(m)) if m.contains("no c=")
        ));
        assert!(matches!(
            parse("v=0\r\nc=IN IP4 host.example\r\nm=audio 5000 RTP/AVP 0\r\n"),
            Err(RelayError::BadSdp(_))
        ));
        assert!(matches!(
            parse("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio x RTP/AVP 0\r\n"),
            Err(RelayError::BadSdp(_))
        ));
    }

    #[test]
    fn rewrites_addresses_and_keeps_codecs() {
        let out = rewrite(OFFER, "203.0.113.5".parse().unwrap(), &[30000]);
        assert!(out.contains("c=IN IP4 203.0.113.5\r\n"), "{out}");
        assert!(out.contains("m=audio 30000 RTP/AVP 0 8 101\r\n"), "{out}");
        assert!(out.contains("a=rtcp:30001 IN IP4 203.0.113.5\r\n"), "{out}");
        assert!(out.contains("o=alice 1 1 IN IP4 203.0.113.5\r\n"), "{out}");
        assert!(out.contains("a=rtpmap:101 telephone-event/8000\r\n"));
        assert!(out.contains("a=sendrecv\r\n"));
        assert!(!out.contains("candidate"));
        assert!(!out.contains("192.168.1.2"));
        assert_eq!(
            parse(&out).unwrap()[0].rtp,
            "203.0.113.5:30000".parse().unwrap()
        );
    }

    #[test]
    fn rejected_streams_stay_rejected() {
        let sdp = "v=0\nc=IN IP4 10.0.0.1\nm=audio 5000 RTP/AVP 0\nm=video 0 RTP/AVP 96\n";
        let out = rewrite(sdp, "::1".parse().unwrap(), &[30000, 30002]);
        assert!(out.contains("m=video 0 RTP/AVP 96\n"), "{out}");
        assert!(out.contains("c=IN IP6 ::1\n"), "{out}");
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
    }
}
