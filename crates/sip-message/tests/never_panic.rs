//! The parsers never panic: on arbitrary bytes, nor on generated messages with a few bytes
//! flipped, inserted or removed.
#![allow(clippy::unwrap_used)]

mod generated;

use bytes::Bytes;
use generated::message;
use proptest::prelude::*;
use sip_message::{parse_strict, SipMessage};

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    /// The parsers never panic on arbitrary bytes.
    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = SipMessage::parse(Bytes::from(data.clone()));
        let _ = parse_strict(Bytes::from(data.clone()));
        sip_message::fuzzing::message(&data);
        sip_message::fuzzing::uri(&data);
        sip_message::fuzzing::stream_framing(&data);
    }

    /// Nor on valid messages with a few bytes flipped, inserted or removed; and whatever
    /// still parses keeps every invariant the fuzz target checks.
    #[test]
    fn mutated_messages_never_panic(
        g in message(),
        muts in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..6),
    ) {
        let mut data = g.bytes();
        for (at, op, byte) in muts {
            let byte = match byte % 8 {
                0 => b'\r',
                1 => b'\n',
                2 => b',',
                3 => b';',
                4 => b' ',
                5 => b'"',
                _ => byte,
            };
            if data.is_empty() {
                data.push(byte);
                continue;
            }
            let i = at.index(data.len());
            match op {
                0 => data[i] = byte,
                1 => data.insert(i, byte),
                _ => {
                    data.remove(i);
                }
            }
        }
        let _ = parse_strict(Bytes::from(data.clone()));
        sip_message::fuzzing::message(&data);
    }
}
