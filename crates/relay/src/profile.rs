//! Which [`Profile`] a party speaks, read from its SDP: the relay stage asks this of the
//! caller's offer (the profile the answer must be turned into) and of a callee's answer.
//! A browser offers `UDP/TLS/RTP/SAVPF` (RFC 8829, DTLS-SRTP with ICE); a plain phone
//! `RTP/AVP`. Where the callee of an offer is a browser is known from its binding (a
//! WS/WSS contact), not from any SDP: not here.

use crate::Profile;

impl Profile {
    /// The profile the SDP `sdp` is written in: [`Profile::WebRtc`] when an `m=` line
    /// uses DTLS (`UDP/TLS/RTP/SAVP(F)`, or `RTP/SAVPF` with a DTLS fingerprint, as some
    /// older browsers wrote), else [`Profile::Rtp`].
    pub fn of_sdp(sdp: &str) -> Profile {
        let fingerprint = sdp.lines().any(|l| l.starts_with("a=fingerprint:"));
        let webrtc = sdp
            .lines()
            .filter_map(|l| l.strip_prefix("m="))
            .filter_map(|m| m.split_whitespace().nth(2))
            .any(|proto| {
                proto.starts_with("UDP/TLS/RTP/SAVP") || (proto == "RTP/SAVPF" && fingerprint)
            });
        if webrtc {
            Profile::WebRtc
        } else {
            Profile::Rtp
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Profile;

    #[test]
    fn a_browser_offer_is_webrtc_and_a_phone_offer_is_rtp() {
        let chrome =
            "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8\r\na=fingerprint:sha-256 AB:CD\r\n";
        assert_eq!(Profile::of_sdp(chrome), Profile::WebRtc);
        let old = "v=0\nm=audio 9 RTP/SAVPF 0\na=fingerprint:sha-1 AB\n";
        assert_eq!(Profile::of_sdp(old), Profile::WebRtc);
        let sdes =
            "v=0\r\nm=audio 4000 RTP/SAVPF 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n";
        assert_eq!(Profile::of_sdp(sdes), Profile::Rtp);
        let phone = "v=0\r\nm=audio 4000 RTP/AVP 0 101\r\n";
        assert_eq!(Profile::of_sdp(phone), Profile::Rtp);
        assert_eq!(Profile::of_sdp(""), Profile::Rtp);
    }
}
