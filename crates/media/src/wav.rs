//! WAV files: reading prompts and greetings (8 kHz mono, 16-bit PCM by `hound`, or G.711
//! mu-law/A-law, format tags 7 and 6, which `hound` does not read, by the small RIFF
//! reader here) and writing recordings (8 kHz mono 16-bit PCM by `hound`). Anything else
//! is refused with a reason that names what is wrong (a CLI can show it as is).

use std::path::Path;

use crate::clip::Clip;
use crate::error::MediaError;

/// The longest file we load: 10 minutes of 8 kHz 16-bit audio.
pub const MAX_SAMPLES: usize = 8000 * 600;

fn bad(path: &Path, reason: impl Into<String>) -> MediaError {
    MediaError::BadWav {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Loads a WAV file to play.
pub fn load(path: &Path) -> Result<Clip, MediaError> {
    let bytes = std::fs::read(path).map_err(|e| MediaError::Io {
        what: format!("reading {}", path.display()),
        source: e,
    })?;
    decode(path, &bytes)
}

/// Decodes WAV bytes (`path` only names the file in errors).
pub fn decode(path: &Path, bytes: &[u8]) -> Result<Clip, MediaError> {
    if let Some(clip) = decode_g711(path, bytes)? {
        return Ok(clip);
    }
    let reader = hound::WavReader::new(bytes).map_err(|e| bad(path, e.to_string()))?;
    let spec = reader.spec();
    if spec.channels != 1 {
        return Err(bad(
            path,
            format!("{} channels, expected mono", spec.channels),
        ));
    }
    if spec.sample_rate != Clip::RATE {
        return Err(bad(
            path,
            format!("{} Hz, expected 8000 Hz", spec.sample_rate),
        ));
    }
    if spec.bits_per_sample != 16 || spec.sample_format != hound::SampleFormat::Int {
        return Err(bad(
            path,
            format!(
                "{}-bit {:?} samples, expected 16-bit PCM",
                spec.bits_per_sample, spec.sample_format
            ),
        ));
    }
    if reader.len() as usize > MAX_SAMPLES {
        return Err(bad(path, "longer than 10 minutes"));
    }
    let samples: Result<Vec<i16>, _> = reader.into_samples::<i16>().collect();
    samples.map(Clip::new).map_err(|e| bad(path, e.to_string()))
}

/// A G.711 WAV (format tag 6 A-law, 7 mu-law), or `None` when the format is another.
fn decode_g711(path: &Path, b: &[u8]) -> Result<Option<Clip>, MediaError> {
    if b.len() < 12 || &b[0..4] != b"RIFF" || &b[8..12] != b"WAVE" {
        return Err(bad(path, "not a RIFF/WAVE file"));
    }
    let mut at = 12;
    let mut format = None;
    while at + 8 <= b.len() {
        let id = &b[at..at + 4];
        let len = u32::from_le_bytes([b[at + 4], b[at + 5], b[at + 6], b[at + 7]]) as usize;
        let body = at + 8;
        let end = body.saturating_add(len).min(b.len());
        if id == b"fmt " {
            if end - body < 16 {
                return Err(bad(path, "fmt chunk too short"));
            }
            let f = &b[body..end];
            let tag = u16::from_le_bytes([f[0], f[1]]);
            let channels = u16::from_le_bytes([f[2], f[3]]);
            let rate = u32::from_le_bytes([f[4], f[5], f[6], f[7]]);
            if tag != 6 && tag != 7 {
                return Ok(None);
            }
            if channels != 1 || rate != Clip::RATE {
                return Err(bad(
                    path,
                    format!("G.711 with {channels} channels at {rate} Hz, expected mono 8000 Hz"),
                ));
            }
            format = Some(tag);
        } else if id == b"data" {
            let Some(tag) = format else {
                return Ok(None);
            };
            let data = &b[body..end];
            if data.len() > MAX_SAMPLES {
                return Err(bad(path, "longer than 10 minutes"));
            }
            let mut out = Vec::with_capacity(data.len());
            if tag == 7 {
                rtp::g711::ulaw_decode_frame(data, &mut out);
            } else {
                rtp::g711::alaw_decode_frame(data, &mut out);
            }
            return Ok(Some(Clip::new(out)));
        }
        at = body.saturating_add(len + len % 2);
    }
    Ok(None)
}

/// Writes 8 kHz mono 16-bit PCM.
pub fn save(path: &Path, samples: &[i16]) -> Result<(), MediaError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: Clip::RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let io = |e: hound::Error| MediaError::Io {
        what: format!("writing {}", path.display()),
        source: match e {
            hound::Error::IoError(e) => e,
            other => std::io::Error::other(other.to_string()),
        },
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(io)?;
    for s in samples {
        w.write_sample(*s).map_err(io)?;
    }
    w.finalize().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm_round_trip_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.wav");
        let tone = Clip::tone(1000.0, 100, 8000);
        save(&p, &tone.0).unwrap();
        assert_eq!(load(&p).unwrap(), tone);

        let stereo = dir.path().join("s.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&stereo, spec).unwrap();
        w.write_sample(0i16).unwrap();
        w.write_sample(0i16).unwrap();
        w.finalize().unwrap();
        assert!(load(&stereo)
            .unwrap_err()
            .to_string()
            .contains("2 channels"));
        let junk = dir.path().join("j.wav");
        std::fs::write(&junk, b"hello").unwrap();
        assert!(load(&junk).unwrap_err().to_string().contains("RIFF"));
    }

    #[test]
    fn g711_wav() {
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF\0\0\0\0WAVEfmt ");
        b.extend_from_slice(&18u32.to_le_bytes());
        b.extend_from_slice(&7u16.to_le_bytes()); // mu-law
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&8000u32.to_le_bytes());
        b.extend_from_slice(&8000u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&8u16.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&[rtp::g711::ulaw_encode(1000), rtp::g711::ulaw_encode(-1000)]);
        let c = decode(Path::new("x.wav"), &b).unwrap();
        assert_eq!(c.len(), 2);
        assert!((c.0[0] - 1000).abs() < 40 && (c.0[1] + 1000).abs() < 40);
    }
}
