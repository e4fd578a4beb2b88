//! The engine against an RTP phone in the test process (testkit's `RtpPeer`): what the
//! phone hears is the clip played, decoded; what it sends is recorded; its RFC 4733
//! digits become events; its silence ends a recording; its disappearance times out.
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::time::Duration;

use media::{Clip, MediaConfig, MediaEngine, MediaEvent, RecordingLimits, StreamParams};
use sdp::Codec;
use testkit::audio;
use testkit::rtp_peer::RtpPeer;
use tokio::sync::mpsc;

fn engine(timeout: Duration) -> MediaEngine {
    // A range of our own per process; ports other programs hold are skipped.
    let base = 30000 + (std::process::id() % 500) as u16 * 40;
    MediaEngine::start(MediaConfig {
        bind_address: IpAddr::from([127, 0, 0, 1]),
        first_port: base,
        last_port: base + 39,
        rtp_timeout: timeout,
        ..MediaConfig::default()
    })
    .unwrap()
}

fn params(peer: &RtpPeer) -> StreamParams {
    StreamParams {
        remote: Some(peer.addr()),
        codec: Codec::Pcmu,
        payload_type: 0,
        telephone_event: Some(101),
        send: true,
        receive: true,
    }
}

async fn next(rx: &mut mpsc::Receiver<MediaEvent>) -> MediaEvent {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("no media event within 10 s")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plays_a_clip_the_phone_hears_and_records_what_it_sends() {
    let eng = engine(Duration::from_secs(60));
    let (tx, mut rx) = mpsc::channel(16);
    let s = eng.open(tx).unwrap();
    let mut peer = RtpPeer::bind();
    s.start(params(&peer));
    let sig = audio::signature(1000);
    let id = s.play(Clip::new(sig.clone()));
    assert_eq!(next(&mut rx).await, MediaEvent::PlayDone(id));
    assert!(peer.wait_samples(8000 + 800, Duration::from_secs(5)));
    let heard = peer.heard();
    let c = audio::clip_correlation(&heard.samples, &sig, 8000);
    assert!(c > 0.95, "correlation {c}");
    assert!(heard.sources.iter().all(|a| *a == s.local_addr()));

    s.record(RecordingLimits::default());
    let to = s.local_addr();
    let tone = audio::tone(1000.0, 1000, 8000.0);
    tokio::task::spawn_blocking(move || {
        peer.send_audio(to, &tone);
        peer.send_digit(to, '#', 101);
        peer
    })
    .await
    .unwrap();
    assert_eq!(next(&mut rx).await, MediaEvent::Dtmf('#'));
    let rec = s.take_recording().unwrap().into_samples();
    let secs = audio::tone_seconds(&rec, 1000.0);
    assert!((0.9..=1.05).contains(&secs), "{secs} s of 1 kHz");
    let (sent, received) = s.packet_counts();
    assert!(sent >= 50 && received >= 50, "{sent} {received}");
    drop(s);
    assert_eq!(eng.stats().sessions, 0);
    eng.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symmetric_rtp_silence_and_dead_media() {
    let eng = engine(Duration::from_millis(300));
    let (tx, mut rx) = mpsc::channel(16);
    let s = eng.open(tx).unwrap();
    let mut peer = RtpPeer::bind();
    // The SDP named another port; the phone's packets come from `peer`: we answer there.
    let mut p = params(&peer);
    p.remote = Some("127.0.0.1:9".parse().unwrap());
    s.start(p);
    s.record(RecordingLimits {
        max: Duration::from_secs(30),
        silence: Some(Duration::from_millis(200)),
        silence_level: 300,
    });
    let to = s.local_addr();
    let mut samples = audio::tone(1000.0, 200, 8000.0);
    samples.extend(vec![0i16; 8 * 400]);
    let peer = tokio::task::spawn_blocking(move || {
        peer.send_audio(to, &samples);
        peer
    })
    .await
    .unwrap();
    assert_eq!(next(&mut rx).await, MediaEvent::Silence);
    assert_eq!(s.remote(), Some(peer.addr()));
    assert!(
        peer.wait_samples(160, Duration::from_secs(5)),
        "latched peer hears us"
    );
    // The phone stops sending: the dead-media timer fires once.
    assert_eq!(next(&mut rx).await, MediaEvent::Timeout);
    let rec = s.take_recording().unwrap().into_samples();
    assert!(audio::tone_seconds(&rec, 1000.0) >= 0.15);
}

#[tokio::test]
async fn the_port_range_bounds_sessions() {
    let eng = engine(Duration::from_secs(60));
    let cap = eng.config().capacity();
    assert_eq!(cap, 20);
    let mut open = Vec::new();
    loop {
        let (tx, _rx) = mpsc::channel(1);
        match eng.open(tx) {
            Ok(s) => open.push(s),
            Err(e) => {
                assert_eq!(e.sip_status(), 503);
                break;
            }
        }
    }
    assert!(!open.is_empty() && open.len() <= cap);
    assert_eq!(eng.stats().refused, 1);
    open.pop();
    let (tx, _rx) = mpsc::channel(1);
    assert!(eng.open(tx).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looped_clip_plays_again_without_a_gap_until_stopped() {
    let eng = engine(Duration::from_secs(60));
    let (tx, _rx) = mpsc::channel(16);
    let s = eng.open(tx).unwrap();
    let peer = RtpPeer::bind();
    s.start(params(&peer));
    // 330 ms: not a whole number of 20 ms frames, so a wrap falls inside a frame.
    let sig = audio::signature(330);
    s.play_looped(Clip::new(sig.clone()));
    assert!(peer.wait_samples(8 * 330 * 3 + 800, Duration::from_secs(10)));
    let heard = peer.heard().samples;
    let start = heard.iter().position(|x| x.unsigned_abs() > 200).unwrap();
    // The first loop starts at the first sound; each later loop follows it at once.
    for lap in 0..3 {
        let at = start + lap * sig.len();
        let c = audio::clip_correlation(&heard[at..], &sig, sig.len());
        assert!(c > 0.95, "lap {lap}: correlation {c}");
    }
    assert!(s.is_playing());
    s.stop_playback();
    assert!(!s.is_playing());
    drop(s);
    eng.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bridged_sessions_hear_each_other() {
    let eng = engine(Duration::from_secs(60));
    let (tx1, _rx1) = mpsc::channel(16);
    let (tx2, _rx2) = mpsc::channel(16);
    let (a, b) = (eng.open(tx1).unwrap(), eng.open(tx2).unwrap());
    let (mut pa, mut pb) = (RtpPeer::bind(), RtpPeer::bind());
    a.start(params(&pa));
    b.start(params(&pb));
    a.bridge(&b);
    let (to_a, to_b) = (a.local_addr(), b.local_addr());
    let (ha, hb) = tokio::join!(
        tokio::task::spawn_blocking(move || {
            pa.send_audio(to_a, &audio::tone(500.0, 1000, 8000.0));
            pa
        }),
        tokio::task::spawn_blocking(move || {
            pb.send_audio(to_b, &audio::tone(1500.0, 1000, 8000.0));
            pb
        })
    );
    let (pa, pb) = (ha.unwrap(), hb.unwrap());
    // Each hears the other's tone, never its own.
    assert!(pb.wait_samples(8000, Duration::from_secs(5)));
    assert!(pa.wait_samples(8000, Duration::from_secs(5)));
    let (heard_a, heard_b) = (pa.heard().samples, pb.heard().samples);
    let b_hears = audio::tone_seconds(&heard_b, 500.0);
    let a_hears = audio::tone_seconds(&heard_a, 1500.0);
    assert!(b_hears > 0.8 && a_hears > 0.8, "{a_hears} {b_hears}");
    assert_eq!(audio::tone_seconds(&heard_a, 500.0), 0.0);
    assert_eq!(audio::tone_seconds(&heard_b, 1500.0), 0.0);
    drop(b);
    drop(a);
    eng.shutdown();
}

/// A phone's RTP and RTCP sockets on an even port and the odd one above it.
fn socket_pair() -> (std::net::UdpSocket, std::net::UdpSocket) {
    for _ in 0..200 {
        let rtp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = rtp.local_addr().unwrap().port();
        if !port.is_multiple_of(2) {
            continue;
        }
        if let Ok(rtcp) = std::net::UdpSocket::bind(("127.0.0.1", port + 1)) {
            return (rtp, rtcp);
        }
    }
    panic!("no free even/odd port pair on 127.0.0.1");
}

fn rtp_packet(seq: u16, level: i16) -> Vec<u8> {
    let mut payload = Vec::new();
    rtp::g711::ulaw_encode_frame(&[level; 160], &mut payload);
    let mut out = Vec::new();
    rtp::RtpHeader {
        payload_type: 0,
        sequence_number: seq,
        timestamp: u32::from(seq) * 160,
        ssrc: 0xABCD,
        ..rtp::RtpHeader::default()
    }
    .write(&payload, 0, &mut out)
    .unwrap();
    out
}

/// The jitter buffer puts reordered packets back in order before they are recorded, and
/// the session runs RTCP on the odd port: a sender report (with a block on the phone's
/// stream) and SDES reach the phone's RTP port + 1, the phone's receiver report is read,
/// and closing the session sends a BYE.
///
/// ```text
/// phone                                  engine
///  |--- RTP seq 1 2 4 3 5 6 8 7 9 10 ---->|  recorded as 1 2 3 4 5 6 7 8 9 10
///  |<-- RTCP SR + SDES (port + 1) --------|  after half the 5 s minimum interval
///  |--- RTCP RR (on the engine's SSRC) -->|
///  |<-- RTCP RR/SR + SDES + BYE ----------|  session closed
/// ```
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordered_audio_is_recorded_in_order_and_rtcp_reports_flow() {
    use rtp::rtcp::{parse_compound, write_compound, ReceiverReport, ReportBlock, RtcpPacket};
    let eng = engine(Duration::from_secs(60));
    let (tx, _rx) = mpsc::channel(16);
    let s = eng.open(tx).unwrap();
    let (phone, phone_rtcp) = socket_pair();
    s.start(StreamParams {
        remote: Some(phone.local_addr().unwrap()),
        codec: Codec::Pcmu,
        payload_type: 0,
        telephone_event: Some(101),
        send: true,
        receive: true,
    });
    s.record(RecordingLimits {
        silence: None,
        ..RecordingLimits::default()
    });
    let to = s.local_addr();
    let order = [1u16, 2, 4, 3, 5, 6, 8, 7, 9, 10];
    let phone = tokio::task::spawn_blocking(move || {
        let start = std::time::Instant::now();
        for (i, seq) in order.iter().enumerate() {
            let due = start + Duration::from_millis(20 * i as u64);
            std::thread::sleep(due.saturating_duration_since(std::time::Instant::now()));
            phone
                .send_to(&rtp_packet(*seq, 800 * *seq as i16), to)
                .unwrap();
        }
        phone
    })
    .await
    .unwrap();

    // RTCP: the first report comes after half the minimum interval (2.5 s).
    phone_rtcp
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 1500];
    let (n, engine_rtcp) = phone_rtcp.recv_from(&mut buf).expect("no RTCP report");
    assert_eq!(engine_rtcp.port(), to.port() + 1);
    let packets = parse_compound(&buf[..n]).unwrap();
    let RtcpPacket::SenderReport(sr) = &packets[0] else {
        panic!("the engine sends, so its report is an SR: {packets:?}");
    };
    assert!(sr.packet_count >= 100, "{sr:?}");
    assert_eq!(sr.reports.len(), 1, "{sr:?}");
    assert_eq!(sr.reports[0].ssrc, 0xABCD);
    assert_eq!(sr.reports[0].cumulative_lost, 0, "reordering is no loss");
    assert_eq!(sr.reports[0].extended_highest_sequence & 0xFFFF, 10);
    assert!(
        matches!(&packets[1], RtcpPacket::SourceDescription(d) if d.chunks[0].ssrc == sr.ssrc),
        "{packets:?}"
    );

    // The recording: ten frames, their levels rising as the sequence numbers do.
    let rec = s.take_recording().unwrap().into_samples();
    let levels: Vec<i32> = rec
        .chunks(160)
        .map(|f| f.iter().map(|x| i32::from(*x)).sum::<i32>() / 160)
        .filter(|l| *l > 100)
        .collect();
    assert_eq!(levels.len(), 10, "{levels:?}");
    assert!(levels.windows(2).all(|w| w[0] < w[1]), "{levels:?}");

    // The phone's receiver report, then the session closes: last report and BYE.
    let mut out = Vec::new();
    write_compound(
        &[RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: 0xABCD,
            reports: vec![ReportBlock {
                ssrc: sr.ssrc,
                fraction_lost: 0,
                cumulative_lost: 0,
                extended_highest_sequence: 100,
                jitter: 8,
                last_sender_report: 0,
                delay_since_last_sender_report: 0,
            }],
            extension: Vec::new(),
        })],
        &mut out,
    )
    .unwrap();
    phone_rtcp.send_to(&out, engine_rtcp).unwrap();
    drop(s);
    let bye = loop {
        let (n, _) = phone_rtcp.recv_from(&mut buf).expect("no RTCP BYE");
        let packets = parse_compound(&buf[..n]).unwrap();
        if packets.iter().any(|p| matches!(p, RtcpPacket::Goodbye(_))) {
            break packets;
        }
    };
    assert!(
        matches!(
            &bye[0],
            RtcpPacket::SenderReport(_) | RtcpPacket::ReceiverReport(_)
        ),
        "{bye:?}"
    );
    drop(phone);
    eng.shutdown();
}

/// Polls `f` every 5 ms for up to 5 s.
fn eventually(f: impl Fn() -> bool) -> bool {
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < until {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

/// Awake, the clock ticks every 5 ms (40 ticks in 200 ms); asleep, it does not tick.
fn assert_asleep(eng: &MediaEngine) {
    let t = eng.stats().ticks;
    std::thread::sleep(Duration::from_millis(200));
    assert!(eng.stats().ticks <= t + 1, "{} -> {}", t, eng.stats().ticks);
}

fn assert_awake(eng: &MediaEngine) {
    let t = eng.stats().ticks;
    assert!(eventually(|| eng.stats().ticks >= t + 8), "{t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clock_sleeps_while_no_session_is_open() {
    let eng = engine(Duration::from_secs(60));
    assert_asleep(&eng);
    // A session wakes it.
    let (tx, _rx) = mpsc::channel(16);
    let s = eng.open(tx).unwrap();
    assert_awake(&eng);
    // Closed, the clock goes back to sleep.
    drop(s);
    assert!(eventually(|| eng.stats().sessions == 0));
    std::thread::sleep(Duration::from_millis(20));
    assert_asleep(&eng);
    // A conference room wakes it too.
    let room = eng.mixer();
    assert_awake(&eng);
    drop(room);
    eng.shutdown();
}
