//! RTCP for one session (RFC 3550 section 6): the socket on the odd port above the RTP
//! port, the sender's and the receiver's statistics, compound reports (SR when we sent
//! since the last report, else RR, each with an SDES CNAME) sent at the RFC's intervals,
//! incoming reports read and kept, a BYE at close, and the summary logged at hang-up.
//!
//! It does not own the RTP socket nor decide when a session ends; packet formats and the
//! statistics' arithmetic are the `rtp` crate's. The clock thread calls
//! [`RtcpChannel::tick`] once per 20 ms; the session tells it of each RTP packet.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rtp::rtcp::{
    parse_compound, write_compound, Goodbye, ReceiverReport, ReportBlock, RtcpPacket, SdesChunk,
    SdesItem, SourceDescription,
};
use rtp::{ntp_timestamp, ReceptionStatistics, RtpPacket, SenderStatistics};

/// RFC 3550 6.2: the minimum report interval.
const MIN_INTERVAL: Duration = Duration::from_secs(5);
/// RFC 3550 6.3.1: the randomized interval is divided by e - 3/2 to make up for the
/// timer reconsideration's bias towards short intervals.
const COMPENSATION: f64 = 1.218_281_828_459_045;
/// RTCP packets read per read at most (a flood cannot stall the clock).
const MAX_READS_PER_TICK: usize = 8;
/// The socket is read every this many ticks (100 ms), sessions staggered: reports come
/// every few seconds, and a read that finds nothing is a system call per session per
/// tick (a quarter of the clock's system calls at 500 streams).
const READ_EVERY: u32 = 5;
/// SDES item type of the CNAME.
const SDES_CNAME: u8 = 1;

/// What the RTCP of a session saw, for the hang-up log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RtcpSummary {
    /// Compound reports sent.
    pub reports_sent: u64,
    /// Compound RTCP packets received and parsed.
    pub reports_received: u64,
    /// RTCP packets that did not parse.
    pub malformed: u64,
    /// Packets of the peer's stream we missed (RFC 3550 cumulative lost).
    pub lost: i32,
    /// Packets of the peer's stream we expected.
    pub expected: u32,
    /// Interarrival jitter of the peer's stream, in timestamp units (1/8 ms).
    pub jitter: u32,
    /// The peer's last report on our stream: cumulative lost and jitter (timestamp
    /// units), when it sent one.
    pub peer_view: Option<(i32, u32)>,
}

/// The RTCP side of one session. See the module documentation.
pub(crate) struct RtcpChannel {
    socket: UdpSocket,
    ssrc: u32,
    cname: Vec<u8>,
    /// Where reports go: the source of the peer's RTCP once one came, else the peer's RTP
    /// port + 1.
    remote: Option<SocketAddr>,
    latched: bool,
    sender: SenderStatistics,
    sent_since_report: bool,
    reception: Option<ReceptionStatistics>,
    peer_ssrc: Option<u32>,
    next_report: Option<Instant>,
    random: u32,
    /// Ticks so far (from a per-session offset): the socket is read when a multiple of
    /// [`READ_EVERY`].
    ticks: u32,
    summary: RtcpSummary,
    buf: Vec<u8>,
}

impl RtcpChannel {
    pub(crate) fn new(socket: UdpSocket, ssrc: u32) -> RtcpChannel {
        let cname = match socket.local_addr() {
            Ok(a) => format!("switchboard@{}", a.ip()),
            Err(_) => "switchboard".into(),
        };
        RtcpChannel {
            socket,
            ssrc,
            cname: cname.into_bytes(),
            remote: None,
            latched: false,
            sender: SenderStatistics::new(ssrc),
            sent_since_report: false,
            reception: None,
            peer_ssrc: None,
            next_report: None,
            random: ssrc | 1,
            ticks: ssrc % READ_EVERY,
            summary: RtcpSummary::default(),
            buf: vec![0; 1500],
        }
    }

    /// One RTP packet of ours left with this many payload octets.
    pub(crate) fn rtp_sent(&mut self, payload_len: usize) {
        self.sender.sent(payload_len);
        self.sent_since_report = true;
    }

    /// One RTP packet of the peer's arrived (audio or telephone-event).
    pub(crate) fn rtp_received(&mut self, p: &RtpPacket<'_>, now: Instant) {
        if self.peer_ssrc != Some(p.ssrc()) {
            // A new source (or the first): its statistics start afresh.
            self.peer_ssrc = Some(p.ssrc());
            self.reception = Some(ReceptionStatistics::new(p.sequence_number(), 8000));
        }
        if let Some(r) = self.reception.as_mut() {
            r.received(p.sequence_number(), p.timestamp(), now);
        }
    }

