//! What our side of a session can do: the codecs, the telephone-event payload type, the
//! packet time, the direction we want and the address and port our media comes from.

use std::net::IpAddr;

use crate::direction::Direction;

/// The audio codecs this crate negotiates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 mu-law, static payload type 0.
    Pcmu,
    /// G.711 A-law, static payload type 8.
    Pcma,
}

impl Codec {
    /// The static payload type (RFC 3551 table 4).
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The encoding name in `a=rtpmap`.
    pub fn encoding_name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// The RTP clock rate.
    pub fn clock_rate(self) -> u32 {
        8000
    }

    /// The codec named by an encoding name and clock rate, if it is one of ours.
    pub fn from_encoding(name: &str, clock_rate: u32) -> Option<Codec> {
        [Codec::Pcmu, Codec::Pcma]
            .into_iter()
            .find(|c| name.eq_ignore_ascii_case(c.encoding_name()) && clock_rate == 8000)
    }
}

/// Our side of a session, the input to [`crate::answer`] and [`crate::offer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalCapabilities {
    /// The address the peer sends media to (`c=` and `o=`).
    pub address: IpAddr,
    /// The RTP port the peer sends media to. RTCP is on the port above it, and offers and
    /// answers say so (`a=rtcp:`, RFC 3605).
    pub rtp_port: u16,
    /// Codecs we accept, in our order of preference (used for our offers; an answer
    /// follows the offerer's order among these).
    pub codecs: Vec<Codec>,
    /// The telephone-event (RFC 4733) payload type of our offers; `None` to negotiate no
    /// telephone-events. An answer keeps the offerer's number.
    pub telephone_event: Option<u8>,
    /// Packet time in milliseconds (`a=ptime`).
    pub ptime: u32,
    /// The most we want to do: sendrecv normally, sendonly for a pure announcement.
    pub direction: Direction,
    /// `o=` username.
    pub username: String,
    /// `o=` session id.
    pub session_id: u64,
    /// `o=` session version: increment it for each changed description of the session.
    pub session_version: u64,
}

impl LocalCapabilities {
    /// PCMU then PCMA, telephone-event on payload type 101, 20 ms, sendrecv.
    pub fn new(address: IpAddr, rtp_port: u16, session_id: u64) -> LocalCapabilities {
        LocalCapabilities {
            address,
            rtp_port,
            codecs: vec![Codec::Pcmu, Codec::Pcma],
            telephone_event: Some(101),
            ptime: 20,
            direction: Direction::SendRecv,
            username: "switchboard".into(),
            session_id,
            session_version: session_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codec_names() {
        assert_eq!(Codec::from_encoding("pcmu", 8000), Some(Codec::Pcmu));
        assert_eq!(Codec::from_encoding("PCMA", 8000), Some(Codec::Pcma));
        assert_eq!(Codec::from_encoding("PCMA", 16000), None);
        assert_eq!(Codec::from_encoding("G722", 8000), None);
        assert_eq!(Codec::Pcma.payload_type(), 8);
    }
}
