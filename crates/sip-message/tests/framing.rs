//! The stream framer is indifferent to how a stream of generated messages is cut.
#![allow(clippy::unwrap_used)]

mod generated;

use bytes::Bytes;
use generated::{line, message};
use proptest::prelude::*;
use sip_message::fuzzing::{frames_chunked, frames_whole};
use sip_message::{Frame, HeaderName};

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    /// Any split of a stream of several messages and keep-alives gives the frames of the
    /// stream fed in one piece, and those are the messages that were sent.
    #[test]
    fn framer_is_indifferent_to_splits(
        msgs in prop::collection::vec((message(), 0u8..4), 1..5),
        sizes in prop::collection::vec(1usize..200, 1..16),
    ) {
        let mut stream = Vec::new();
        let mut want = Vec::new();
        for (g, ka) in &msgs {
            match ka {
                1 => { stream.extend_from_slice(b"\r\n\r\n"); want.push(Frame::Ping); }
                2 => { stream.extend_from_slice(b"\r\n"); want.push(Frame::Pong); }
                _ => {}
            }
            let mut g = g.clone();
            if g.content_length.is_none() {
                // A stream message must carry Content-Length.
                g.lines.push(line("Content-Length", HeaderName::ContentLength, ": ".into(),
                                  g.body.len().to_string()));
            }
            let b = g.bytes();
            want.push(Frame::Message(Bytes::from(b.clone())));
            stream.extend_from_slice(&b);
        }
        let limits = (65_536, 65_536);
        let whole = frames_whole(&stream, limits);
        let got: Vec<Frame> = whole.iter().cloned().map(Result::unwrap).collect();
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(&frames_chunked(&stream, &sizes, limits), &whole);
        prop_assert_eq!(&frames_chunked(&stream, &[1], limits), &whole);
        for f in &got {
            if let Frame::Message(b) = f {
                sip_message::fuzzing::message(b);
            }
        }
    }
}