    /// Once per clock tick: reads incoming RTCP (every [`READ_EVERY`] ticks), then sends a
    /// report if one is due.
    /// `rtp_remote` is where our RTP goes; `rtp_timestamp` our media clock now.
    pub(crate) fn tick(
        &mut self,
        now: Instant,
        rtp_remote: Option<SocketAddr>,
        rtp_timestamp: u32,
    ) {
        self.ticks = self.ticks.wrapping_add(1);
        if self.ticks.is_multiple_of(READ_EVERY) {
            self.receive(now);
        }
        if !self.latched {
            self.remote = rtp_remote.map(|a| SocketAddr::new(a.ip(), a.port().wrapping_add(1)));
        }
        let Some(remote) = self.remote else {
            return;
        };
        let due = *self
            .next_report
            .get_or_insert_with(|| now + MIN_INTERVAL / 2);
        if now < due {
            return;
        }
        let packets = [self.report(now, rtp_timestamp), self.source_description()];
        if self.send(&packets, remote) {
            self.summary.reports_sent += 1;
        }
        self.next_report = Some(now + self.interval());
    }

    /// The session closes: a last report with a BYE (RFC 3550 6.6), and the summary.
    pub(crate) fn close(&mut self, now: Instant, rtp_timestamp: u32) -> RtcpSummary {
        self.receive(now);
        if let Some(remote) = self.remote {
            let packets = [
                self.report(now, rtp_timestamp),
                self.source_description(),
                RtcpPacket::Goodbye(Goodbye {
                    sources: vec![self.ssrc],
                    reason: None,
                }),
            ];
            if self.send(&packets, remote) {
                self.summary.reports_sent += 1;
            }
        }
        self.summary()
    }

    /// What was seen so far.
    pub(crate) fn summary(&self) -> RtcpSummary {
        let mut s = self.summary;
        if let Some(r) = &self.reception {
            s.lost = r.cumulative_lost();
            s.expected = r.expected();
            s.jitter = r.jitter();
        }
        s
    }

    fn receive(&mut self, now: Instant) {
        for _ in 0..MAX_READS_PER_TICK {
            let (n, src) = match self.socket.recv_from(&mut self.buf) {
                Ok(r) => r,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(_) => continue,
            };
            let Ok(packets) = parse_compound(&self.buf[..n]) else {
                self.summary.malformed += 1;
                continue;
            };
            // Symmetric RTCP, like symmetric RTP: answer where the reports come from.
            self.remote = Some(src);
            self.latched = true;
            self.summary.reports_received += 1;
            for p in packets {
                match p {
                    RtcpPacket::SenderReport(sr) => {
                        if let Some(r) = self.reception.as_mut() {
                            r.sender_report_received(sr.ntp_timestamp, now);
                        }
                        self.peer_report(&sr.reports);
                    }
                    RtcpPacket::ReceiverReport(rr) => self.peer_report(&rr.reports),
                    _ => {}
                }
            }
        }
    }

    /// Keeps the peer's report block on our stream.
    fn peer_report(&mut self, blocks: &[ReportBlock]) {
        if let Some(b) = blocks.iter().find(|b| b.ssrc == self.ssrc) {
            self.summary.peer_view = Some((b.cumulative_lost, b.jitter));
        }
    }

