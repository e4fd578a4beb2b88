//! Announcements (`sip:announce-NAME@DOMAIN`): `NAME.wav` from the announcements directory
//! played once, then BYE. `announce-screened` is what screening's `403` points to in
//! `Error-Info` ("the person you are calling does not accept your calls", shipped in
//! `prompts/en/screened.txt`).
//!
//! The host answers `404` before any media when the file does not exist, so a phone that
//! follows an `Error-Info` URI to nothing gets a plain failure, not silence.
//!
//! Early media (`;early=STATUS` in the Request-URI, set by the proxy for the statuses of
//! `[announcements] early_media`): the host answers `183 Session Progress` with its SDP
//! instead of `200`, the clip plays, and the call ends with the final `STATUS`; a missing
//! file gives `STATUS` at once.
//!
//! Not here: which calls reach it (the proxy's media-services stage and request route).

use crate::call::{Call, Played};
use crate::prompts::Prompts;

/// Runs an announcement call: the clip, then BYE (the caller may hang up first); in
/// early media (`early`), the clip, then that final status.
pub(crate) async fn run(mut call: Call, name: String, early: Option<u16>, announcements: &Prompts) {
    let clip = announcements.get(&name);
    tracing::debug!(call = call.id(), caller = %call.caller, announcement = %name, ms = clip.duration_ms(), "announcement");
    if call.play(clip, false).await == Played::Done {
        match early {
            Some(status) => call.fail(status),
            None => call.hangup(),
        }
    }
}
