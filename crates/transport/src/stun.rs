//! STUN keep-alives on the SIP UDP port (RFC 5626 §8, RFC 5389): a phone doing outbound
//! over UDP sends STUN Binding requests to the server's SIP port to keep its NAT binding
//! open and to learn whether its public address changed; the answer is a Binding success
//! response with XOR-MAPPED-ADDRESS (the source the request came from). A small
//! hand-written codec: only what a keep-alive needs.
//!
//! Not here: STUN authentication (MESSAGE-INTEGRITY, used by ICE, not by keep-alives),
//! FINGERPRINT on answers, other methods, and the 420 error for unknown
//! comprehension-required attributes (such a request is dropped instead, see
//! [`answer`]). A datagram that is not a well-formed Binding request is not STUN to us.

use std::net::{IpAddr, SocketAddr};

/// RFC 5389 §6: the fixed value in every STUN message, bytes 4..8.
const MAGIC_COOKIE: u32 = 0x2112_A442;
/// The header: type, length, cookie, 96-bit transaction id.
const HEADER_LEN: usize = 20;
/// Binding request and Binding success response (RFC 5389 §18.1).
const BINDING_REQUEST: u16 = 0x0001;
const BINDING_SUCCESS: u16 = 0x0101;
/// XOR-MAPPED-ADDRESS (RFC 5389 §15.2).
const XOR_MAPPED_ADDRESS: u16 = 0x0020;
/// Comprehension-required attributes this server understands (and ignores): USERNAME,
/// MESSAGE-INTEGRITY, REALM, NONCE. Above 0x7fff they are optional.
const UNDERSTOOD: [u16; 4] = [0x0006, 0x0008, 0x0014, 0x0015];
/// The longest request answered: keep-alives carry at most a few small attributes.
const MAX_REQUEST: usize = 548;

/// True when `data` looks like STUN at all (RFC 5389 §6, RFC 7983: the first two bits
/// zero and the magic cookie), so it is never handed to the SIP parser.
pub(crate) fn is_stun(data: &[u8]) -> bool {
    data.len() >= HEADER_LEN && data[0] & 0xc0 == 0 && data[4..8] == MAGIC_COOKIE.to_be_bytes()
}