    /// SR when we sent RTP since the last report (RFC 3550 6.4), else RR; with a report
    /// block on the peer's stream once it sent any.
    fn report(&mut self, now: Instant, rtp_timestamp: u32) -> RtcpPacket {
        let blocks: Vec<ReportBlock> = match (self.peer_ssrc, self.reception.as_mut()) {
            (Some(ssrc), Some(r)) => vec![r.report_block(ssrc, now)],
            _ => Vec::new(),
        };
        if std::mem::take(&mut self.sent_since_report) {
            let since_epoch = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            RtcpPacket::SenderReport(self.sender.sender_report(
                ntp_timestamp(since_epoch),
                rtp_timestamp,
                blocks,
            ))
        } else {
            RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc: self.ssrc,
                reports: blocks,
                extension: Vec::new(),
            })
        }
    }

    fn source_description(&self) -> RtcpPacket {
        RtcpPacket::SourceDescription(SourceDescription {
            chunks: vec![SdesChunk {
                ssrc: self.ssrc,
                items: vec![SdesItem {
                    kind: SDES_CNAME,
                    text: self.cname.clone(),
                }],
            }],
        })
    }

    fn send(&mut self, packets: &[RtcpPacket], to: SocketAddr) -> bool {
        self.buf.clear();
        let ok = write_compound(packets, &mut self.buf).is_ok()
            && self.socket.send_to(&self.buf, to).is_ok();
        self.buf.resize(1500, 0);
        ok
    }

    /// The next interval (RFC 3550 6.3.1 with two members and the 5 s minimum, which
    /// dominates for one G.711 stream): uniformly random in [0.5, 1.5] times the minimum,
    /// divided by the compensation factor.
    fn interval(&mut self) -> Duration {
        // xorshift32: enough to keep sessions opened together from reporting in step.
        let mut x = self.random;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.random = x;
        let factor = 0.5 + f64::from(x) / f64::from(u32::MAX);
        MIN_INTERVAL.mul_f64(factor / COMPENSATION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (RtcpChannel, UdpSocket) {
        let ours = UdpSocket::bind("127.0.0.1:0").unwrap();
        ours.set_nonblocking(true).unwrap();
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        (RtcpChannel::new(ours, 0x1111), peer)
    }

    fn rtp(seq: u16, ts: u32) -> Vec<u8> {
        let mut out = Vec::new();
        rtp::RtpHeader {
            payload_type: 0,
            sequence_number: seq,
            timestamp: ts,
            ssrc: 0x2222,
            ..rtp::RtpHeader::default()
        }
        .write(&[0xFF; 160], 0, &mut out)
        .unwrap();
        out
    }

    #[test]
    fn intervals_are_randomized_around_the_minimum() {
        let (mut c, _peer) = pair();
        for _ in 0..1000 {
            let i = c.interval();
            assert!(i >= MIN_INTERVAL.mul_f64(0.5 / COMPENSATION), "{i:?}");
            assert!(i <= MIN_INTERVAL.mul_f64(1.5 / COMPENSATION), "{i:?}");
        }
    }

    #[test]
    fn sends_a_sender_report_with_a_block_on_the_peer_stream_then_reads_its_report() {
        let (mut c, peer) = pair();
        let t0 = Instant::now();
        // The peer's RTP port is one below its RTCP port.
        let peer_rtcp = peer.local_addr().unwrap();
        let peer_rtp = SocketAddr::new(peer_rtcp.ip(), peer_rtcp.port() - 1);
        // 10 packets of the peer's, one missing (seq 104).
        for seq in (100u16..111).filter(|s| *s != 104) {
            let buf = rtp(seq, u32::from(seq) * 160);
            c.rtp_received(&RtpPacket::parse(&buf).unwrap(), t0);
        }
        for _ in 0..50 {
            c.rtp_sent(160);
        }
        c.tick(t0, Some(peer_rtp), 8000);
        let mut buf = [0u8; 1500];
        assert!(peer.set_nonblocking(true).is_ok());
        assert!(
            peer.recv_from(&mut buf).is_err(),
            "nothing before the first interval"
        );
        c.tick(t0 + MIN_INTERVAL / 2, Some(peer_rtp), 8000);
        peer.set_nonblocking(false).unwrap();
        let (n, from) = peer.recv_from(&mut buf).unwrap();
        let packets = parse_compound(&buf[..n]).unwrap();
        let RtcpPacket::SenderReport(sr) = &packets[0] else {
            panic!("not an SR first: {packets:?}");
        };
        assert_eq!(
            (sr.ssrc, sr.packet_count, sr.octet_count),
            (0x1111, 50, 8000)
        );
        assert_eq!(sr.reports.len(), 1);
        assert_eq!(
            (sr.reports[0].ssrc, sr.reports[0].cumulative_lost),
            (0x2222, 1)
        );
        assert!(matches!(packets[1], RtcpPacket::SourceDescription(_)));

        // The peer's RR on our stream: 3 lost, jitter 40.
        let rr = RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: 0x2222,
            reports: vec![ReportBlock {
                ssrc: 0x1111,
                fraction_lost: 0,
                cumulative_lost: 3,
                extended_highest_sequence: 50,
                jitter: 40,
                last_sender_report: 0,
                delay_since_last_sender_report: 0,
            }],
            extension: Vec::new(),
        });
        let mut out = Vec::new();
        write_compound(&[rr], &mut out).unwrap();
        peer.send_to(&out, from).unwrap();
        // A datagram on loopback is in our queue when send_to returns: the socket is
        // read within READ_EVERY ticks. Nothing sent since: the last report is an RR,
        // then the BYE.
        for _ in 0..READ_EVERY {
            c.tick(Instant::now(), Some(peer_rtp), 8000);
        }
        let summary = c.summary();
        assert_eq!(summary.reports_received, 1);
        assert_eq!(summary.peer_view, Some((3, 40)));
        // RFC 3550 A.1: the source is on probation until two packets in sequence came,
        // so counting starts at the second (101): 10 expected, 1 lost.
        assert_eq!((summary.lost, summary.expected), (1, 10));
        let summary = c.close(Instant::now(), 8160);
        assert_eq!(summary.reports_sent, 2);
        let (n, _) = peer.recv_from(&mut buf).unwrap();
        let packets = parse_compound(&buf[..n]).unwrap();
        assert!(
            matches!(packets[0], RtcpPacket::ReceiverReport(_)),
            "{packets:?}"
        );
        assert!(matches!(packets[2], RtcpPacket::Goodbye(_)), "{packets:?}");
    }
}
