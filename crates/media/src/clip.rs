//! [`Clip`]: audio to play, 8 kHz mono 16-bit samples shared between sessions (a prompt
//! loaded once plays in many calls), and the sounds made in code (tones, the beep,
//! silence).

use std::f64::consts::PI;
use std::sync::Arc;

/// Samples at 8 kHz; cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Clip(pub Arc<[i16]>);

impl Clip {
    /// Samples per second.
    pub const RATE: u32 = 8000;

    /// A clip of these samples.
    pub fn new(samples: Vec<i16>) -> Clip {
        Clip(samples.into())
    }

    /// A sine tone of `hz` for `ms` milliseconds at `amplitude` (of 32767).
    pub fn tone(hz: f64, ms: u32, amplitude: i16) -> Clip {
        let n = (Self::RATE * ms / 1000) as usize;
        let step = 2.0 * PI * hz / f64::from(Self::RATE);
        Clip::new(
            (0..n)
                .map(|i| (f64::from(amplitude) * (step * i as f64).sin()) as i16)
                .collect(),
        )
    }

    /// The beep before a voicemail recording: 400 ms at 800 Hz (a frequency callers'
    /// messages rarely hold for long, and not the 1 kHz of test tones).
    pub fn beep() -> Clip {
        Clip::tone(800.0, 400, 12_000)
    }

    /// Silence of `ms` milliseconds.
    pub fn silence(ms: u32) -> Clip {
        Clip::new(vec![0; (Self::RATE * ms / 1000) as usize])
    }

    /// Several clips one after the other.
    pub fn concat(parts: &[Clip]) -> Clip {
        Clip::new(parts.iter().flat_map(|c| c.0.iter().copied()).collect())
    }

    /// Samples.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Length in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.0.len() as u64 * 1000 / u64::from(Self::RATE)
    }
}
