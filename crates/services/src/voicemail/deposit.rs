//! Leaving a message: the greeting (the user's own, else the default prompt after the
//! mailbox number), a beep, then the caller is recorded until they hang up, press `#`,
//! stay silent for `silence_secs`, or reach `max_message_secs`. The WAV goes under the
//! mailbox's directory, its row through [`crate::Mailboxes::add_message`], and the mailbox
//! is announced as changed.

use std::sync::Arc;
use std::time::SystemTime;

use media::{Clip, RecordingLimits};

use super::{load_wav, mailbox_dir, save_wav, unix_now, MailboxChanged};
use crate::call::{Call, CallEvent, Played};
use crate::host::ServiceContext;
use crate::mailbox::{MailboxError, MailboxId, NewMessage};

/// Messages shorter than this are not kept (a caller who hung up at the beep).
const MIN_MESSAGE_SAMPLES: usize = 4000;

pub(crate) async fn deposit(mut call: Call, mailbox: MailboxId, ctx: Arc<ServiceContext>) {
    let settings = match ctx.mailboxes.settings(&mailbox).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            tracing::warn!(%mailbox, caller = %call.caller, "voicemail deposit: no such mailbox");
            call.play(ctx.prompts.get("goodbye"), false).await;
            call.hangup();
            return;
        }
        Err(e) => {
            tracing::warn!(%mailbox, error = %e, "voicemail deposit: mailbox store failed");
            call.hangup();
            return;
        }
    };
    let count = ctx
        .mailboxes
        .messages(&mailbox)
        .await
        .map_or(0, |m| m.len());
    if count >= settings.max_messages {
        tracing::warn!(%mailbox, caller = %call.caller, count, "voicemail deposit: mailbox full");
        call.play(ctx.prompts.get("mailbox-full"), false).await;
        call.play(ctx.prompts.get("goodbye"), false).await;
        call.hangup();
        return;
    }
    let greeting = match &settings.greeting {
        Some(path) => match load_wav(path.clone()).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(%mailbox, error = %e, "voicemail greeting unusable; default played");
                default_greeting(&ctx, &mailbox)
            }
        },
        None => default_greeting(&ctx, &mailbox),
    };
    // `#` during the greeting skips to the beep.
    if call.play(greeting, true).await == Played::Ended {
        tracing::info!(%mailbox, caller = %call.caller, "voicemail deposit: caller left during the greeting");
        return;
    }
    if call.play(Clip::beep(), false).await == Played::Ended {
        return;
    }
    call.record(RecordingLimits {
        max: ctx.config.voicemail.max_message,
        silence: Some(ctx.config.voicemail.silence),
        ..RecordingLimits::default()
    });
    let ended_by = loop {
        match call.next().await {
            CallEvent::Digit('#') => break "#",
            CallEvent::Hangup => break "hang-up",
            CallEvent::MediaTimeout => break "dead media",
            CallEvent::Silence => break "silence",
            CallEvent::RecordingFull => break "length limit",
            CallEvent::Digit(_) | CallEvent::PlayDone(_) => {}
        }
    };
    let samples = call
        .take_recording()
        .map(|r| r.into_samples())
        .unwrap_or_default();
    store(&mut call, &ctx, &mailbox, samples, ended_by).await;
    if !call.is_ended() {
        call.play(ctx.prompts.get("goodbye"), false).await;
    }
    call.hangup();
}

fn default_greeting(ctx: &ServiceContext, mailbox: &MailboxId) -> Clip {
    Clip::concat(&[
        ctx.prompts.digits(&mailbox.user),
        ctx.prompts.get("greeting-default"),
    ])
}

async fn store(
    call: &mut Call,
    ctx: &ServiceContext,
    mailbox: &MailboxId,
    samples: Vec<i16>,
    ended_by: &str,
) {
    if samples.len() < MIN_MESSAGE_SAMPLES {
        tracing::info!(%mailbox, caller = %call.caller, ended_by, "voicemail deposit: nothing recorded");
        return;
    }
    let duration_secs = (samples.len() as u64).div_ceil(u64::from(Clip::RATE)) as u32;
    let path = mailbox_dir(ctx, mailbox).join(format!("{}-{}.wav", unix_now(), call.id()));
    if let Err(e) = save_wav(path.clone(), samples).await {
        tracing::error!(%mailbox, error = %e, "voicemail deposit: writing the message failed");
        return;
    }
    let added = ctx
        .mailboxes
        .add_message(
            mailbox,
            NewMessage {
                caller: call.caller.clone(),
                received: SystemTime::now(),
                duration_secs,
                path: path.clone(),
            },
        )
        .await;
    match added {
        Ok(id) => {
            tracing::info!(%mailbox, caller = %call.caller, id, duration_secs, ended_by, "voicemail message left");
            let _ = ctx.changes.try_send(MailboxChanged {
                mailbox: mailbox.clone(),
            });
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&path).await;
            match e {
                MailboxError::Full(_) => {
                    tracing::warn!(%mailbox, "voicemail deposit: mailbox filled up during the call; message dropped")
                }
                e => {
                    tracing::error!(%mailbox, error = %e, "voicemail deposit: adding the message failed")
                }
            }
        }
    }
}
