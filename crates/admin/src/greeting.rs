//! Audio for voicemail: a WAV file of any PCM layout converted to what the media engine
//! plays, 8 kHz mono 16-bit PCM (greetings uploaded with `voicemail greeting`, prompts
//! made by a speech synthesizer).
//!
//! Accepted: WAV PCM with 8, 16, 24 or 32-bit integer or 32-bit float samples, 1 to 8
//! channels (mixed down), any rate from 8 kHz to 192 kHz (low-pass filtered, then
//! resampled), at most [`MAX_AUDIO_SECS`] seconds. Anything else is refused with an error
//! naming the problem. This module owns the conversion only, not where files are stored.

use std::io::Cursor;

use hound::{SampleFormat, WavReader, WavSpec, WavWriter};

use crate::AdminError;

/// The sample rate voicemail audio is stored at (G.711's).
pub const PROMPT_RATE: u32 = 8000;
/// Longest greeting or prompt accepted, in seconds.
pub const MAX_AUDIO_SECS: u32 = 300;
/// Most channels accepted.
const MAX_CHANNELS: u16 = 8;
/// Highest input rate accepted.
const MAX_RATE: u32 = 192_000;

fn unusable(why: impl Into<String>) -> AdminError {
    AdminError::invalid("file", format!("file: {}", why.into()))
}

/// Converts WAV bytes to 8 kHz mono 16-bit PCM WAV bytes, or says why it cannot.
pub fn convert_greeting(wav: &[u8]) -> Result<Vec<u8>, AdminError> {
    let mut reader = WavReader::new(Cursor::new(wav)).map_err(|e| match e {
        hound::Error::FormatError(why) => unusable(format!("not a WAV file ({why})")),
        hound::Error::Unsupported => {
            unusable("unsupported WAV encoding (only PCM and 32-bit float are)")
        }
        e => unusable(format!("unreadable WAV file ({e})")),
    })?;
    let spec = reader.spec();
    if spec.channels == 0 || spec.channels > MAX_CHANNELS {
        return Err(unusable(format!(
            "{} channels (1 to {MAX_CHANNELS} are accepted)",
            spec.channels
        )));
    }
    if !(PROMPT_RATE..=MAX_RATE).contains(&spec.sample_rate) {
        return Err(unusable(format!(
            "sample rate {} Hz ({PROMPT_RATE} to {MAX_RATE} Hz are accepted)",
            spec.sample_rate
        )));
    }
    let frames = reader.duration();
    if frames > MAX_AUDIO_SECS.saturating_mul(spec.sample_rate) {
        return Err(unusable(format!("longer than {MAX_AUDIO_SECS} seconds")));
    }
    if frames == 0 {
        return Err(unusable("no audio (0 samples)"));
    }
    let samples = read_normalised(&mut reader, spec)?;
    let mono = mix_down(&samples, usize::from(spec.channels));
    let resampled = resample(&mono, spec.sample_rate, PROMPT_RATE);
    write_pcm16(&resampled)
}

