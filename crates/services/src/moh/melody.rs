//! The shipped hold music: a short original melody over a soft bass, synthesized at 8 kHz
//! when the host starts (no file to ship, no licence to track). Bell-like notes: a sine
//! with a little second harmonic, a quick attack and an exponential decay, so it stays
//! pleasant through G.711.

use media::Clip;

/// Beats per minute.
const TEMPO: u32 = 96;
/// Peak amplitude of one voice (two voices at most at once: no clipping).
const LEVEL: f64 = 5500.0;

/// The melody: (MIDI note, beats). 0 is a rest. An original tune in C major, 16 bars.
#[rustfmt::skip]
const TUNE: &[(u8, u32)] = &[
    (72, 1), (76, 1), (79, 1), (76, 1), (74, 2), (71, 2),
    (72, 1), (74, 1), (76, 2), (67, 2), (0, 2),
    (69, 1), (72, 1), (77, 1), (76, 1), (74, 2), (72, 2),
    (71, 1), (72, 1), (74, 2), (79, 2), (0, 2),
    (72, 1), (76, 1), (79, 1), (81, 1), (79, 2), (77, 2),
    (76, 1), (74, 1), (72, 2), (69, 2), (0, 2),
    (77, 1), (76, 1), (74, 1), (72, 1), (71, 2), (74, 2),
    (72, 4), (0, 4),
];

/// The bass: one note per bar of 4 beats (C, A minor, F, G, ...).
const BASS: &[u8] = &[
    48, 45, 41, 43, 48, 45, 41, 43, 48, 45, 41, 43, 41, 43, 48, 48,
];

fn frequency(note: u8) -> f64 {
    440.0 * 2f64.powf((f64::from(note) - 69.0) / 12.0)
}

/// Adds a bell-like note into `out` from sample `start` for `len` samples.
fn add_note(out: &mut [f64], start: usize, len: usize, note: u8, level: f64) {
    let rate = f64::from(Clip::RATE);
    let f = frequency(note);
    for i in 0..len {
        let Some(slot) = out.get_mut(start + i) else {
            return;
        };
        let t = i as f64 / rate;
        let attack = (t / 0.01).min(1.0);
        let decay = (-3.0 * t).exp();
        // A short fade at the note's end so notes never click.
        let release = ((len - i) as f64 / (0.02 * rate)).min(1.0);
        let phase = 2.0 * std::f64::consts::PI * f * t;
        *slot += level * attack * decay * release * (phase.sin() + 0.25 * (2.0 * phase).sin());
    }
}

/// The default hold music (about 20 s; it loops).
pub fn default_music() -> Clip {
    let beat = (Clip::RATE * 60 / TEMPO) as usize;
    let beats: u32 = TUNE.iter().map(|(_, b)| b).sum();
    let mut out = vec![0f64; beat * beats as usize];
    let mut at = 0;
    for &(note, b) in TUNE {
        let len = beat * b as usize;
        if note != 0 {
            add_note(&mut out, at, len, note, LEVEL);
        }
        at += len;
    }
    for (bar, &note) in BASS.iter().enumerate() {
        add_note(&mut out, bar * 4 * beat, 4 * beat, note, LEVEL * 0.6);
    }
    Clip::new(
        out.into_iter()
            .map(|x| x.clamp(-32767.0, 32767.0) as i16)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_music_is_audible_and_never_clips() {
        let m = default_music();
        assert!(m.duration_ms() > 15_000, "{} ms", m.duration_ms());
        let peak = m.0.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        assert!((4000..32767).contains(&peak), "peak {peak}");
    }
}
