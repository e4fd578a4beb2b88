//! Call park by number (for phones that know nothing of `Replaces`): a call to the park
//! service (`sip:park@DOMAIN`, what `*85` and a blind transfer to it reach) is answered,
//! told its orbit ("your call is parked at 7 0 1") and hears the hold music; a call to
//! the orbit (`sip:park@DOMAIN;orbit=701`, what dialling `701` reaches) retrieves it: the
//! host bridges the two calls' media, and when either hangs up the other is hung up.
//!
//! Orbits are per domain, `[park] orbits` (default 701-720), taken lowest first
//! ([`ParkLot`]); all in use: `486`. A call parked for `[park] timeout_secs` is hung up
//! with a log line (ringing the parker back needs the host to place calls: not yet).
//!
//! Not here: the RFC 5359 §2.15 ladder with REFER and `Replaces`, and the dialog-state
//! notifier (not yet); routing `*85` and the orbit numbers (the proxy's media-services
//! stage).

mod lot;

use std::sync::Arc;
use std::time::Duration;

use media::Clip;
use tokio::sync::{oneshot, Notify};

pub(crate) use lot::{Joined, ParkLot};

use crate::call::{Call, CallEvent};
use crate::moh::Playlist;
use crate::prompts::Prompts;

/// Runs a parked call until it is retrieved and over, hangs up, or times out.
pub(crate) async fn park(
    mut call: Call,
    lot: Arc<ParkLot>,
    domain: String,
    orbit: u32,
    playlist: Arc<Playlist>,
    prompts: Arc<Prompts>,
    timeout: Duration,
) {
    let (tx, mut rx) = oneshot::channel::<Joined>();
    lot.occupy(&domain, orbit, tx);
    tracing::info!(call = call.id(), caller = %call.caller, %domain, orbit, "call parked");
    call.media.play(Clip::concat(&[
        prompts.get("parked-at"),
        prompts.digits(&orbit.to_string()),
        Clip::silence(300),
    ]));
    call.media.play_looped(playlist.music());
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let joined = loop {
        tokio::select! {
            e = call.next() => match e {
                CallEvent::Hangup | CallEvent::MediaTimeout => {
                    lot.release(&domain, orbit);
                    tracing::info!(call = call.id(), %domain, orbit, "parked call hung up");
                    return;
                }
                _ => {}
            },
            j = &mut rx => match j {
                Ok(j) => break j,
                Err(_) => {
                    call.hangup();
                    return;
                }
            },
            _ = &mut deadline => {
                lot.release(&domain, orbit);
                tracing::warn!(call = call.id(), caller = %call.caller, %domain, orbit,
                    "parked call not retrieved within [park] timeout_secs: hanging up");
                call.hangup();
                return;
            }
        }
    };
    tracing::info!(call = call.id(), %domain, orbit, "parked call retrieved");
    call.media.stop_playback();
    call.media.bridge(&joined.media);
    loop {
        tokio::select! {
            e = call.next() => if matches!(e, CallEvent::Hangup | CallEvent::MediaTimeout) {
                joined.retriever_over.notify_one();
                break;
            },
            _ = joined.parked_over.notified() => break,
        }
    }
    call.hangup();
}

/// Runs a retrieving call: joins the call parked in `orbit`, until either hangs up.
pub(crate) async fn retrieve(mut call: Call, lot: Arc<ParkLot>, domain: String, orbit: u32) {
    let Some(parked) = lot.take(&domain, orbit) else {
        tracing::info!(call = call.id(), %domain, orbit, "orbit empty: hanging up");
        call.hangup();
        return;
    };
    let (retriever_over, parked_over) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let joined = Joined {
        media: call.media.clone(),
        retriever_over: retriever_over.clone(),
        parked_over: parked_over.clone(),
    };
    if parked.send(joined).is_err() {
        call.hangup();
        return;
    }
    loop {
        tokio::select! {
            e = call.next() => if matches!(e, CallEvent::Hangup | CallEvent::MediaTimeout) {
                parked_over.notify_one();
                break;
            },
            _ = retriever_over.notified() => break,
        }
    }
    call.hangup();
}
