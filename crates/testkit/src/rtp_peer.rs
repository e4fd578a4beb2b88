//! An RTP phone in the test process: sends G.711 mu-law audio paced like a phone (20 ms
//! packets on absolute deadlines), RFC 4733 digits, and collects and decodes what it
//! receives. It plays the media side of a SIPp call, or stands alone against the engine.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rtp::{g711, RtpHeader, RtpPacket, TelephoneEvent};

/// What the peer received.
#[derive(Debug, Default, Clone)]
pub struct Heard {
    /// Decoded audio (payload type 0), in arrival order.
    pub samples: Vec<i16>,
    /// Arrival times of the audio packets.
    pub arrivals: Vec<Instant>,
    /// Where the packets came from.
    pub sources: Vec<SocketAddr>,
}

/// An RTP endpoint on 127.0.0.1.
pub struct RtpPeer {
    sock: UdpSocket,
    ssrc: u32,
    seq: u16,
    ts: u32,
    heard: Arc<Mutex<Heard>>,
    stop: Arc<AtomicBool>,
    listener: Option<JoinHandle<()>>,
}

impl RtpPeer {
    /// Binds a port on 127.0.0.1 and starts collecting what arrives.
    pub fn bind() -> RtpPeer {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let heard = Arc::new(Mutex::new(Heard::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let rx = sock.try_clone().unwrap();
        let (h, s) = (heard.clone(), stop.clone());
        let listener = std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            let mut pcm = Vec::new();
            while !s.load(Ordering::Relaxed) {
                let Ok((n, src)) = rx.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(p) = RtpPacket::parse(&buf[..n]) else {
                    continue;
                };
                if p.payload_type() != 0 {
                    continue;
                }
                pcm.clear();
                g711::ulaw_decode_frame(p.payload(), &mut pcm);
                let mut h = h.lock().unwrap();
                h.samples.extend_from_slice(&pcm);
                h.arrivals.push(Instant::now());
                h.sources.push(src);
            }
        });
        RtpPeer {
            sock,
            ssrc: 0x1234_5678,
            seq: 1000,
            ts: 160_000,
            heard,
            stop,
            listener: Some(listener),
        }
    }

    /// The local address (write it in the SDP offer).
    pub fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    /// A copy of what was received so far.
    pub fn heard(&self) -> Heard {
        self.heard.lock().unwrap().clone()
    }

    /// Waits until `samples` decoded samples have arrived (false after `limit`).
    pub fn wait_samples(&self, samples: usize, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.heard.lock().unwrap().samples.len() >= samples {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Waits until this phone has heard `ms` of audio after its first sound (a sample above
    /// 200); returns what it heard from that first sound on.
    pub fn heard_after_first_sound(&self, ms: usize) -> Vec<i16> {
        let mut out = Vec::new();
        crate::wait::wait_until(
            "the phone to hear the audio",
            crate::wait::HANG_GUARD,
            || {
                let h = self.heard();
                let first = h.samples.iter().position(|s| s.unsigned_abs() > 200);
                let ready = first.is_some_and(|f| h.samples.len() >= f + ms * 8);
                if ready {
                    out = h.samples[first.unwrap_or(0)..].to_vec();
                }
                ready
            },
        );
        out
    }

    /// Sends `samples` as PCMU packets of 20 ms to `to`, paced in real time.
    pub fn send_audio(&mut self, to: SocketAddr, samples: &[i16]) {
        let start = Instant::now();
        let mut payload = Vec::with_capacity(160);
        let mut out = Vec::with_capacity(200);
        for (i, frame) in samples.chunks(160).enumerate() {
            let due = start + Duration::from_millis(20 * i as u64);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            payload.clear();
            g711::ulaw_encode_frame(frame, &mut payload);
            out.clear();
            RtpHeader {
                marker: i == 0,
                payload_type: 0,
                sequence_number: self.seq,
                timestamp: self.ts,
                ssrc: self.ssrc,
                ..RtpHeader::default()
            }
            .write(&payload, 0, &mut out)
            .unwrap();
            self.sock.send_to(&out, to).unwrap();
            self.seq = self.seq.wrapping_add(1);
            self.ts = self.ts.wrapping_add(160);
        }
    }

    /// Sends one RFC 4733 digit on payload type `pt` (three updates and three end packets,
    /// as phones do), paced 20 ms apart.
    pub fn send_digit(&mut self, to: SocketAddr, digit: char, pt: u8) {
        let event = match digit {
            '0'..='9' => digit as u8 - b'0',
            '*' => 10,
            '#' => 11,
            _ => panic!("not a digit: {digit}"),
        };
        let ts = self.ts;
        for i in 0..6u16 {
            let end = i >= 3;
            let e = TelephoneEvent {
                event,
                end,
                volume: 10,
                duration: 160 * (i.min(3) + 1),
            };
            let mut out = Vec::new();
            RtpHeader {
                marker: i == 0,
                payload_type: pt,
                sequence_number: self.seq,
                timestamp: ts,
                ssrc: self.ssrc,
                ..RtpHeader::default()
            }
            .write(&e.to_bytes(), 0, &mut out)
            .unwrap();
            self.sock.send_to(&out, to).unwrap();
            self.seq = self.seq.wrapping_add(1);
            std::thread::sleep(Duration::from_millis(20));
        }
        self.ts = self.ts.wrapping_add(160 * 5);
    }
}

impl Drop for RtpPeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(l) = self.listener.take() {
            let _ = l.join();
        }
    }
}

/// Two phones bridged in one call talk at once for a second: `a` sends 1500 Hz to `a_to`
/// while `b` sends 500 Hz to `b_to`. Asserts that each heard more than 0.8 s of the other's
/// tone and none of its own (a bridge, not an echo); `names` go in the failure messages.
pub fn assert_talk_both_ways(
    (a, a_to): (&mut RtpPeer, SocketAddr),
    (b, b_to): (&mut RtpPeer, SocketAddr),
    names: [&str; 2],
) {
    let before = (a.heard().samples.len(), b.heard().samples.len());
    std::thread::scope(|s| {
        s.spawn(|| a.send_audio(a_to, &crate::audio::tone(1500.0, 1000, 8000.0)));
        s.spawn(|| b.send_audio(b_to, &crate::audio::tone(500.0, 1000, 8000.0)));
    });
    assert!(a.wait_samples(before.0 + 9600, Duration::from_secs(5)));
    assert!(b.wait_samples(before.1 + 9600, Duration::from_secs(5)));
    let [a_name, b_name] = names;
    let a_heard = &a.heard().samples[before.0..];
    let b_heard = &b.heard().samples[before.1..];
    let a_hears = crate::audio::tone_seconds(a_heard, 500.0);
    let b_hears = crate::audio::tone_seconds(b_heard, 1500.0);
    assert!(
        a_hears > 0.8,
        "{a_name} heard {a_hears} s of {b_name}'s 500 Hz"
    );
    assert!(
        b_hears > 0.8,
        "{b_name} heard {b_hears} s of {a_name}'s 1500 Hz"
    );
    assert_eq!(
        crate::audio::tone_seconds(a_heard, 1500.0),
        0.0,
        "{a_name} heard itself"
    );
    assert_eq!(
        crate::audio::tone_seconds(b_heard, 500.0),
        0.0,
        "{b_name} heard itself"
    );
}
