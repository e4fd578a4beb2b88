//! Property: any description built from the typed fields prints to text that parses back
//! to the same description (CRLF), and the LF form of that text parses the same too.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use sdp::{Attribute, Connection, Direction, MediaDescription, OpaqueLine, Origin, Rtpmap};
use sdp::{Fmtp, SessionDescription, Timing};

fn word() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9.+-]{1,12}"
}

fn text() -> impl Strategy<Value = String> {
    "[ -~]{0,30}"
}

fn attribute() -> impl Strategy<Value = Attribute> {
    prop_oneof![
        (
            0u8..=127,
            word(),
            1u32..100_000,
            proptest::option::of(1u32..3)
        )
            .prop_map(
                |(payload_type, encoding, clock_rate, channels)| Attribute::Rtpmap(Rtpmap {
                    payload_type,
                    encoding,
                    clock_rate,
                    channels
                })
            ),
        (word(), "[!-~][ -~]{0,20}|")
            .prop_map(|(format, parameters)| Attribute::Fmtp(Fmtp { format, parameters })),
        (0u32..1000).prop_map(Attribute::Ptime),
        prop_oneof![
            Just(Direction::SendRecv),
            Just(Direction::SendOnly),
            Just(Direction::RecvOnly),
            Just(Direction::Inactive)
        ]
        .prop_map(Attribute::Direction),
        ("x-[a-z]{1,8}", proptest::option::of(text()))
            .prop_map(|(name, value)| Attribute::Other { name, value }),
    ]
}

fn connection() -> impl Strategy<Value = Connection> {
    (word(), word(), word()).prop_map(|(net_type, address_type, address)| Connection {
        net_type,
        address_type,
        address,
    })
}

fn opaque(kinds: &'static [char]) -> impl Strategy<Value = Vec<OpaqueLine>> {
    proptest::collection::vec(
        (proptest::sample::select(kinds), text())
            .prop_map(|(kind, value)| OpaqueLine { kind, value }),
        0..4,
    )
}

fn media() -> impl Strategy<Value = MediaDescription> {
    (
        word(),
        any::<u16>(),
        proptest::option::of(any::<u16>()),
        "[A-Z/]{1,8}",
        proptest::collection::vec(word(), 1..5),
        proptest::option::of(connection()),
        proptest::collection::vec(attribute(), 0..6),
        opaque(&['i', 'b', 'k']),
    )
        .prop_map(
            |(media, port, port_count, proto, formats, connection, attributes, mut opaque)| {
                // `i=` prints before `c=`: keep them first, as a parse would give them.
                opaque.sort_by_key(|o| o.kind != 'i');
                MediaDescription {
                    media,
                    port,
                    port_count,
                    proto,
                    formats,
                    connection,
                    attributes,
                    opaque,
                }
            },
        )
}

fn session() -> impl Strategy<Value = SessionDescription> {
    (
        (word(), word(), any::<u64>(), connection()),
        text(),
        proptest::option::of(connection()),
        proptest::collection::vec(
            (
                any::<u64>(),
                any::<u64>(),
                proptest::collection::vec(text(), 0..2),
            )
                .prop_map(|(start, stop, repeats)| Timing {
                    start,
                    stop,
                    repeats,
                }),
            1..3,
        ),
        proptest::collection::vec(attribute(), 0..4),
        (
            opaque(&['i', 'u', 'e', 'p']),
            opaque(&['b']),
            opaque(&['z', 'k']),
        ),
        proptest::collection::vec(media(), 0..4),
    )
        .prop_map(
            |(
                (username, id, version, c),
                session_name,
                connection,
                timings,
                attributes,
                (a, b, z),
                media,
            )| {
                SessionDescription {
                    origin: Origin {
                        username,
                        session_id: id,
                        session_version: version,
                        net_type: c.net_type,
                        address_type: c.address_type,
                        address: c.address,
                    },
                    session_name,
                    connection,
                    timings,
                    attributes,
                    opaque: a.into_iter().chain(b).chain(z).collect(),
                    media,
                }
            },
        )
}

proptest! {
    #[test]
    fn print_then_parse_is_identity(sd in session()) {
        let printed = sd.to_string();
        let parsed = SessionDescription::parse(&printed).unwrap();
        prop_assert_eq!(&parsed, &sd);
        let lf = printed.replace("\r\n", "\n");
        prop_assert_eq!(SessionDescription::parse(&lf).unwrap(), sd);
        sdp::fuzzing::sdp(printed.as_bytes());
    }
}
