//! Whether an SDP body is a browser's (RFC 8829): media over DTLS-SRTP with ICE, as
//! opposed to a plain phone's RTP/AVP. The media relay's two backends and the proxy's
//! relay stage ask this of an offer or answer to know what its writer speaks. A text scan,
//! not a parse: a browser's SDP carries attributes (`a=ssrc`, `a=extmap`, ...) the typed
//! model of this crate need not understand.

/// True when an `m=` line of `sdp` uses DTLS: `UDP/TLS/RTP/SAVP(F)`, or `RTP/SAVPF`
/// together with an `a=fingerprint` (as some older browsers wrote). SDES-keyed
/// `RTP/SAVP(F)` (with `a=crypto`) is not DTLS.
pub fn uses_dtls_srtp(sdp: &str) -> bool {
    let fingerprint = sdp.lines().any(|l| l.starts_with("a=fingerprint:"));
    sdp.lines()
        .filter_map(|l| l.strip_prefix("m="))
        .filter_map(|m| m.split_whitespace().nth(2))
        .any(|proto| proto.starts_with("UDP/TLS/RTP/SAVP") || (proto == "RTP/SAVPF" && fingerprint))
}

#[cfg(test)]
mod tests {
    use super::uses_dtls_srtp;

    #[test]
    fn a_browser_offer_uses_dtls_and_a_phone_offer_does_not() {
        let chrome =
            "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8\r\na=fingerprint:sha-256 AB:CD\r\n";
        assert!(uses_dtls_srtp(chrome));
        let old = "v=0\nm=audio 9 RTP/SAVPF 0\na=fingerprint:sha-1 AB\n";
        assert!(uses_dtls_srtp(old));
        let sdes =
            "v=0\r\nm=audio 4000 RTP/SAVPF 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n";
        assert!(!uses_dtls_srtp(sdes));
        assert!(!uses_dtls_srtp("v=0\r\nm=audio 4000 RTP/AVP 0 101\r\n"));
        assert!(!uses_dtls_srtp(""));
    }
}
