//! RFC 5626 §5.3 flow tokens: the user part of the Record-Route URI the proxy writes
//! towards a phone that reached it over an outbound flow. The token names the flow (its
//! transport, the phone's address and port, the connection when there is one) so that an
//! in-dialog request from the other side goes back over that very flow, without a table:
//! the flow is in the token, and an HMAC-SHA256 under a key made at each start keeps
//! anyone from naming a flow that is not theirs (a token from before a restart, or
//! forged, fails the check).
//!
//! The token is `flow-` and the lower-case hex of `kind || address || port || [connection]
//! || mac`, where `kind` holds the transport, the address family and whether a connection
//! id follows, and `mac` is the first 10 bytes of the HMAC of what precedes it.
//!
//! Not here: where tokens are written (`core/branch_request.rs`) or followed
//! (`core/flow_route.rs`).

use std::net::{IpAddr, SocketAddr};

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sip_message::ConnectionId;

use crate::destination::{Destination, Transport};

type HmacSha256 = Hmac<Sha256>;

/// What starts every flow token: a user part that does not start with it is no token.
pub(crate) const PREFIX: &str = "flow-";

/// Bytes of the HMAC kept in a token (80 bits: forging one means guessing them).
const MAC_LEN: usize = 10;

/// The longest payload: kind, IPv6 address, port, connection id.
const MAX_PAYLOAD: usize = 1 + 16 + 2 + 8;

/// Why a URI user part gives no flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenError {
    /// It is not a flow token at all (no `flow-` prefix): the URI is not one of ours
    /// carrying a flow.
    NotAToken,
    /// It claims to be a flow token but is malformed or fails the HMAC check (forged,
    /// altered, or issued before a restart): 403.
    Forged,
}

/// Issues and checks flow tokens under one key.
#[derive(Clone)]
pub(crate) struct FlowTokens {
    keyed: HmacSha256,
}

impl std::fmt::Debug for FlowTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FlowTokens { .. }")
    }
}

fn transport_code(t: Transport) -> u8 {
    match t {
        Transport::Udp => 0,
        Transport::Tcp => 1,
        Transport::Tls => 2,
        Transport::Ws => 3,
        Transport::Wss => 4,
    }
}

fn transport_of(code: u8) -> Option<Transport> {
    Some(match code {
        0 => Transport::Udp,
        1 => Transport::Tcp,
        2 => Transport::Tls,
        3 => Transport::Ws,
        4 => Transport::Wss,
        _ => return None,
    })
}

const IPV6: u8 = 0x10;
const HAS_CONN: u8 = 0x20;

impl FlowTokens {
    /// Tokens keyed by `secret` (the server's key) and `per_start` (fresh at each start,
    /// so a token does not outlive the connections it names).
    pub(crate) fn new(secret: &[u8; 32], per_start: &[u8; 16]) -> FlowTokens {
        // The key is derived, so the nonce key itself never signs anything but nonces.
        let mut derive = <HmacSha256 as KeyInit>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        derive.update(b"switchboard flow token key");
        derive.update(per_start);
        let key = derive.finalize().into_bytes();
        FlowTokens {
            keyed: <HmacSha256 as KeyInit>::new_from_slice(&key)
                .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length")),
        }
    }

    fn mac(&self, payload: &[u8]) -> [u8; MAC_LEN] {
        let mut mac = self.keyed.clone();
        mac.update(payload);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; MAC_LEN];
        out.copy_from_slice(&full[..MAC_LEN]);
        out
    }

    /// The token naming `flow` (`flow-` and hex digits: valid in a SIP URI user part).
    pub(crate) fn encode(&self, flow: &Destination) -> String {
        let mut payload = Vec::with_capacity(MAX_PAYLOAD + MAC_LEN);
        let mut kind = transport_code(flow.transport);
        if flow.addr.is_ipv6() {
            kind |= IPV6;
        }
        if flow.conn.is_some() {
            kind |= HAS_CONN;
        }
        payload.push(kind);
        match flow.addr.ip() {
            IpAddr::V4(ip) => payload.extend_from_slice(&ip.octets()),
            IpAddr::V6(ip) => payload.extend_from_slice(&ip.octets()),
        }
        payload.extend_from_slice(&flow.addr.port().to_be_bytes());
        if let Some(ConnectionId(id)) = flow.conn {
            payload.extend_from_slice(&id.to_be_bytes());
        }
        let mac = self.mac(&payload);
        payload.extend_from_slice(&mac);
        let mut token = String::with_capacity(PREFIX.len() + 2 * payload.len());
        token.push_str(PREFIX);
        for b in payload {
            token.push(char::from(HEX[usize::from(b >> 4)]));
            token.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        token
    }

    /// The flow a URI user part names. `NotAToken` for a user part that is no flow token;
    /// `Forged` for one that is malformed or fails the check.
    pub(crate) fn decode(&self, user: &str) -> Result<Destination, TokenError> {
        let Some(hex) = strip_prefix_ignore_case(user, PREFIX) else {
            return Err(TokenError::NotAToken);
        };
        if hex.len() > 2 * (MAX_PAYLOAD + MAC_LEN) || hex.len() % 2 != 0 {
            return Err(TokenError::Forged);
        }
        let bytes: Vec<u8> = hex
            .as_bytes()
            .chunks(2)
            .map(|pair| Some((nibble(pair[0])? << 4) | nibble(pair[1])?))
            .collect::<Option<_>>()
            .ok_or(TokenError::Forged)?;
        let Some(split) = bytes.len().checked_sub(MAC_LEN) else {
            return Err(TokenError::Forged);
        };
        let (payload, mac) = bytes.split_at(split);
        // Compared in constant time: the verifier, not `==`.
        let mut check = self.keyed.clone();
        check.update(payload);
        check
            .verify_truncated_left(mac)
            .map_err(|_| TokenError::Forged)?;
        parse_payload(payload).ok_or(TokenError::Forged)
    }
}

