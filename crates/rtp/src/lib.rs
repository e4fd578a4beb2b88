//! RTP and RTCP for a G.711 media engine (RFC 3550, RFC 3551, RFC 4733), sans-IO.
//!
//! This crate owns the packet formats and the per-stream arithmetic, nothing else: no
//! sockets, no timers, no clock reads (time is always a parameter). It parses RTP packets
//! without copying ([`RtpPacket`]) and writes them ([`RtpHeader::write`]); keeps the
//! RFC 3550 reception statistics (sequence extension, loss, jitter: [`ReceptionStatistics`])
//! and the sender's counters ([`SenderStatistics`]);
//! parses and builds compound RTCP (SR, RR, SDES, BYE: [`rtcp`]); encodes and decodes
//! G.711 mu-law and A-law bit-exactly with ITU-T G.191 ([`g711`]); reads and writes RFC 4733
//! telephone-events and turns their repeated packets into one digit each
//! ([`TelephoneEventReceiver`]); and reorders and paces received audio in a bounded
//! [`JitterBuffer`]. Sessions, sockets and pacing belong to the media engine.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[doc(hidden)]
pub mod fuzzing;
pub mod g711;
mod jitter_buffer;
mod packet;
mod reception_statistics;
pub mod rtcp;
mod sender_statistics;
mod telephone_event;

pub use jitter_buffer::{Frame, JitterBuffer, JitterBufferConfig, JitterBufferStats, PushOutcome};
pub use packet::{Extension, RtpError, RtpHeader, RtpPacket};
pub use reception_statistics::{extend_sequence, ReceptionStatistics};
pub use sender_statistics::{ntp_timestamp, SenderStatistics};
pub use telephone_event::{DtmfDigit, TelephoneEvent, TelephoneEventReceiver};
