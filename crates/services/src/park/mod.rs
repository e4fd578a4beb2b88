//! Call park by number (for phones that know nothing of `Replaces`): a call to the park
//! service (`sip:park@DOMAIN`, what `*85` and a blind transfer to it reach) is answered,
//! told its orbit ("your call is parked at 7 0 1") and hears the hold music; a call to
//! the orbit (`sip:park@DOMAIN;orbit=701`, what dialling `701` reaches) retrieves it: the
//! host bridges the two calls' media, and when either hangs up the other is hung up.
//!
//! Orbits are per domain, `[park] orbits` (default 701-720), taken lowest first
//! ([`ParkLot`]); all in use: `486`. A call parked for `[park] timeout_secs` rings the
//! parker back: the parker is the `Referred-By` of the parking INVITE (RFC 3892: the
//! phone of a blind transfer to `*85` copies the transferor's identity there); the host
//! INVITEs that URI through the proxy (shown as "Parked call 701"), and when the parker
//! answers within [`RING_BACK`] the two calls are bridged like a retrieval. No parker
//! (the call dialled `*85` itself), no answer or a refusal: the parked call is hung up, with
//! a log line.
//!
//! Not here: the RFC 5359 §2.15 REFER and the dialog-state notifier (the host's
//! `host/refer.rs`, `host/park_state.rs`: they end in [`park`] and [`retrieve`] too);
//! routing `*85` and the orbit numbers (the proxy's media-services
//! stage).

mod lot;

use std::sync::Arc;
use std::time::Duration;

use media::Clip;
use tokio::sync::{oneshot, Notify};

pub(crate) use lot::{Joined, ParkLot};

use crate::call::{Call, CallEvent, Placement};
use crate::host::ServiceContext;

/// How long the parker's phone rings when a parked call times out.
pub(crate) const RING_BACK: Duration = Duration::from_secs(30);

/// Runs a parked call until it is retrieved and over, hangs up, or times out (then rings
/// `parker` back, when known).
pub(crate) async fn park(
    mut call: Call,
    ctx: Arc<ServiceContext>,
    domain: String,
    orbit: u32,
    parker: Option<String>,
) {
    let (lot, playlist, prompts) = (ctx.park.clone(), ctx.playlist.clone(), ctx.prompts.clone());
    let timeout = ctx.config.park_timeout;
    let (tx, mut rx) = oneshot::channel::<Joined>();
    lot.occupy(&domain, orbit, tx, call.dialog.clone(), &call.caller);
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
                let Some(parker) = parker else {
                    tracing::warn!(call = call.id(), caller = %call.caller, %domain, orbit,
                        "parked call not retrieved within [park] timeout_secs: hanging up");
                    call.hangup();
                    return;
                };
                tracing::info!(call = call.id(), caller = %call.caller, %domain, orbit, %parker,
                    "parked call not retrieved within [park] timeout_secs: ringing the parker back");
                if let Some(back) = ring_back(&mut call, &parker, orbit).await {
                    bridge_until_hangup(call, back).await;
                }
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

/// Rings the parker back while the parked call hears its music; the parker's answered
/// call, or `None` (the parked call is then hung up or gone).
async fn ring_back(call: &mut Call, parker: &str, orbit: u32) -> Option<Call> {
    let placing = call.place(Placement {
        uri: parker.to_string(),
        display: format!("Parked call {orbit}"),
        headers: String::new(),
        ring: RING_BACK,
    });
    tokio::pin!(placing);
    loop {
        tokio::select! {
            r = &mut placing => match r {
                Ok(back) => {
                    tracing::info!(call = call.id(), parker, orbit, "the parker answered the ring-back");
                    return Some(back);
                }
                Err(status) => {
                    tracing::warn!(call = call.id(), caller = %call.caller, parker, orbit, status,
                        "the parker did not answer the ring-back: hanging up the parked call");
                    call.hangup();
                    return None;
                }
            },
            e = call.next() => if matches!(e, CallEvent::Hangup | CallEvent::MediaTimeout) {
                // The host hangs up the ring-back if it is answered later (nobody waits).
                tracing::info!(call = call.id(), orbit, "parked call hung up during the ring-back");
                return None;
            },
        }
    }
}

/// Bridges two calls of the host until either hangs up, then hangs up the other.
async fn bridge_until_hangup(mut a: Call, mut b: Call) {
    a.media.stop_playback();
    b.media.stop_playback();
    a.media.bridge(&b.media);
    tokio::select! {
        _ = until_over(&mut a) => {},
        _ = until_over(&mut b) => {},
    }
    a.hangup();
    b.hangup();
}

async fn until_over(c: &mut Call) {
    while !matches!(c.next().await, CallEvent::Hangup | CallEvent::MediaTimeout) {}
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
