//! The rtpengine backend (Sipwise rtpengine, Debian's `rtpengine-daemon`): a client of its
//! `ng` control protocol that implements [`crate::MediaRelay`], so media can run on
//! dedicated boxes and WebRTC calls can be bridged to plain RTP phones (rtpengine
//! terminates ICE and DTLS-SRTP).
//!
//! Owns the wire (`bencode`), the commands and replies (`ng`) and the UDP client with its
//! retransmissions (`client`). Does not own rtpengine itself: operators run it (the tests
//! start one on loopback when it is installed).

pub mod bencode;
mod client;
pub mod ng;

pub use client::{RtpEngine, RtpEngineConfig};
