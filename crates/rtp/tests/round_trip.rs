//! Properties: any RTP header and payload written parses back to the same; any RTCP
//! compound built from the typed packets writes and parses back to the same; arbitrary
//! bytes never panic the parsers.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use rtp::rtcp::{
    parse_compound, write_compound, Goodbye, ReceiverReport, ReportBlock, RtcpPacket, SdesChunk,
    SdesItem, SenderReport, SourceDescription,
};
use rtp::{RtpHeader, RtpPacket};

fn header() -> impl Strategy<Value = RtpHeader> {
    (
        any::<bool>(),
        0u8..128,
        any::<u16>(),
        any::<u32>(),
        any::<u32>(),
        proptest::collection::vec(any::<u32>(), 0..16),
        proptest::option::of((any::<u16>(), proptest::collection::vec(any::<u8>(), 0..5))),
    )
        .prop_map(
            |(marker, payload_type, sequence_number, timestamp, ssrc, csrcs, ext)| RtpHeader {
                marker,
                payload_type,
                sequence_number,
                timestamp,
                ssrc,
                csrcs,
                extension: ext.map(|(p, words)| (p, words.iter().flat_map(|w| [*w; 4]).collect())),
            },
        )
}

fn block() -> impl Strategy<Value = ReportBlock> {
    (
        any::<u32>(),
        any::<u8>(),
        -0x80_0000i32..=0x7f_ffff,
        any::<[u32; 4]>(),
    )
        .prop_map(
            |(ssrc, fraction_lost, cumulative_lost, [a, b, c, d])| ReportBlock {
                ssrc,
                fraction_lost,
                cumulative_lost,
                extended_highest_sequence: a,
                jitter: b,
                last_sender_report: c,
                delay_since_last_sender_report: d,
            },
        )
}

fn packet() -> impl Strategy<Value = RtcpPacket> {
    let blocks = || proptest::collection::vec(block(), 0..4);
    prop_oneof![
        (any::<[u32; 5]>(), any::<u64>(), blocks()).prop_map(
            |([ssrc, rtp, pc, oc, _], ntp, reports)| {
                RtcpPacket::SenderReport(SenderReport {
                    ssrc,
                    ntp_timestamp: ntp,
                    rtp_timestamp: rtp,
                    packet_count: pc,
                    octet_count: oc,
                    reports,
                    extension: Vec::new(),
                })
            }
        ),
        (any::<u32>(), blocks()).prop_map(|(ssrc, reports)| RtcpPacket::ReceiverReport(
            ReceiverReport {
                ssrc,
                reports,
                extension: Vec::new(),
            }
        )),
        proptest::collection::vec(
            (
                any::<u32>(),
                proptest::collection::vec(
                    (1u8..=8, proptest::collection::vec(any::<u8>(), 0..40)),
                    0..3
                )
            ),
            0..4
        )
        .prop_map(|chunks| RtcpPacket::SourceDescription(SourceDescription {
            chunks: chunks
                .into_iter()
                .map(|(ssrc, items)| SdesChunk {
                    ssrc,
                    items: items
                        .into_iter()
                        .map(|(kind, text)| SdesItem { kind, text })
                        .collect(),
                })
                .collect(),
        })),
        (
            proptest::collection::vec(any::<u32>(), 0..5),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40))
        )
            .prop_map(|(sources, reason)| RtcpPacket::Goodbye(Goodbye { sources, reason })),
    ]
}

proptest! {
    #[test]
    fn rtp_write_then_parse(h in header(), payload in proptest::collection::vec(any::<u8>(), 0..200), padding in any::<u8>()) {
        let mut out = Vec::new();
        h.write(&payload, padding, &mut out).unwrap();
        let p = RtpPacket::parse(&out).unwrap();
        prop_assert_eq!(RtpHeader::of(&p), h);
        prop_assert_eq!(p.payload(), &payload[..]);
        prop_assert_eq!(p.padding_len(), usize::from(padding));
        rtp::fuzzing::rtp(&out);
    }

    #[test]
    fn rtcp_write_then_parse(packets in proptest::collection::vec(packet(), 1..5)) {
        let mut out = Vec::new();
        write_compound(&packets, &mut out).unwrap();
        prop_assert_eq!(parse_compound(&out).unwrap(), packets);
        rtp::fuzzing::rtcp(&out);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        rtp::fuzzing::rtp(&data);
        rtp::fuzzing::rtcp(&data);
    }
}
