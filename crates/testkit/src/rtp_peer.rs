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
