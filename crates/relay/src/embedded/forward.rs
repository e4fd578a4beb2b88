//! The data plane of the embedded relay: one task per socket, reading a party's packets
//! and sending them on through the socket that faces the other party. Symmetric latching
//! (RFC 4961): a party's packets go where its own packets come from, learnt from its first
//! packet; until then, where its SDP (or, for a private SDP address, its signalling) says.
//!
//! Per packet: one receive into the task's own buffer, one lock of the far end's address,
//! a few atomic counters, one send. No allocation.
//!
//! Not here: which sockets a call has or when it ends (`mod.rs`), SDP (`sdp_rewrite.rs`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::net::UdpSocket;

/// RTP or RTCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Rtp = 0,
    Rtcp = 1,
}

/// Where one party's packets of one stream go.
#[derive(Debug, Default)]
struct Dest {
    /// Per [`Kind`]: the address, and whether a packet of the party's has confirmed it.
    addr: [Option<SocketAddr>; 2],
    latched: [bool; 2],
    /// What the party's SDP said last (a re-offer that changes it unlatches).
    signalled: [Option<SocketAddr>; 2],
}

/// One party's end of one media stream.
#[derive(Debug, Default)]
pub(super) struct Endpoint {
    dest: Mutex<Dest>,
}

impl Endpoint {
    /// The party's SDP (or a re-offer) says it wants RTP at `rtp` and RTCP at `rtcp`.
    pub(super) fn signal(&self, rtp: SocketAddr, rtcp: SocketAddr) {
        let Ok(mut d) = self.dest.lock() else {
            return;
        };
        for (k, a) in [rtp, rtcp].into_iter().enumerate() {
            if d.signalled[k] != Some(a) {
                d.signalled[k] = Some(a);
                d.addr[k] = Some(a);
                d.latched[k] = false;
            }
        }
    }

    /// A packet of this party's came from `src`: true when it is to be relayed (the first
    /// one latches the address; later ones must come from it).
    fn accept(&self, kind: Kind, src: SocketAddr) -> bool {
        let Ok(mut d) = self.dest.lock() else {
            return false;
        };
        let k = kind as usize;
        if d.latched[k] {
            return d.addr[k] == Some(src);
        }
        d.addr[k] = Some(src);
        d.latched[k] = true;
        if kind == Kind::Rtp && !d.latched[1] {
            // RTCP comes from the same NAT: its address, the signalled port.
            let port = d.addr[1].map_or(src.port().wrapping_add(1), |a| a.port());
            d.addr[1] = Some(SocketAddr::new(src.ip(), port));
        }
        true
    }

    /// Where this party's packets of `kind` go now.
    fn target(&self, kind: Kind) -> Option<SocketAddr> {
        self.dest.lock().ok().and_then(|d| d.addr[kind as usize])
    }

    /// Whether the party's RTP address is latched, and where.
    pub(super) fn latched_rtp(&self) -> Option<SocketAddr> {
        let d = self.dest.lock().ok()?;
        d.latched[0].then_some(d.addr[0]).flatten()
    }
}

/// A call's counters, shared by its tasks. Direction 0: caller → callee; 1: callee → caller.
#[derive(Debug)]
pub(super) struct Counters {
    pub packets: [AtomicU64; 2],
    pub bytes: [AtomicU64; 2],
    pub lost: AtomicU64,
    /// Milliseconds since the relay's epoch of the last packet relayed (the dead-stream
    /// timeout reads it).
    pub last_packet_ms: AtomicU64,
}

impl Counters {
    pub(super) fn new(now_ms: u64) -> Counters {
        Counters {
            packets: [AtomicU64::new(0), AtomicU64::new(0)],
            bytes: [AtomicU64::new(0), AtomicU64::new(0)],
            lost: AtomicU64::new(0),
            last_packet_ms: AtomicU64::new(now_ms),
        }
    }
}

/// RTP sequence numbers of one direction: counts the gaps (packets lost on the way in).
#[derive(Debug, Default)]
pub(super) struct Sequence {
    next: Option<u16>,
}

