//! Announcements (`sip:announce-NAME@DOMAIN`): `NAME.wav` from the announcements directory
//! played once, then BYE. `announce-screened` is what screening's `403` points to in
//! `Error-Info` ("the person you are calling does not accept your calls", shipped in
//! `prompts/en/screened.txt`).
//!
//! The host answers `404` before any media when the file does not exist, so a phone that
//! follows an `Error-Info` URI to nothing gets a plain failure, not silence.
//!
//! Not here: which calls reach it (the proxy's media-services stage).

use crate::call::{Call, Played};
use crate::prompts::Prompts;

/// Runs an announcement call: the clip, then BYE (the caller may hang up first).
pub(crate) async fn run(mut call: Call, name: String, announcements: &Prompts) {
    let clip = announcements.get(&name);
    tracing::debug!(call = call.id(), caller = %call.caller, announcement = %name, ms = clip.duration_ms(), "announcement");
    if call.play(clip, false).await == Played::Done {
        call.hangup();
    }
}