/// Every sample as f32 in [-1, 1], interleaved.
fn read_normalised(
    reader: &mut WavReader<Cursor<&[u8]>>,
    spec: WavSpec,
) -> Result<Vec<f32>, AdminError> {
    let truncated = |e: hound::Error| unusable(format!("damaged audio data ({e})"));
    match (spec.sample_format, spec.bits_per_sample) {
        (SampleFormat::Float, 32) => reader
            .samples::<f32>()
            .map(|s| s.map(|v| v.clamp(-1.0, 1.0)))
            .collect::<Result<_, _>>()
            .map_err(truncated),
        (SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => {
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(truncated)
        }
        (format, bits) => Err(unusable(format!(
            "{bits}-bit {} samples (8/16/24/32-bit integer or 32-bit float are accepted)",
            match format {
                SampleFormat::Float => "float",
                SampleFormat::Int => "integer",
            }
        ))),
    }
}

fn mix_down(samples: &[f32], channels: usize) -> Vec<f32> {
    samples
        .chunks(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect()
}

/// Resamples with a windowed-sinc low-pass at 0.45 × the lower rate (no aliasing of the
/// source's high frequencies into the telephone band).
fn resample(input: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to {
        return input.to_vec();
    }
    let ratio = f64::from(from) / f64::from(to);
    let cutoff = 0.45 * f64::from(from.min(to)) / f64::from(from); // cycles per input sample
    let half_width = (8.0 / cutoff).ceil() as i64; // taps on each side
    let out_len = (input.len() as f64 / ratio).floor() as usize;
    let mut out = Vec::with_capacity(out_len);
    for n in 0..out_len {
        let centre = n as f64 * ratio;
        let first = (centre.floor() as i64 - half_width).max(0);
        let last = (centre.floor() as i64 + half_width).min(input.len() as i64 - 1);
        let (mut acc, mut norm) = (0.0f64, 0.0f64);
        for i in first..=last {
            let x = i as f64 - centre;
            let sinc = if x.abs() < 1e-9 {
                2.0 * cutoff
            } else {
                (2.0 * std::f64::consts::PI * cutoff * x).sin() / (std::f64::consts::PI * x)
            };
            // Blackman window over the filter's width.
            let w = 0.42
                + 0.5 * (std::f64::consts::PI * x / half_width as f64).cos()
                + 0.08 * (2.0 * std::f64::consts::PI * x / half_width as f64).cos();
            let tap = sinc * w;
            acc += f64::from(input[i as usize]) * tap;
            norm += tap;
        }
        out.push(if norm.abs() > 1e-12 { acc / norm } else { 0.0 } as f32);
    }
    out
}

fn write_pcm16(samples: &[f32]) -> Result<Vec<u8>, AdminError> {
    let spec = WavSpec {
        channels: 1,
        sample_rate: PROMPT_RATE,
        bits_per_sample: 16,
        sample_format: SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    let failed = |e: hound::Error| AdminError::invalid("file", format!("file: writing: {e}"));
    let mut w = WavWriter::new(&mut out, spec).map_err(failed)?;
    for s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16)
            .map_err(failed)?;
    }
    w.finalize().map_err(failed)?;
    Ok(out.into_inner())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn wav(spec: WavSpec, secs: f32, freq: f32) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut w = WavWriter::new(&mut out, spec).unwrap();
        let n = (secs * spec.sample_rate as f32) as usize;
        for i in 0..n {
            let v = (2.0 * std::f32::consts::PI * freq * i as f32 / spec.sample_rate as f32).sin()
                * 0.5;
            for _ in 0..spec.channels {
                match (spec.sample_format, spec.bits_per_sample) {
                    (SampleFormat::Float, _) => w.write_sample(v).unwrap(),
                    (_, 8) => w.write_sample((v * 127.0) as i8).unwrap(),
                    (_, 16) => w.write_sample((v * 32767.0) as i16).unwrap(),
                    (_, 24) => w.write_sample((v * 8_388_607.0) as i32).unwrap(),
                    _ => w.write_sample((v * 2_147_483_647.0) as i32).unwrap(),
                }
            }
        }
        w.finalize().unwrap();
        out.into_inner()
    }

    /// Goertzel power of `freq` in 8 kHz samples, relative to the signal's energy.
    fn tone_share(samples: &[i16], freq: f32) -> f32 {
        let k = 2.0 * (2.0 * std::f32::consts::PI * freq / 8000.0).cos();
        let (mut s1, mut s2) = (0.0f32, 0.0f32);
        let mut energy = 0.0f32;
        for &x in samples {
            let x = f32::from(x) / 32768.0;
            energy += x * x;
            let s = x + k * s1 - s2;
            s2 = s1;
            s1 = s;
        }
        let power = s1 * s1 + s2 * s2 - k * s1 * s2;
        power / (energy * samples.len() as f32 / 2.0)
    }

    #[test]
    fn any_pcm_layout_becomes_8khz_mono_16bit_with_its_tone() {
        for (rate, channels, bits, format) in [
            (44_100, 2, 16, SampleFormat::Int),
            (22_050, 1, 16, SampleFormat::Int),
            (48_000, 1, 24, SampleFormat::Int),
            (16_000, 2, 8, SampleFormat::Int),
            (8_000, 1, 32, SampleFormat::Int),
            (32_000, 1, 32, SampleFormat::Float),
        ] {
            let spec = WavSpec {
                channels,
                sample_rate: rate,
                bits_per_sample: bits,
                sample_format: format,
            };
            let out = convert_greeting(&wav(spec, 1.0, 1000.0)).unwrap();
            let mut r = WavReader::new(Cursor::new(&out[..])).unwrap();
            let s = r.spec();
            assert_eq!(
                (s.sample_rate, s.channels, s.bits_per_sample),
                (8000, 1, 16)
            );
            let samples: Vec<i16> = r.samples::<i16>().map(Result::unwrap).collect();
            assert!(
                (7990..=8000).contains(&samples.len()),
                "{rate}: {}",
                samples.len()
            );
            let share = tone_share(&samples[400..7600], 1000.0);
            assert!(share > 0.9, "{rate} Hz {bits}-bit: 1 kHz share {share}");
        }
    }

    #[test]
    fn a_high_tone_does_not_alias_into_the_telephone_band() {
        let spec = WavSpec {
            channels: 1,
            sample_rate: 44_100,
            bits_per_sample: 16,
            sample_format: SampleFormat::Int,
        };
        // 7 kHz would alias to 1 kHz at 8 kHz without the low-pass filter.
        let out = convert_greeting(&wav(spec, 1.0, 7000.0)).unwrap();
        let samples: Vec<i16> = WavReader::new(Cursor::new(&out[..]))
            .unwrap()
            .samples::<i16>()
            .map(Result::unwrap)
            .collect();
        // The first and last few milliseconds see a truncated filter.
        let inner = &samples[40..samples.len() - 40];
        let peak = inner.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!(peak < 100, "peak {peak}");
    }

    #[test]
    fn unusable_files_are_refused_naming_the_problem() {
        let e = convert_greeting(b"ID3\x03 this is an mp3").unwrap_err();
        assert!(e.to_string().contains("not a WAV file"), "{e}");
        assert_eq!(e.field(), Some("file"));
        let low = WavSpec {
            channels: 1,
            sample_rate: 4000,
            bits_per_sample: 16,
            sample_format: SampleFormat::Int,
        };
        let e = convert_greeting(&wav(low, 0.1, 440.0)).unwrap_err();
        assert!(e.to_string().contains("sample rate 4000 Hz"), "{e}");
        let empty = WavSpec {
            sample_rate: 8000,
            ..low
        };
        let e = convert_greeting(&wav(empty, 0.0, 440.0)).unwrap_err();
        assert!(e.to_string().contains("no audio"), "{e}");
    }
}