/// The Binding success response to a well-formed Binding request from `from`, or None
/// (not a Binding request, malformed, longer than a keep-alive needs, or with an
/// attribute that must be understood and is not).
pub(crate) fn answer(data: &[u8], from: SocketAddr) -> Option<Vec<u8>> {
    if !is_stun(data) || data.len() > MAX_REQUEST {
        return None;
    }
    let kind = u16::from_be_bytes([data[0], data[1]]);
    let len = usize::from(u16::from_be_bytes([data[2], data[3]]));
    if kind != BINDING_REQUEST || len % 4 != 0 || HEADER_LEN + len != data.len() {
        return None;
    }
    // Attributes: type, length, value padded to 4 bytes; all must fit exactly.
    let mut rest = &data[HEADER_LEN..];
    while !rest.is_empty() {
        if rest.len() < 4 {
            return None;
        }
        let attr = u16::from_be_bytes([rest[0], rest[1]]);
        let attr_len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let padded = attr_len.div_ceil(4) * 4;
        if rest.len() < 4 + padded {
            return None;
        }
        if attr < 0x8000 && !UNDERSTOOD.contains(&attr) {
            return None;
        }
        rest = &rest[4 + padded..];
    }
    let txid = &data[8..HEADER_LEN];
    let cookie = MAGIC_COOKIE.to_be_bytes();
    let (family, xaddr): (u8, Vec<u8>) = match from.ip() {
        IpAddr::V4(ip) => (
            0x01,
            ip.octets()
                .iter()
                .zip(cookie.iter())
                .map(|(a, k)| a ^ k)
                .collect(),
        ),
        IpAddr::V6(ip) => (
            0x02,
            ip.octets()
                .iter()
                .zip(cookie.iter().chain(txid.iter()))
                .map(|(a, k)| a ^ k)
                .collect(),
        ),
    };
    let xport = from.port() ^ (MAGIC_COOKIE >> 16) as u16;
    let attr_len = 4 + xaddr.len();
    let mut out = Vec::with_capacity(HEADER_LEN + 4 + attr_len);
    out.extend_from_slice(&BINDING_SUCCESS.to_be_bytes());
    out.extend_from_slice(&((4 + attr_len) as u16).to_be_bytes());
    out.extend_from_slice(&cookie);
    out.extend_from_slice(txid);
    out.extend_from_slice(&XOR_MAPPED_ADDRESS.to_be_bytes());
    out.extend_from_slice(&(attr_len as u16).to_be_bytes());
    out.extend_from_slice(&[0, family]);
    out.extend_from_slice(&xport.to_be_bytes());
    out.extend_from_slice(&xaddr);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TXID: [u8; 12] = [
        0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
    ];

    fn request(attrs: &[u8]) -> Vec<u8> {
        let mut r = vec![0x00, 0x01];
        r.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        r.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        r.extend_from_slice(&TXID);
        r.extend_from_slice(attrs);
        r
    }

    /// The mapped address an answer names (decoding XOR-MAPPED-ADDRESS the client's way).
    fn mapped(answer: &[u8]) -> SocketAddr {
        assert_eq!(&answer[0..2], &[0x01, 0x01]);
        let len = usize::from(u16::from_be_bytes([answer[2], answer[3]]));
        assert_eq!(answer.len(), HEADER_LEN + len);
        assert_eq!(&answer[4..8], &MAGIC_COOKIE.to_be_bytes());
        assert_eq!(&answer[8..20], &TXID);
        assert_eq!(&answer[20..22], &[0x00, 0x20]);
        let port = u16::from_be_bytes([answer[26], answer[27]]) ^ 0x2112;
        let key: Vec<u8> = MAGIC_COOKIE
            .to_be_bytes()
            .iter()
            .chain(&TXID)
            .copied()
            .collect();
        let ip: IpAddr = match answer[25] {
            1 => {
                let b: Vec<u8> = answer[28..32]
                    .iter()
                    .zip(&key)
                    .map(|(a, k)| a ^ k)
                    .collect();
                <[u8; 4]>::try_from(b.as_slice()).unwrap().into()
            }
            2 => {
                let b: Vec<u8> = answer[28..44]
                    .iter()
                    .zip(&key)
                    .map(|(a, k)| a ^ k)
                    .collect();
                <[u8; 16]>::try_from(b.as_slice()).unwrap().into()
            }
            f => panic!("family {f}"),
        };
        SocketAddr::new(ip, port)
    }

    #[test]
    fn a_binding_request_gets_the_source_back_xored() {
        for from in [
            "192.0.2.1:32853",
            "[2001:db8:1234:5678:11:2233:4455:6677]:32853",
        ] {
            let from: SocketAddr = from.parse().unwrap();
            let a = answer(&request(&[]), from).unwrap();
            assert_eq!(mapped(&a), from);
        }
        // RFC 5769 §2.2's mapped address, as bytes: port 32853 -> 0xa147, 192.0.2.1 -> e1 12 a6 43.
        let a = answer(&request(&[]), "192.0.2.1:32853".parse().unwrap()).unwrap();
        assert_eq!(&a[26..32], &[0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43]);
    }

    #[test]
    fn optional_and_known_attributes_are_accepted() {
        // SOFTWARE (optional, 0x8022) of 5 bytes padded to 8, then USERNAME (known).
        let attrs = [
            0x80, 0x22, 0x00, 0x05, b'p', b'h', b'o', b'n', b'e', 0, 0, 0, 0x00, 0x06, 0x00, 0x04,
            b'b', b'o', b'b', b'!',
        ];
        assert!(answer(&request(&attrs), "192.0.2.1:5060".parse().unwrap()).is_some());
    }

    #[test]
    fn anything_else_is_not_answered() {
        let from: SocketAddr = "192.0.2.1:5060".parse().unwrap();
        let good = request(&[]);
        // A response, an indication, a wrong cookie, a wrong length, cut short.
        let mut response = good.clone();
        response[1] = 0x01;
        response[0] = 0x01;
        assert_eq!(answer(&response, from), None);
        let mut indication = good.clone();
        indication[1] = 0x11;
        assert_eq!(answer(&indication, from), None);
        let mut cookie = good.clone();
        cookie[4] = 0x22;
        assert_eq!(answer(&cookie, from), None);
        assert!(!is_stun(&cookie));
        let mut length = good.clone();
        length[3] = 4;
        assert_eq!(answer(&length, from), None);
        assert_eq!(answer(&good[..19], from), None);
        // An attribute running past the end, one not a multiple of 4 long in total, an
        // unknown comprehension-required one.
        assert_eq!(
            answer(&request(&[0x80, 0x22, 0x00, 0x09, 1, 2, 3, 4]), from),
            None
        );
        assert_eq!(answer(&request(&[0x80, 0x22, 0x00]), from), None);
        assert_eq!(answer(&request(&[0x00, 0x99, 0x00, 0x00]), from), None);
        // SIP and CRLF keep-alives are not STUN.
        assert!(!is_stun(b"OPTIONS sip:example.com SIP/2.0\r\n\r\n"));
        assert!(!is_stun(b"\r\n\r\n"));
    }

    #[test]
    fn no_datagram_makes_the_codec_panic() {
        // Fuzz-like: valid headers followed by random attribute bytes of every length,
        // and random bytes with the cookie in place.
        let from: SocketAddr = "[2001:db8::1]:5060".parse().unwrap();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        };
        for len in 0..120 {
            for _ in 0..100 {
                let attrs: Vec<u8> = (0..len).map(|_| next()).collect();
                if let Some(a) = answer(&request(&attrs), from) {
                    assert_eq!(mapped(&a), from);
                }
                let mut raw: Vec<u8> = (0..len + HEADER_LEN).map(|_| next() & 0x3f).collect();
                raw[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
                let _ = answer(&raw, from);
            }
        }
    }
}
