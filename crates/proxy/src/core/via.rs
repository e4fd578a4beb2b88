//! The received top Via and where answers go (RFC 3261 §18.2.1-§18.2.2, RFC 3581):
//! `received`/`rport` filled in for forwarded requests and answers, `force_rport` for UDP
//! phones behind NAT that do not ask for symmetric answers, and the answer's destination
//! (the connection for streams, the source or Via port for UDP).

use sip_message::digits::{push_decimal, push_ip};
use sip_message::SipMessage;

use crate::destination::Destination;

/// The received top Via with `received` and `rport` filled in (RFC 3261 §18.2.1,
/// RFC 3581), or None when it needs no change. With `force_rport`, a UDP request whose Via
/// has no `rport` is treated as if it had asked (`;rport=PORT;received=IP` appended).
pub(super) fn fixed_top_via(
    req: &SipMessage,
    source: &Destination,
    force_rport: bool,
) -> Option<String> {
    let via = req.top_via()?;
    let ip = source.addr.ip();
    // Compared as addresses (a host name never matches): formatting the source address
    // for every request only to compare it cost more than the rest of this function.
    let needs_received = via
        .host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        != Ok(ip);
    let rport = via.rport();
    let forced = rport.is_none() && rport_forced(source, force_rport);
    if !needs_received && rport != Some(None) && !forced {
        return None;
    }
    let raw = req.value(req.top_via_index());
    let mut out = String::with_capacity(raw.len() + 40);
    // Rewrite an empty `rport` in place; append `received`.
    let mut params_done = false;
    if rport == Some(None) {
        // Find the bare rport parameter and give it the source port.
        if let Some(pos) = find_bare_param(raw, "rport") {
            out.push_str(&raw[..pos + 5]);
            out.push('=');
            push_decimal(&mut out, source.addr.port());
            out.push_str(&raw[pos + 5..]);
            params_done = true;
        }
    }
    if !params_done {
        out.push_str(raw);
    }
    if forced {
        out.push_str(";rport=");
        push_decimal(&mut out, source.addr.port());
    }
    if (needs_received || rport.is_some() || forced) && via.received().is_none() {
        out.push_str(";received=");
        push_ip(&mut out, ip);
    }
    Some(out)
}

/// Whether `force_rport` applies to a request from `source`: datagram transports only
/// (a stream's answers go back on its connection anyway).
fn rport_forced(source: &Destination, force_rport: bool) -> bool {
    force_rport && !source.transport.is_reliable()
}

/// Offset of a parameter `;name` with no value in a Via value.
fn find_bare_param(raw: &str, name: &str) -> Option<usize> {
    let lower = raw.to_ascii_lowercase();
    let mut from = 0;
    while let Some(p) = lower[from..].find(name) {
        let at = from + p;
        let before = lower[..at].trim_end();
        let after = &lower[at + name.len()..];
        if before.ends_with(';') && !after.trim_start().starts_with('=') {
            return Some(at);
        }
        from = at + name.len();
    }
    None
}

/// Where responses to a request go (RFC 3261 §18.2.2 with RFC 3581): over a stream, the
/// connection, and should it be closed by then a new one to the source IP at the Via's
/// sent-by port (never the client's ephemeral port, where nothing listens); over UDP, the
/// source address when `rport` was asked for (or is forced by `force_rport`), else the
/// source IP with the Via port.
pub(super) fn response_destination(
    req: &SipMessage,
    source: &Destination,
    force_rport: bool,
) -> Destination {
    if source.transport.is_reliable() {
        let mut d = *source;
        if let Some(v) = req.top_via() {
            d.addr
                .set_port(v.port.unwrap_or(source.transport.default_port()));
        }
        return d;
    }
    match req.top_via() {
        Some(v) if v.rport().is_none() && !rport_forced(source, force_rport) => {
            let mut d = *source;
            d.addr.set_port(v.port.unwrap_or(5060));
            d
        }
        _ => *source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::destination::Transport;
    use bytes::Bytes;

    /// An OPTIONS whose top Via is `SIP/2.0/UDP 10.0.0.1:5062{params};branch=z9hG4bK1`.
    fn options(params: &str) -> SipMessage {
        SipMessage::parse(Bytes::from(format!(
            "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5062{params};branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n"
        )))
        .unwrap()
    }

    /// Where the test requests come from: UDP, another address and port than their Via.
    fn udp_source() -> Destination {
        Destination {
            transport: Transport::Udp,
            addr: "192.0.2.7:40000".parse().unwrap(),
            conn: None,
        }
    }

    #[test]
    fn rport_and_received() {
        let req = options(";rport");
        let src = udp_source();
        assert_eq!(
            fixed_top_via(&req, &src, false).unwrap(),
            "SIP/2.0/UDP 10.0.0.1:5062;rport=40000;branch=z9hG4bK1;received=192.0.2.7"
        );
        assert_eq!(response_destination(&req, &src, false).addr, src.addr);
    }

    #[test]
    fn force_rport_answers_the_source_port() {
        let req = options("");
        let src = udp_source();
        // Forced: as if the client had sent `;rport`.
        assert_eq!(
            fixed_top_via(&req, &src, true).unwrap(),
            "SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1;rport=40000;received=192.0.2.7"
        );
        assert_eq!(response_destination(&req, &src, true).addr, src.addr);
        // Not forced: RFC 3261 §18.2.2, the source IP with the Via port.
        assert_eq!(
            fixed_top_via(&req, &src, false).unwrap(),
            "SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1;received=192.0.2.7"
        );
        assert_eq!(
            response_destination(&req, &src, false).addr,
            "192.0.2.7:5062".parse().unwrap()
        );
        // A stream transport answers on its connection; its Via is left alone.
        let tcp = Destination {
            transport: Transport::Tcp,
            ..src
        };
        assert!(!fixed_top_via(&req, &tcp, true).unwrap().contains("rport"));
        // RFC 3261 §18.2.2: on the connection; if it closed, a new one to the sent-by port.
        let tcp = Destination {
            conn: Some(sip_message::ConnectionId(9)),
            ..tcp
        };
        let d = response_destination(&req, &tcp, true);
        assert_eq!(d.conn, Some(sip_message::ConnectionId(9)));
        assert_eq!(d.addr, "192.0.2.7:5062".parse().unwrap());
    }
}
