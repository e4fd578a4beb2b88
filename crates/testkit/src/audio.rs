//! Audio checks for media tests: how much of a signal is one frequency (Goertzel), how long
//! a tone lasts, and whether received audio holds a known clip (normalised correlation
//! after aligning both on their first sound).

/// The power of `freq` Hz in `samples` (8 kHz), by the Goertzel algorithm.
pub fn goertzel_power(samples: &[i16], freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / 8000.0;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// The share (0 to 1) of a frame's energy that is at `freq` Hz.
pub fn tone_share(frame: &[i16], freq: f64) -> f64 {
    let energy: f64 = frame.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    if energy < 1.0 {
        return 0.0;
    }
    // A pure tone of N samples has Goertzel power N/2 times its energy.
    goertzel_power(frame, freq) / (energy * frame.len() as f64 / 2.0)
}

/// The share (0 to 1) of the energy of `samples` at `freq` Hz, measured in 50 ms blocks and
/// summed: unlike [`tone_share`] over the whole signal, a phase jump (a lost or repeated
/// frame, a jitter buffer refilling) costs only the block it falls in.
pub fn block_tone_share(samples: &[i16], freq: f64) -> f64 {
    let (mut power, mut energy) = (0.0, 0.0);
    for block in samples.chunks_exact(400) {
        let e: f64 = block.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
        power += goertzel_power(block, freq);
        energy += e * block.len() as f64 / 2.0;
    }
    if energy < 1.0 {
        return 0.0;
    }
    power / energy
}

/// Seconds of `samples` (8 kHz) whose 20 ms frames are mostly `freq` Hz and not silent.
pub fn tone_seconds(samples: &[i16], freq: f64) -> f64 {
    let frames = samples
        .chunks_exact(160)
        .filter(|f| {
            let rms = (f.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / 160.0).sqrt();
            rms > 300.0 && tone_share(f, freq) > 0.6
        })
        .count();
    frames as f64 * 0.02
}

fn first_sound(s: &[i16]) -> Option<usize> {
    s.iter().position(|&x| x.unsigned_abs() > 200)
}

/// How well `received` matches `clip` (normalised correlation, 1.0 = identical) over the
/// first `len` samples of `clip`, both aligned on their first sound (within a few samples).
pub fn clip_correlation(received: &[i16], clip: &[i16], len: usize) -> f64 {
    let (Some(r0), Some(c0)) = (first_sound(received), first_sound(clip)) else {
        return 0.0;
    };
    let mut best = 0.0f64;
    for shift in -8i64..=8 {
        let start = r0 as i64 + shift;
        if start < 0 {
            continue;
        }
        let start = start as usize;
        let n = len
            .min(clip.len() - c0)
            .min(received.len().saturating_sub(start));
        if n < 160 {
            continue;
        }
        let a = &received[start..start + n];
        let b = &clip[c0..c0 + n];
        let dot: f64 = a
            .iter()
            .zip(b)
            .map(|(&x, &y)| f64::from(x) * f64::from(y))
            .sum();
        let na: f64 = a.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
        let nb: f64 = b.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
        if na > 0.0 && nb > 0.0 {
            best = best.max(dot / (na * nb));
        }
    }
    best
}

/// A sine tone (8 kHz samples).
pub fn tone(freq: f64, ms: u32, amplitude: f64) -> Vec<i16> {
    let n = (8 * ms) as usize;
    (0..n)
        .map(|i| (amplitude * (2.0 * std::f64::consts::PI * freq * i as f64 / 8000.0).sin()) as i16)
        .collect()
}

/// A clip that sounds like nothing else (a rising chirp with a second harmonic), to play as
/// a greeting and find again in what a phone hears.
pub fn signature(ms: u32) -> Vec<i16> {
    let n = (8 * ms) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let f = 300.0 + 900.0 * t / (f64::from(ms) / 1000.0);
            let p = 2.0 * std::f64::consts::PI * f * t;
            (7000.0 * p.sin() + 3000.0 * (2.3 * p).sin()) as i16
        })
        .collect()
}

/// Writes 8 kHz mono 16-bit PCM WAV.
pub fn write_wav(path: &std::path::Path, samples: &[i16]) {
    let data_len = (samples.len() * 2) as u32;
    let mut b = Vec::with_capacity(44 + samples.len() * 2);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&8000u32.to_le_bytes());
    b.extend_from_slice(&16000u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, b).unwrap();
}

