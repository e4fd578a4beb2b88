//! The bodies of the fuzz targets `rtp` and `rtcp` in `fuzz/fuzz_targets/`, kept here so
//! that the fuzzer and the corpus replay test (`tests/fuzz_corpus.rs`) run the same code.
//! Each takes any bytes and panics only when an invariant of this crate is broken.

use std::time::{Duration, Instant};

use crate::rtcp::{parse_compound, write_compound};
use crate::{
    JitterBuffer, JitterBufferConfig, ReceptionStatistics, RtpHeader, RtpPacket, TelephoneEvent,
    TelephoneEventReceiver,
};

/// Target `rtp`: the packet parser and writer, the telephone-event parser and receiver,
/// the reception statistics and the jitter buffer, on the datagram and on datagrams cut
/// from it (the first byte gives the cut length).
pub fn rtp(data: &[u8]) {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(JitterBufferConfig {
        capacity: 8,
        max_lost_run: 4,
        ..JitterBufferConfig::default()
    });
    let mut events = TelephoneEventReceiver::new();
    let mut stats: Option<ReceptionStatistics> = None;
    let cut = usize::from(data.first().copied().unwrap_or(0)).max(12);
    let datagrams = std::iter::once(data).chain(data.get(1..).unwrap_or(&[]).chunks(cut));
    for (i, d) in datagrams.enumerate() {
        let now = t0 + Duration::from_millis(20 * i as u64);
        let Ok(p) = RtpPacket::parse(d) else {
            continue;
        };
        assert!(p.payload().len() + p.padding_len() + RtpPacket::FIXED_HEADER_LEN <= d.len());
        let header = RtpHeader::of(&p);
        let mut out = Vec::new();
        let padding = u8::try_from(p.padding_len()).expect("padding fits its count octet");
        header
            .write(p.payload(), padding, &mut out)
            .expect("a parsed header writes");
        assert_eq!(out.len(), d.len());
        let again = RtpPacket::parse(&out).expect("own packet parses");
        assert_eq!(RtpHeader::of(&again), header);
        assert_eq!(again.payload(), p.payload());
        // Everything but the padding octets is the same.
        assert_eq!(
            &out[..out.len() - p.padding_len()],
            &d[..d.len() - p.padding_len()]
        );

        if let Ok(e) = TelephoneEvent::parse(p.payload()) {
            let b = e.to_bytes();
            assert_eq!(TelephoneEvent::parse(&b), Ok(e));
        }
        let _ = events.receive(p.timestamp(), p.payload());
        let s = stats.get_or_insert_with(|| ReceptionStatistics::new(p.sequence_number(), 8000));
        s.received(p.sequence_number(), p.timestamp(), now);
        let block = s.report_block(p.ssrc(), now);
        assert!((-0x80_0000..=0x7f_ffff).contains(&block.cumulative_lost));
        jb.push(&p, now);
        assert!(jb.len() <= 8);
        let _ = jb.poll(now + Duration::from_millis(100));
    }
}

/// Target `rtcp`: a parsed compound writes back to bytes that parse to the same packets.
pub fn rtcp(data: &[u8]) {
    let Ok(packets) = parse_compound(data) else {
        return;
    };
    let mut out = Vec::new();
    // Padding and odd-length bodies may not write back; what writes must reparse equal.
    if write_compound(&packets, &mut out).is_ok() {
        assert_eq!(out.len() % 4, 0);
        let again = parse_compound(&out).expect("own compound parses");
        assert_eq!(again, packets);
    }
}
