//! Music on hold (`sip:moh@DOMAIN`): the playlist and the service that loops it.
//!
//! The playlist (`[moh] files`, WAV files played in order) is decoded **once**, when the
//! host starts, into one clip; every listener loops that same clip (its samples are
//! shared, not copied), so a thousand held callers cost one decode and one copy of the
//! audio in memory. Each listener starts at the top of the playlist. With no files
//! configured the shipped default plays: a melody synthesized in code
//! ([`melody::default_music`]; the score is in the source, so it is free of any right).
//!
//! Not here: which calls reach the service (the proxy's media-services stage), the SDP
//! answer (the host), hold signalling (phones: RFC 5359 §2.1-2.3).

pub mod melody;

use std::path::PathBuf;
use std::sync::Arc;

use media::{wav, Clip};

use crate::call::{Call, CallEvent};

/// The decoded playlist every music-on-hold call shares.
#[derive(Debug, Clone)]
pub struct Playlist {
    music: Clip,
    files: usize,
}

impl Playlist {
    /// Decodes `files` in order into one clip (any PCM or G.711 WAV the media engine
    /// reads); with no files, the shipped default melody. The error names the file.
    pub fn load(files: &[PathBuf]) -> Result<Playlist, String> {
        if files.is_empty() {
            return Ok(Playlist {
                music: melody::default_music(),
                files: 0,
            });
        }
        let mut parts = Vec::with_capacity(files.len());
        for f in files {
            let clip = wav::load(f).map_err(|e| format!("moh.files: {}: {e}", f.display()))?;
            if clip.is_empty() {
                return Err(format!("moh.files: {}: holds no audio", f.display()));
            }
            parts.push(clip);
        }
        Ok(Playlist {
            music: Clip::concat(&parts),
            files: files.len(),
        })
    }

    /// The whole playlist as one clip (shared samples: cloning copies a pointer).
    pub fn music(&self) -> Clip {
        self.music.clone()
    }

    /// How many files it was made of (0: the shipped default).
    pub fn files(&self) -> usize {
        self.files
    }
}

/// Runs a music-on-hold call: the playlist, looped, until the caller hangs up (or sends
/// no RTP for `rtp_timeout_secs` while it should: a held phone that sends `recvonly`
/// is not expected to, and is never timed out).
pub(crate) async fn run(mut call: Call, playlist: Arc<Playlist>) {
    tracing::debug!(call = call.id(), caller = %call.caller, "music on hold");
    call.media.play_looped(playlist.music());
    loop {
        match call.next().await {
            CallEvent::Hangup | CallEvent::MediaTimeout => break,
            CallEvent::Digit(_)
            | CallEvent::PlayDone(_)
            | CallEvent::Silence
            | CallEvent::RecordingFull => {}
        }
    }
    call.hangup();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_share_one_decode() {
        let p = Playlist::load(&[]).unwrap();
        assert_eq!(p.files(), 0);
        let (a, b) = (p.music(), p.music());
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert!(a.duration_ms() >= 5000);
    }

    #[test]
    fn a_bad_file_is_named() {
        let e = Playlist::load(&[PathBuf::from("/nonexistent/hold.wav")]).unwrap_err();
        assert!(
            e.contains("moh.files") && e.contains("/nonexistent/hold.wav"),
            "{e}"
        );
    }
}