/// The flow of a checked payload (None: a layout this code never writes).
fn parse_payload(payload: &[u8]) -> Option<Destination> {
    let (&kind, rest) = payload.split_first()?;
    if kind & !(IPV6 | HAS_CONN | 0x0f) != 0 {
        return None;
    }
    let transport = transport_of(kind & 0x0f)?;
    let ip_len = if kind & IPV6 != 0 { 16 } else { 4 };
    let conn_len = if kind & HAS_CONN != 0 { 8 } else { 0 };
    if rest.len() != ip_len + 2 + conn_len {
        return None;
    }
    let (ip, rest) = rest.split_at(ip_len);
    let ip: IpAddr = if ip_len == 16 {
        <[u8; 16]>::try_from(ip).ok()?.into()
    } else {
        <[u8; 4]>::try_from(ip).ok()?.into()
    };
    let (port, rest) = rest.split_at(2);
    let port = u16::from_be_bytes(<[u8; 2]>::try_from(port).ok()?);
    let conn = if conn_len == 8 {
        Some(ConnectionId(u64::from_be_bytes(
            <[u8; 8]>::try_from(rest).ok()?,
        )))
    } else {
        None
    };
    Some(Destination {
        transport,
        addr: SocketAddr::new(ip, port),
        conn,
    })
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> FlowTokens {
        FlowTokens::new(&[7; 32], &[1; 16])
    }

    fn flow(s: &str, conn: Option<u64>) -> Destination {
        let mut d = Destination::from_source_string(s).unwrap();
        d.conn = conn.map(ConnectionId);
        d
    }

    #[test]
    fn a_token_names_its_flow_back() {
        let t = tokens();
        for f in [
            flow("tcp:203.0.113.7:40001", Some(11)),
            flow("tls:203.0.113.7:5061", Some(u64::MAX)),
            flow("ws:[2001:db8::1]:443", Some(0)),
            flow("wss:[2001:db8::1]:443", None),
            flow("udp:192.0.2.1:5060", None),
        ] {
            let token = t.encode(&f);
            assert!(token.starts_with("flow-"), "{token}");
            assert!(token[5..].bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
            assert_eq!(t.decode(&token), Ok(f), "{token}");
            // Case does not matter (a hop may fold it).
            assert_eq!(t.decode(&token.to_ascii_uppercase()), Ok(f));
        }
    }

    #[test]
    fn an_altered_token_is_refused() {
        let t = tokens();
        let token = t.encode(&flow("tcp:203.0.113.7:40001", Some(11)));
        // Every single hex digit changed, one at a time: none passes.
        for i in PREFIX.len()..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
            let altered = String::from_utf8(bytes).unwrap();
            assert_eq!(t.decode(&altered), Err(TokenError::Forged), "{altered}");
        }
        // Cut short, lengthened, not hex, empty.
        assert_eq!(t.decode(&token[..token.len() - 2]), Err(TokenError::Forged));
        assert_eq!(t.decode(&format!("{token}00")), Err(TokenError::Forged));
        assert_eq!(t.decode(&format!("{token}0")), Err(TokenError::Forged));
        assert_eq!(t.decode("flow-zz"), Err(TokenError::Forged));
        assert_eq!(t.decode("flow-"), Err(TokenError::Forged));
        assert_eq!(t.decode("flow-é1"), Err(TokenError::Forged));
        assert_eq!(t.decode(&"ab".repeat(500)), Err(TokenError::NotAToken));
    }

    #[test]
    fn another_key_or_another_start_refuses_the_token() {
        let f = flow("tcp:203.0.113.7:40001", Some(11));
        let token = tokens().encode(&f);
        let restarted = FlowTokens::new(&[7; 32], &[2; 16]);
        assert_eq!(restarted.decode(&token), Err(TokenError::Forged));
        let other = FlowTokens::new(&[8; 32], &[1; 16]);
        assert_eq!(other.decode(&token), Err(TokenError::Forged));
    }

    #[test]
    fn a_user_part_that_is_no_token_is_left_alone() {
        let t = tokens();
        for user in ["alice", "", "flo", "flowers", "+15551234"] {
            assert_eq!(t.decode(user), Err(TokenError::NotAToken), "{user}");
        }
    }

    #[test]
    fn no_byte_string_makes_decode_panic() {
        // Fuzz-like: every short hex string after the prefix, and random-ish long ones.
        let t = tokens();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..80 {
            for _ in 0..50 {
                let s: String = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        char::from(b"0123456789abcdefXg-"[(x % 19) as usize])
                    })
                    .collect();
                assert!(t.decode(&format!("flow-{s}")).is_err());
            }
        }
    }
}
