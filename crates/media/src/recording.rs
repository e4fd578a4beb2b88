//! [`Recording`]: received audio kept in memory for one message or greeting, bounded by a
//! length limit, with the silence detector that ends a message when the caller stops
//! talking.

use std::time::Duration;

use crate::clip::Clip;

/// Samples reserved for a recording when it starts, at most (10 minutes, 9.6 MB of address
/// space; the default message limit, 3 minutes, is reserved whole).
const RESERVE: usize = 10 * 60 * 8000;

/// When a recording stops by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordingLimits {
    /// The longest recording (`[voicemail] max_message_secs`).
    pub max: Duration,
    /// This long below the silence level ends it (`None`: never).
    pub silence: Option<Duration>,
    /// RMS level (of 32767) under which a 20 ms frame counts as silence.
    pub silence_level: u16,
}

impl Default for RecordingLimits {
    fn default() -> Self {
        RecordingLimits {
            max: Duration::from_secs(180),
            silence: Some(Duration::from_secs(10)),
            silence_level: 300,
        }
    }
}

/// What [`Recording::push`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordingState {
    Recording,
    Full,
    Silent,
}

/// Audio being recorded.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    samples: Vec<i16>,
    max_samples: usize,
    silence_samples: Option<usize>,
    silence_level: u16,
    silent_run: usize,
}

impl Recording {
    /// An empty recording with these limits.
    pub fn new(limits: RecordingLimits) -> Recording {
        let rate = u128::from(Clip::RATE);
        let max_samples = (limits.max.as_millis() * rate / 1000) as usize;
        Recording {
            // The whole length (up to RESERVE) is reserved at once: address space only,
            // pages are touched as audio arrives. Growing by doubling instead made the
            // clock copy each recording at 2^k samples, and recordings started together
            // (a bench, a burst of calls) doubled in the same tick: 125 copies of up to
            // half a megabyte in one 5 ms phase, the 20-34 ms "ticks" of the 500-stream
            // bench (decision 0028).
            samples: Vec::with_capacity(max_samples.min(RESERVE)),
            max_samples,
            silence_samples: limits
                .silence
                .map(|s| (s.as_millis() * rate / 1000) as usize),
            silence_level: limits.silence_level,
            silent_run: 0,
        }
    }

    /// Appends decoded samples (one packet's worth).
    pub(crate) fn push(&mut self, frame: &[i16]) -> RecordingState {
        let room = self.max_samples.saturating_sub(self.samples.len());
        self.samples
            .extend_from_slice(&frame[..frame.len().min(room)]);
        if self.samples.len() >= self.max_samples {
            return RecordingState::Full;
        }
        if !frame.is_empty() {
            let energy: f64 = frame.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
            let rms = (energy / frame.len() as f64).sqrt();
            if rms < f64::from(self.silence_level) {
                self.silent_run += frame.len();
            } else {
                self.silent_run = 0;
            }
        }
        match self.silence_samples {
            Some(limit) if self.silent_run >= limit => RecordingState::Silent,
            _ => RecordingState::Recording,
        }
    }

    /// The samples so far.
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// The samples, without the trailing silence the detector counted.
    pub fn into_samples(mut self) -> Vec<i16> {
        let keep = self.samples.len().saturating_sub(self.silent_run);
        if self.silence_samples.is_some_and(|l| self.silent_run >= l) {
            self.samples.truncate(keep);
        }
        self.samples
    }

    /// Length.
    pub fn duration(&self) -> Duration {
        Duration::from_millis(self.samples.len() as u64 * 1000 / u64::from(Clip::RATE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_and_silent() {
        let mut r = Recording::new(RecordingLimits {
            max: Duration::from_millis(100),
            silence: None,
            silence_level: 300,
        });
        let loud = Clip::tone(1000.0, 20, 10_000);
        for _ in 0..4 {
            assert_eq!(r.push(&loud.0), RecordingState::Recording);
        }
        assert_eq!(r.push(&loud.0), RecordingState::Full);
        assert_eq!(r.samples().len(), 800);

        let mut r = Recording::new(RecordingLimits {
            max: Duration::from_secs(10),
            silence: Some(Duration::from_millis(60)),
            silence_level: 300,
        });
        r.push(&loud.0);
        let quiet = Clip::silence(20);
        assert_eq!(r.push(&quiet.0), RecordingState::Recording);
        assert_eq!(r.push(&quiet.0), RecordingState::Recording);
        assert_eq!(r.push(&quiet.0), RecordingState::Silent);
        assert_eq!(r.into_samples().len(), 160, "trailing silence cut");
    }
}
