//! Transport failures reported back by the server (RFC 3261 §17.1.4, §16.9): a request the
//! proxy forwarded could not be sent (TCP connect or write failed, a UDP send was refused or
//! drew an ICMP error).
//!
//! The client transaction that sent it ends at once and its branch counts as a 503, so the
//! fork manager tries the next serial group or answers upstream without waiting for Timer
//! B or F. A response that could not be sent needs nothing beyond a log line: its server
//! transaction retransmits (UDP) or the client retries. This file holds no I/O: the server
//! hands back the bytes it failed to send — possibly only their start (an ICMP error quotes
//! a few hundred bytes), which is why only the request line and the top Via are read.

use std::time::Duration;

use bytes::Bytes;
use sip_message::Via;

use super::Proxy;
use crate::destination::Destination;

/// What identifies an undeliverable message, read from its first lines.
#[derive(Debug, PartialEq, Eq)]
enum Undelivered<'a> {
    /// A request: its method and top Via branch (RFC 3261 §17.1.3 client matching).
    Request { method: &'a str, branch: &'a str },
    /// A response, or nothing recognisable.
    Other,
}

/// Reads the request line and the first Via of `data`, which may be cut anywhere after.
fn identify(data: &[u8]) -> Undelivered<'_> {
    let text = match std::str::from_utf8(data) {
        Ok(t) => t,
        // Cut in the middle of a multi-byte character: keep the valid start.
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap_or(""),
    };
    // Only whole lines: a Via cut in its branch must not match by its prefix.
    let whole = &text[..text.rfind("\r\n").map_or(0, |p| p + 2)];
    let mut lines = whole.split("\r\n");
    let first = lines.next().unwrap_or("");
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or("");
    if method.is_empty() || method.starts_with("SIP/") || parts.nth(1) != Some("SIP/2.0") {
        return Undelivered::Other;
    }
    for line in lines.take_while(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim_end();
        if name.eq_ignore_ascii_case("via") || name.eq_ignore_ascii_case("v") {
            let first_value = value.split(',').next().unwrap_or("").trim();
            return match Via::parse(first_value).ok().and_then(|v| v.branch()) {
                Some(branch) => Undelivered::Request { method, branch },
                None => Undelivered::Other,
            };
        }
    }
    Undelivered::Other
}

impl Proxy {
    /// The transport failed to deliver `data`, a message from [`Proxy::poll`] (or
    /// its start), to `dest`. A forwarded request ends its branch as a 503 at once.
    pub fn handle_transport_error(&mut self, now: Duration, dest: Destination, data: Bytes) {
        match identify(&data) {
            Undelivered::Request { method, branch } => {
                match self
                    .layer
                    .handle_request_transport_error(now, branch, method)
                {
                    Some(id) => tracing::info!(
                        dest = %dest.addr,
                        transport = dest.transport.as_str(),
                        method,
                        branch,
                        %id,
                        "request could not be sent: branch ends as 503"
                    ),
                    None => tracing::debug!(
                        dest = %dest.addr,
                        method,
                        branch,
                        "undeliverable request has no live client transaction"
                    ),
                }
            }
            Undelivered::Other => tracing::debug!(
                dest = %dest.addr,
                transport = dest.transport.as_str(),
                "response (or unreadable message) could not be sent"
            ),
        }
        self.pump(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_method_and_branch_from_a_truncated_request() {
        let full = "INVITE sip:bob@203.0.113.5 SIP/2.0\r\nMax-Forwards: 69\r\nv: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKabc, SIP/2.0/UDP 198.51.100.1;branch=z9hG4bKup\r\nVia: SIP/2.0/UDP x;branch=z9hG4bKother\r\nCSeq: 1 INVITE\r\n\r\n";
        let expected = Undelivered::Request {
            method: "INVITE",
            branch: "z9hG4bKabc",
        };
        assert_eq!(identify(full.as_bytes()), expected);
        // Cut just after the Via (as an ICMP quote may be).
        let cut = &full.as_bytes()[..full.find("Via:").unwrap()];
        assert_eq!(identify(cut), expected);
        // Cut inside the Via line: its branch may be incomplete, so nothing is read.
        let mid_via = full.find("z9hG4bKabc").unwrap() + 8;
        assert_eq!(identify(&full.as_bytes()[..mid_via]), Undelivered::Other);
        // Cut inside the request line.
        assert_eq!(identify(&full.as_bytes()[..10]), Undelivered::Other);
    }

    #[test]
    fn responses_and_garbage_are_not_requests() {
        let resp = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK1\r\n\r\n";
        assert_eq!(identify(resp.as_bytes()), Undelivered::Other);
        assert_eq!(identify(b"\xff\xfe garbage"), Undelivered::Other);
        assert_eq!(identify(b""), Undelivered::Other);
    }
}
