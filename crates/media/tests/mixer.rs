//! The conference mixer against three RTP phones in the test process (testkit's
//! `RtpPeer`): each sends its own tone (500, 1000, 1500 Hz) and must hear the other two
//! and not its own, decoded from the RTP it receives (Goertzel); a member taken out is no
//! longer heard; two loud members clip instead of wrapping around.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use media::{MediaConfig, MediaEngine, MediaSession, StreamParams};
use sdp::Codec;
use testkit::audio;
use testkit::rtp_peer::RtpPeer;
use tokio::sync::mpsc;

fn engine() -> MediaEngine {
    let base = 40000 + (std::process::id() % 500) as u16 * 40;
    MediaEngine::start(MediaConfig {
        bind_address: IpAddr::from([127, 0, 0, 1]),
        first_port: base,
        last_port: base + 39,
        ..MediaConfig::default()
    })
    .unwrap()
}

fn join(eng: &MediaEngine, peer: &RtpPeer) -> MediaSession {
    let (tx, rx) = mpsc::channel(64);
    std::mem::forget(rx); // events are not read here
    let s = eng.open(tx).unwrap();
    s.start(StreamParams {
        remote: Some(peer.addr()),
        codec: Codec::Pcmu,
        payload_type: 0,
        telephone_event: None,
        send: true,
        receive: true,
    });
    s
}

/// Each peer with the engine address it sends to and the tone it plays (in order; the
/// shortest list decides how many).
fn with_tones(
    peers: Vec<RtpPeer>,
    to: &[SocketAddr],
    freqs: &[f64],
) -> Vec<(RtpPeer, SocketAddr, f64)> {
    peers
        .into_iter()
        .zip(to.iter().copied())
        .zip(freqs.iter().copied())
        .map(|((p, a), f)| (p, a, f))
        .collect()
}

/// Every peer sends its tone for `ms` at once (threads: each peer paces itself).
fn talk(peers: Vec<(RtpPeer, SocketAddr, f64)>, ms: u32, amplitude: f64) -> Vec<RtpPeer> {
    let handles: Vec<_> = peers
        .into_iter()
        .map(|(mut p, to, hz)| {
            std::thread::spawn(move || {
                p.send_audio(to, &audio::tone(hz, ms, amplitude));
                p
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// The share of the energy at `hz` in what the peer heard after sample `from`, leaving
/// out the first and last 200 ms (the mixer's start and the tones' end).
fn share(peer: &RtpPeer, from: usize, hz: f64) -> f64 {
    let heard = peer.heard().samples;
    let end = heard.len().saturating_sub(1600);
    let window = &heard[(from + 1600).min(end)..end];
    assert!(window.len() >= 4000, "only {} samples heard", window.len());
    audio::block_tone_share(window, hz)
}

#[test]
fn each_member_hears_the_others_and_never_itself() {
    let eng = engine();
    let mixer = eng.mixer();
    let freqs = [500.0, 1000.0, 1500.0];
    let peers: Vec<RtpPeer> = freqs.iter().map(|_| RtpPeer::bind()).collect();
    let sessions: Vec<MediaSession> = peers.iter().map(|p| join(&eng, p)).collect();
    for s in &sessions {
        assert!(mixer.add(s));
    }
    assert!(!mixer.add(&sessions[0]), "a member is added once");
    assert_eq!(mixer.len(), 3);

    let marks: Vec<usize> = peers.iter().map(|p| p.heard().samples.len()).collect();
    let to: Vec<SocketAddr> = sessions.iter().map(|s| s.local_addr()).collect();
    let peers = talk(with_tones(peers, &to, &freqs), 2000, 8000.0);
    for (i, p) in peers.iter().enumerate() {
        assert!(p.wait_samples(marks[i] + 16000, Duration::from_secs(5)));
        for (j, &hz) in freqs.iter().enumerate() {
            let s = share(p, marks[i], hz);
            if i == j {
                assert!(s < 0.02, "phone {i} hears its own {hz} Hz: share {s}");
            } else {
                assert!(s > 0.3, "phone {i} does not hear {hz} Hz: share {s}");
            }
        }
    }

    // The 1500 Hz phone leaves: the others hear only each other.
    assert!(mixer.remove(&sessions[2]));
    assert_eq!(mixer.len(), 2);
    let marks: Vec<usize> = peers.iter().map(|p| p.heard().samples.len()).collect();
    let mut peers = peers;
    let third = peers.pop().unwrap();
    let peers = talk(with_tones(peers, &to, &freqs), 1500, 8000.0);
    for (i, p) in peers.iter().enumerate() {
        assert!(p.wait_samples(marks[i] + 12000, Duration::from_secs(5)));
        let other = freqs[1 - i];
        let s = share(p, marks[i], other);
        assert!(s > 0.8, "phone {i} lost {other} Hz: share {s}");
        let s = share(p, marks[i], 1500.0);
        assert!(
            s < 0.02,
            "phone {i} still hears the one who left: share {s}"
        );
    }
    drop(third);
    drop(sessions);
    assert_eq!(eng.stats().sessions, 0);
    eng.shutdown();
}

#[test]
fn two_loud_members_clip_instead_of_wrapping() {
    let eng = engine();
    let mixer = eng.mixer();
    let peers: Vec<RtpPeer> = (0..3).map(|_| RtpPeer::bind()).collect();
    let sessions: Vec<MediaSession> = peers.iter().map(|p| join(&eng, p)).collect();
    for s in &sessions {
        mixer.add(s);
    }
    let mut peers = peers;
    let listener = peers.pop().unwrap();
    let mark = listener.heard().samples.len();
    let to: Vec<SocketAddr> = sessions.iter().map(|s| s.local_addr()).collect();
    // Two in-phase full-scale tones: their sum is twice what 16 bits hold.
    talk(
        peers
            .into_iter()
            .zip(to.iter().copied())
            .map(|(p, a)| (p, a, 1000.0))
            .collect(),
        1500,
        30000.0,
    );
    assert!(listener.wait_samples(mark + 12000, Duration::from_secs(5)));
    let s = share(&listener, mark, 1000.0);
    // Wrapped-around sums would turn into broadband noise; a clipped sine stays mostly
    // its fundamental.
    assert!(s > 0.8, "1 kHz share of the clipped sum: {s}");
    eng.shutdown();
}