/// A prompt directory for tests: the default greeting is a chirp of `greeting_ms` (found
/// again by correlation; returned), each of `names` a short tone of its own, and the digits
/// `0` to `9` short high tones.
pub fn write_test_prompts(dir: &std::path::Path, names: &[&str], greeting_ms: u32) -> Vec<i16> {
    std::fs::create_dir_all(dir).unwrap();
    let greeting = signature(greeting_ms);
    write_wav(&dir.join("greeting-default.wav"), &greeting);
    for (i, name) in names.iter().enumerate() {
        let t = tone(300.0 + 40.0 * i as f64, 200, 6000.0);
        write_wav(&dir.join(format!("{name}.wav")), &t);
    }
    for d in 0..10 {
        let t = tone(1500.0 + 50.0 * f64::from(d), 60, 6000.0);
        write_wav(&dir.join(format!("{d}.wav")), &t);
    }
    greeting
}

/// Reads the samples of an 8 kHz mono 16-bit PCM WAV (as the server writes them).
pub fn read_wav(path: &std::path::Path) -> Vec<i16> {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[0..4], b"RIFF", "{}", path.display());
    let mut at = 12;
    while at + 8 <= b.len() {
        let len = u32::from_le_bytes([b[at + 4], b[at + 5], b[at + 6], b[at + 7]]) as usize;
        if &b[at..at + 4] == b"fmt " {
            let rate = u32::from_le_bytes([b[at + 12], b[at + 13], b[at + 14], b[at + 15]]);
            assert_eq!(rate, 8000, "{}", path.display());
        }
        if &b[at..at + 4] == b"data" {
            return b[at + 8..(at + 8 + len).min(b.len())]
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect();
        }
        at += 8 + len + len % 2;
    }
    panic!("{}: no data chunk", path.display());
}

/// Writes a pcap file (Ethernet, IPv4, UDP 127.0.0.1:6000 to :6002) of PCMU RTP packets of
/// `samples`, 20 ms apart, for SIPp's `play_pcap_audio` (which re-addresses them to the
/// call's media).
pub fn write_rtp_pcap(path: &std::path::Path, samples: &[i16]) {
    let mut b = Vec::new();
    b.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&4u16.to_le_bytes());
    b.extend_from_slice(&0i32.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&65535u32.to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes()); // Ethernet
    for (i, frame) in samples.chunks(160).enumerate() {
        let mut payload = Vec::with_capacity(160);
        rtp::g711::ulaw_encode_frame(frame, &mut payload);
        let mut rtp_packet = Vec::with_capacity(172);
        rtp::RtpHeader {
            marker: i == 0,
            payload_type: 0,
            sequence_number: i as u16,
            timestamp: (i * 160) as u32,
            ssrc: 0x5151_5151,
            ..rtp::RtpHeader::default()
        }
        .write(&payload, 0, &mut rtp_packet)
        .unwrap();
        let udp_len = 8 + rtp_packet.len();
        let ip_len = 20 + udp_len;
        let mut pkt = Vec::with_capacity(14 + ip_len);
        pkt.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x08, 0x00]);
        let mut ip = vec![
            0x45,
            0,
            (ip_len >> 8) as u8,
            ip_len as u8,
            0,
            0,
            0x40,
            0,
            64,
            17,
            0,
            0,
        ];
        ip.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]);
        let sum = ip
            .chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
            .sum::<u32>();
        let sum = !(((sum & 0xffff) + (sum >> 16)) as u16);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        pkt.extend_from_slice(&ip);
        pkt.extend_from_slice(&6000u16.to_be_bytes());
        pkt.extend_from_slice(&6002u16.to_be_bytes());
        pkt.extend_from_slice(&(udp_len as u16).to_be_bytes());
        pkt.extend_from_slice(&0u16.to_be_bytes());
        pkt.extend_from_slice(&rtp_packet);
        let usecs = i as u64 * 20_000;
        b.extend_from_slice(&((usecs / 1_000_000) as u32).to_le_bytes());
        b.extend_from_slice(&((usecs % 1_000_000) as u32).to_le_bytes());
        b.extend_from_slice(&(pkt.len() as u32).to_le_bytes());
        b.extend_from_slice(&(pkt.len() as u32).to_le_bytes());
        b.extend_from_slice(&pkt);
    }
    std::fs::write(path, b).unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tones_and_clips() {
        let t = tone(1000.0, 3000, 8000.0);
        assert!((tone_seconds(&t, 1000.0) - 3.0).abs() < 0.05);
        assert_eq!(tone_seconds(&t, 400.0), 0.0);
        let sig = signature(1000);
        let mut heard = vec![0i16; 333];
        heard.extend_from_slice(&sig);
        assert!(clip_correlation(&heard, &sig, 4000) > 0.99);
        assert!(clip_correlation(&t, &sig, 4000) < 0.5);
    }
}
