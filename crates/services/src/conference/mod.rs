//! The conference bridge (RFC 5359 §2.10, §2.11): rooms at `sip:conference@DOMAIN;room=ROOM`
//! (the proxy maps `conf-ROOM` and the `[conference] numbers` to it), an optional PIN per
//! room asked by prompt and DTMF, a bounded number of participants (the 11th caller gets
//! 486), and the engine's mixer: each participant hears the others' sum, never itself,
//! with a rising tone when someone enters and a falling one when someone leaves. A
//! participant's dialog with the bridge can be named in an RFC 3911 `Join` header: the
//! INVITE carrying it enters the same room.
//!
//! The room table is [`ConferenceRooms`]; the SIP side (admission, `Join`) is the host's.
//! Not here: mixing (the `media` crate's [`media::Mixer`]), routing names and numbers to
//! the bridge (the proxy).

mod rooms;

use std::sync::Arc;

use media::Clip;

pub use rooms::{ConferenceRooms, DialogId, ParticipantInfo, RoomInfo, SeatError};

use crate::call::{Call, CallEvent, Played};
use crate::host::ServiceContext;

/// The user part of the bridge's Request-URIs.
pub const SERVICE_USER: &str = "conference";

/// Wrong PINs before the bridge says goodbye.
const PIN_ATTEMPTS: u32 = 3;

/// Played to the room when someone enters: two rising notes.
pub fn join_tone() -> Clip {
    Clip::concat(&[Clip::tone(660.0, 120, 6000), Clip::tone(880.0, 120, 6000)])
}

/// Played to the room when someone leaves: two falling notes.
pub fn leave_tone() -> Clip {
    Clip::concat(&[Clip::tone(880.0, 120, 6000), Clip::tone(660.0, 120, 6000)])
}

/// The dialog an RFC 3911 `Join` header names: `call-id;to-tag=X;from-tag=Y`. `to-tag` is
/// the tag of the UA receiving the INVITE (here the bridge), `from-tag` the other end's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinTarget {
    /// Call-ID.
    pub call_id: String,
    /// The recipient's (bridge's) tag.
    pub to_tag: String,
    /// The participant's tag.
    pub from_tag: String,
}

impl JoinTarget {
    /// Reads a `Join` header value; `None` when the call-id or either tag is missing.
    pub fn parse(value: &str) -> Option<JoinTarget> {
        let mut parts = value.split(';');
        let call_id = parts.next()?.trim();
        if call_id.is_empty() {
            return None;
        }
        let (mut to_tag, mut from_tag) = (None, None);
        for p in parts {
            let (k, v) = p.split_once('=')?;
            match k.trim().to_ascii_lowercase().as_str() {
                "to-tag" => to_tag = Some(v.trim().to_string()),
                "from-tag" => from_tag = Some(v.trim().to_string()),
                _ => {}
            }
        }
        Some(JoinTarget {
            call_id: call_id.to_string(),
            to_tag: to_tag.filter(|t| !t.is_empty())?,
            from_tag: from_tag.filter(|t| !t.is_empty())?,
        })
    }
}

/// Runs one participant from the accepted INVITE to its hang-up: the PIN when the room
/// has one, then the room until the call ends. The seat was reserved by the host.
pub(crate) async fn run(
    mut call: Call,
    room: String,
    pin: Option<String>,
    ctx: Arc<ServiceContext>,
) {
    let rooms = ctx.conference.clone();
    if let Some(pin) = pin {
        if !ask_pin(&mut call, &pin, &ctx).await {
            rooms.leave(&room, call.id(), &call.media);
            call.hangup();
            return;
        }
    }
    let present = rooms.enter(&room, call.id(), &call.media);
    tracing::info!(room = %room, caller = %call.caller, call = call.id(), participants = present,
        "conference participant joined");
    rooms.play_to_all(&room, &join_tone());
    let why = loop {
        match call.next().await {
            CallEvent::Hangup => break "hang-up",
            CallEvent::MediaTimeout => break "dead media",
            CallEvent::Digit(_)
            | CallEvent::PlayDone(_)
            | CallEvent::Silence
            | CallEvent::RecordingFull => {}
        }
    };
    let left = rooms.leave(&room, call.id(), &call.media);
    rooms.play_to_all(&room, &leave_tone());
    tracing::info!(room = %room, caller = %call.caller, call = call.id(), participants = left,
        reason = why, "conference participant left");
    call.hangup();
}

/// Asks the room's PIN (`#` ends it) up to [`PIN_ATTEMPTS`] times; false when the caller
/// hung up or never got it right (a log line each way).
async fn ask_pin(call: &mut Call, pin: &str, ctx: &ServiceContext) -> bool {
    for attempt in 1..=PIN_ATTEMPTS {
        let first = match call.play(ctx.prompts.get("conference-pin"), true).await {
            Played::Ended => return false,
            Played::Digit(d) => Some(d),
            Played::Done => None,
        };
        let Some(entered) = call
            .collect(first, 16, '#', ctx.config.voicemail.digit_timeout)
            .await
        else {
            return false;
        };
        if constant_time_eq(entered.as_bytes(), pin.as_bytes()) {
            return true;
        }
        tracing::warn!(caller = %call.caller, call = call.id(), attempt, "conference: wrong PIN");
        if call.play(ctx.prompts.get("wrong-pin"), false).await == Played::Ended {
            return false;
        }
    }
    call.play(ctx.prompts.get("goodbye"), false).await;
    false
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_header_names_a_dialog() {
        let j = JoinTarget::parse("abc@host;to-tag=bridge1; from-tag=phone2").unwrap();
        assert_eq!(j.call_id, "abc@host");
        assert_eq!(j.to_tag, "bridge1");
        assert_eq!(j.from_tag, "phone2");
        assert_eq!(JoinTarget::parse("abc@host;to-tag=x"), None);
        assert_eq!(JoinTarget::parse(";to-tag=x;from-tag=y"), None);
        assert_eq!(JoinTarget::parse("abc;to-tag=;from-tag=y"), None);
    }

    #[test]
    fn pins_compare_whole() {
        assert!(constant_time_eq(b"1234", b"1234"));
        assert!(!constant_time_eq(b"123", b"1234"));
        assert!(!constant_time_eq(b"1235", b"1234"));
    }
}
