//! Via branches this proxy generates, and loop detection (RFC 3261 §16.3 step 4, §16.6
//! step 8).
//!
//! A branch is `z9hG4bK` + `sb` + 16 hex digits of a hash of what identifies the request
//! as received (Request-URI, Call-ID, CSeq number, From and To tags, Proxy-Require), a dot,
//! and a per-branch counter. When a request comes back carrying one of our Vias whose hash
//! equals the hash of the request now, it has looped; a spiral (retargeted Request-URI)
//! hashes differently and passes. The top Via is left out of the hash on purpose: a looped
//! request always arrives with someone else's Via on top.

use sip_message::{HeaderName, SipMessage, Via};

use crate::config::ProxyConfig;

const PREFIX: &str = "z9hG4bKsb";

fn fnv(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(0x100_0000_01b3);
    }
    *h ^= 0xff;
    *h = h.wrapping_mul(0x100_0000_01b3);
}

/// The loop-detection hash of a request as received.
pub(crate) fn loop_hash(req: &SipMessage) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    fnv(&mut h, req.request_uri_str().as_bytes());
    fnv(&mut h, req.call_id().as_bytes());
    fnv(&mut h, &req.cseq().seq.to_le_bytes());
    fnv(&mut h, req.from_tag().unwrap_or("").as_bytes());
    fnv(&mut h, req.to_tag().unwrap_or("").as_bytes());
    for (_, v) in req.header_values(HeaderName::ProxyRequire) {
        fnv(&mut h, v.as_bytes());
    }
    h
}

/// A branch for the `n`th client transaction forwarded from a request with `hash`.
pub(crate) fn make_branch(hash: u64, n: u64) -> String {
    // `format!("{PREFIX}{hash:016x}.{n:x}")` by hand: one per forwarded request, and the
    // formatter cost ten times more than the digits.
    let mut s = String::with_capacity(PREFIX.len() + 16 + 1 + 16);
    s.push_str(PREFIX);
    push_hex(&mut s, hash, 16);
    s.push('.');
    push_hex(&mut s, n, 1);
    s
}

/// Appends `v` in lower-case hex, with leading zeros up to `width` digits.
fn push_hex(out: &mut String, v: u64, width: u32) {
    let digits = (64 - v.leading_zeros()).div_ceil(4).max(width);
    for i in (0..digits).rev() {
        let nibble = (v >> (i * 4)) & 0xf;
        out.push(char::from(b"0123456789abcdef"[nibble as usize]));
    }
}

/// True when a Via's sent-by names this proxy.
pub(crate) fn via_is_mine(via: &Via<'_>, cfg: &ProxyConfig) -> bool {
    crate::route::host_port_is_me(via.host, via.port, cfg)
}

/// True when the request carries a Via of ours whose hash matches: it has looped.
pub(crate) fn is_loop(req: &SipMessage, cfg: &ProxyConfig) -> bool {
    let mut hash_hex: Option<String> = None;
    for (_, v) in req.header_values(HeaderName::Via) {
        let Ok(via) = Via::parse(v) else { continue };
        if !via_is_mine(&via, cfg) {
            continue;
        }
        let Some(branch) = via.branch() else { continue };
        let Some(rest) = branch.strip_prefix(PREFIX) else {
            continue;
        };
        let hex = hash_hex.get_or_insert_with(|| format!("{:016x}", loop_hash(req)));
        if rest.starts_with(hex.as_str()) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::make_branch;

    #[test]
    fn branches_are_the_hash_in_16_hex_digits_and_the_counter_in_hex() {
        for (hash, n) in [
            (0, 0),
            (1, 1),
            (0xdead_beef, 15),
            (0x0123_4567_89ab_cdef, 16),
            (u64::MAX, u64::MAX),
        ] {
            assert_eq!(make_branch(hash, n), format!("z9hG4bKsb{hash:016x}.{n:x}"));
        }
    }
}
