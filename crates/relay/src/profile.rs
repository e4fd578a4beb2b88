//! Which [`Profile`] a party speaks, read from its SDP: the relay stage asks this of the
//! caller's offer (the profile the answer must be turned into) and of a callee's answer.
//! A browser offers `UDP/TLS/RTP/SAVPF` (RFC 8829, DTLS-SRTP with ICE); a plain phone
//! `RTP/AVP`. Where the callee of an offer is a browser is known from its binding (a
//! WS/WSS contact), not from any SDP: not here.

use crate::Profile;

impl Profile {
    /// The profile the SDP `sdp` is written in: [`Profile::WebRtc`] when an `m=` line
    /// uses DTLS (`UDP/TLS/RTP/SAVP(F)`, or `RTP/SAVPF` with a DTLS fingerprint, as some
    /// older browsers wrote; [`sdp::uses_dtls_srtp`]), else [`Profile::Rtp`].
    pub fn of_sdp(sdp: &str) -> Profile {
        if sdp::uses_dtls_srtp(sdp) {
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
        let phone = "v=0\r\nm=audio 4000 RTP/AVP 0 101\r\n";
        assert_eq!(Profile::of_sdp(phone), Profile::Rtp);
    }
}