impl Sequence {
    /// Packets missing before this one (0 for the next in order, a late or repeated one,
    /// or a jump so large that the sender restarted).
    pub(super) fn gap(&mut self, packet: &[u8]) -> u64 {
        if packet.len() < 12 || packet[0] >> 6 != 2 {
            return 0;
        }
        let seq = u16::from_be_bytes([packet[2], packet[3]]);
        let Some(expected) = self.next else {
            self.next = Some(seq.wrapping_add(1));
            return 0;
        };
        let d = seq.wrapping_sub(expected);
        if d >= 0x8000 {
            return 0; // late or repeated
        }
        self.next = Some(seq.wrapping_add(1));
        if d < 3000 {
            u64::from(d)
        } else {
            0
        }
    }
}

/// One direction of one stream's RTP or RTCP.
pub(super) struct Pump {
    pub rx: Arc<UdpSocket>,
    pub tx: Arc<UdpSocket>,
    /// The party whose packets `rx` receives.
    pub from: Arc<Endpoint>,
    /// The party they go to.
    pub to: Arc<Endpoint>,
    pub kind: Kind,
    /// 0: caller → callee, 1: callee → caller.
    pub direction: usize,
    pub counters: Arc<Counters>,
    pub epoch: Instant,
}

impl Pump {
    /// Relays until the task is aborted (the call's teardown).
    pub(super) async fn run(self) {
        let mut buf = [0u8; 2048];
        let mut seq = Sequence::default();
        loop {
            let Ok((n, src)) = self.rx.recv_from(&mut buf).await else {
                continue;
            };
            if !self.from.accept(self.kind, src) {
                continue;
            }
            let packet = &buf[..n];
            if self.kind == Kind::Rtp {
                let lost = seq.gap(packet);
                if lost > 0 {
                    self.counters.lost.fetch_add(lost, Ordering::Relaxed);
                }
            }
            let now_ms = self.epoch.elapsed().as_millis() as u64;
            self.counters
                .last_packet_ms
                .fetch_max(now_ms, Ordering::Relaxed);
            let Some(dest) = self.to.target(self.kind) else {
                continue;
            };
            if self.tx.send_to(packet, dest).await.is_ok() && self.kind == Kind::Rtp {
                self.counters.packets[self.direction].fetch_add(1, Ordering::Relaxed);
                self.counters.bytes[self.direction].fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rtp(seq: u16) -> [u8; 12] {
        let mut p = [0u8; 12];
        p[0] = 0x80;
        p[2..4].copy_from_slice(&seq.to_be_bytes());
        p
    }

    #[test]
    fn sequence_gaps_are_losses() {
        let mut s = Sequence::default();
        assert_eq!(s.gap(&rtp(65534)), 0);
        assert_eq!(s.gap(&rtp(65535)), 0);
        assert_eq!(s.gap(&rtp(2)), 2); // 0 and 1 lost, across the wrap
        assert_eq!(s.gap(&rtp(1)), 0); // late
        assert_eq!(s.gap(&rtp(3)), 0);
        assert_eq!(s.gap(&rtp(40000)), 0); // the sender restarted
        assert_eq!(s.gap(&[0u8; 4]), 0);
    }

    #[test]
    fn latches_on_the_first_packet() {
        let e = Endpoint::default();
        let sdp: SocketAddr = "192.168.1.2:4000".parse().unwrap();
        e.signal(sdp, "192.168.1.2:4001".parse().unwrap());
        assert_eq!(e.target(Kind::Rtp), Some(sdp));
        assert_eq!(e.latched_rtp(), None);
        let nat: SocketAddr = "203.0.113.9:61000".parse().unwrap();
        assert!(e.accept(Kind::Rtp, nat));
        assert_eq!(e.target(Kind::Rtp), Some(nat));
        assert_eq!(
            e.target(Kind::Rtcp),
            Some("203.0.113.9:4001".parse().unwrap())
        );
        // Someone else's packets are not relayed, and do not move the latch.
        assert!(!e.accept(Kind::Rtp, "198.51.100.1:5000".parse().unwrap()));
        assert_eq!(e.latched_rtp(), Some(nat));
        // The same SDP again keeps the latch; a new address unlatches.
        e.signal(sdp, "192.168.1.2:4001".parse().unwrap());
        assert_eq!(e.latched_rtp(), Some(nat));
        e.signal(
            "192.168.1.2:5000".parse().unwrap(),
            "192.168.1.2:5001".parse().unwrap(),
        );
        assert_eq!(e.latched_rtp(), None);
    }
}
