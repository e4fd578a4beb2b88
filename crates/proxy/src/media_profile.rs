//! Which media profile a party speaks (issue 19), for the relay stage (`core/relay.rs`):
//! a browser (WebRTC: ICE, DTLS-SRTP, `UDP/TLS/RTP/SAVPF`) or a plain RTP phone
//! (`RTP/AVP`). A party's SDP tells (an offer's writer, an answer's writer); a callee
//! not heard yet is a browser when it is reached over WebSocket (RFC 7118), a phone
//! otherwise. When the two sides of a call differ, only a relay that terminates DTLS-SRTP
//! and ICE (rtpengine) lets them hear each other: [`bridging`] says so for a call's
//! targets.
//!
//! Not here: the relay itself, NAT detection (`nat.rs`), or sending the SDP.

use crate::destination::{Destination, Transport};

/// What a party's media speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaProfile {
    /// Plain RTP/AVP (SIP phones, gateways, the media engine).
    Rtp,
    /// A browser: UDP/TLS/RTP/SAVPF with ICE and DTLS-SRTP.
    WebRtc,
}

impl MediaProfile {
    /// The profile `sdp` is written in ([`sdp::uses_dtls_srtp`]).
    pub fn of_sdp(sdp: &str) -> MediaProfile {
        if sdp::uses_dtls_srtp(sdp) {
            MediaProfile::WebRtc
        } else {
            MediaProfile::Rtp
        }
    }

    /// The profile of a callee reached at `dest` before it has answered: WebSocket
    /// means a browser.
    pub fn of_dest(dest: &Destination) -> MediaProfile {
        match dest.transport {
            Transport::Ws | Transport::Wss => MediaProfile::WebRtc,
            Transport::Udp | Transport::Tcp | Transport::Tls => MediaProfile::Rtp,
        }
    }
}

/// How a new call's targets stand to its caller's profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bridging {
    /// Every target speaks the caller's profile.
    None,
    /// Every target speaks the other profile: the whole offer is bridged.
    All(MediaProfile),
    /// Some targets speak the other profile (a user with a browser and a desk phone):
    /// those get the bridged offer, the others the caller's own.
    Some(MediaProfile),
}

/// How the targets at `dests` stand to a caller speaking `caller`.
pub(crate) fn bridging<'a>(
    caller: MediaProfile,
    dests: impl IntoIterator<Item = &'a Destination>,
) -> Bridging {
    let (mut same, mut other) = (0usize, 0usize);
    for d in dests {
        if MediaProfile::of_dest(d) == caller {
            same += 1;
        } else {
            other += 1;
        }
    }
    let receiver = match caller {
        MediaProfile::Rtp => MediaProfile::WebRtc,
        MediaProfile::WebRtc => MediaProfile::Rtp,
    };
    match (same, other) {
        (_, 0) => Bridging::None,
        (0, _) => Bridging::All(receiver),
        _ => Bridging::Some(receiver),
    }
}

/// The branches of a partly bridged call that get the caller's own SDP: those whose
/// target does not speak `bridged_to` (kept by the fork, `build_branch` applies it).
#[derive(Debug, Clone)]
pub(crate) struct DirectBranches {
    /// The profile the relayed offer was written for.
    pub bridged_to: MediaProfile,
    /// The caller's SDP as received, for the other targets.
    pub sdp: String,
}

impl DirectBranches {
    /// True when the target at `dest` gets the caller's own SDP.
    pub fn applies_to(&self, dest: &Destination) -> bool {
        MediaProfile::of_dest(dest) != self.bridged_to
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(transport: Transport) -> Destination {
        Destination {
            transport,
            addr: "127.0.0.1:5060".parse().unwrap(),
            conn: None,
        }
    }

    const BROWSER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\n\
        a=ice-ufrag:x\r\na=fingerprint:sha-256 AB:CD\r\na=rtcp-mux\r\n";
    const PHONE: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
        t=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\n";

    #[test]
    fn the_sdp_or_the_transport_tells_the_profile() {
        assert_eq!(MediaProfile::of_sdp(BROWSER), MediaProfile::WebRtc);
        assert_eq!(MediaProfile::of_sdp(PHONE), MediaProfile::Rtp);
        for t in [Transport::Ws, Transport::Wss] {
            assert_eq!(MediaProfile::of_dest(&dest(t)), MediaProfile::WebRtc);
        }
        for t in [Transport::Udp, Transport::Tcp, Transport::Tls] {
            assert_eq!(MediaProfile::of_dest(&dest(t)), MediaProfile::Rtp);
        }
    }

    #[test]
    fn a_call_between_a_browser_and_a_phone_is_bridged() {
        let (ws, udp, tls) = (
            dest(Transport::Wss),
            dest(Transport::Udp),
            dest(Transport::Tls),
        );
        let web = MediaProfile::of_sdp(BROWSER);
        let rtp = MediaProfile::of_sdp(PHONE);
        // Browser to phone, phone to browser: the offer is turned into the callee's.
        assert_eq!(bridging(web, [&udp]), Bridging::All(MediaProfile::Rtp));
        assert_eq!(bridging(rtp, [&ws]), Bridging::All(MediaProfile::WebRtc));
        // Alike: nothing to bridge (the relay may still be wanted for NAT).
        assert_eq!(bridging(web, [&ws]), Bridging::None);
        assert_eq!(bridging(rtp, [&udp, &tls]), Bridging::None);
        assert_eq!(bridging(rtp, []), Bridging::None);
        // A user with a browser and a desk phone: only the browser's branch is bridged.
        assert_eq!(
            bridging(rtp, [&udp, &ws]),
            Bridging::Some(MediaProfile::WebRtc)
        );
        let direct = DirectBranches {
            bridged_to: MediaProfile::WebRtc,
            sdp: PHONE.into(),
        };
        assert!(direct.applies_to(&udp));
        assert!(!direct.applies_to(&ws));
    }
}
