//! Listening to messages: the mailbox number when the proxy did not give it (`*99`), the
//! PIN unless at home (wrong PINs throttled by [`super::PinThrottle`]), then new and then
//! saved messages, each announced by its caller's number and its date (month, day, hour,
//! minute in UTC, as digits) and played; after each: `7` delete, `9` save, `#` skip,
//! `*` back to the previous one, `0` record a new greeting.

use std::sync::Arc;
use std::time::{Instant, UNIX_EPOCH};

use media::{Clip, RecordingLimits};

use super::{load_wav, mailbox_dir, save_wav, MailboxChanged};
use crate::call::{Call, CallEvent, Played};
use crate::host::ServiceContext;
use crate::mailbox::{MailboxId, Message, MessageStatus};

pub(crate) async fn retrieve(
    mut call: Call,
    mailbox: Option<MailboxId>,
    home: bool,
    domain: String,
    ctx: Arc<ServiceContext>,
) {
    let timeout = ctx.config.voicemail.digit_timeout;
    let mailbox = match mailbox {
        Some(m) => m,
        None => {
            let first = match call.play(ctx.prompts.get("mailbox-number"), true).await {
                Played::Digit(d) => Some(d),
                Played::Done => None,
                Played::Ended => return,
            };
            match call.collect(first, 32, '#', timeout).await {
                Some(n) if !n.is_empty() => MailboxId::new(&n, &domain),
                _ => return goodbye(call, &ctx).await,
            }
        }
    };
    if !home && !pin_accepted(&mut call, &mailbox, &ctx).await {
        return goodbye(call, &ctx).await;
    }
    if !matches!(ctx.mailboxes.settings(&mailbox).await, Ok(Some(_))) {
        tracing::warn!(%mailbox, "voicemail retrieval: no such mailbox");
        return goodbye(call, &ctx).await;
    }
    tracing::info!(%mailbox, source = %call.source, "voicemail retrieval: mailbox opened");
    let mut messages = ctx.mailboxes.messages(&mailbox).await.unwrap_or_default();
    let new = messages
        .iter()
        .filter(|m| m.status == MessageStatus::New)
        .count();
    let intro = if messages.is_empty() {
        ctx.prompts.get("no-messages")
    } else {
        Clip::concat(&[
            ctx.prompts.digits(&new.to_string()),
            ctx.prompts.get("new-messages"),
        ])
    };
    let mut pending = match call.play(intro, true).await {
        Played::Digit(d) => Some(d),
        Played::Done => None,
        Played::Ended => return,
    };
    let mut i = 0;
    loop {
        if messages.is_empty() && pending.is_none() {
            // Nothing to play: one chance to record a greeting (0), else goodbye.
            match call.key(timeout).await {
                Some('0') => {
                    record_greeting(&mut call, &mailbox, &ctx).await;
                    continue;
                }
                _ => break,
            }
        }
        if i >= messages.len() && pending.is_none() {
            break;
        }
        let key = match pending.take() {
            Some(k) => Some(k),
            None => match play_message(&mut call, &messages[i], &ctx).await {
                Played::Digit(d) => Some(d),
                Played::Ended => return,
                Played::Done => match call.play(ctx.prompts.get("message-menu"), true).await {
                    Played::Digit(d) => Some(d),
                    Played::Ended => return,
                    Played::Done => call.key(timeout).await,
                },
            },
        };
        let Some(key) = key else {
            break;
        };
        let current = messages.get(i).cloned();
        match (key, current) {
            ('7', Some(m)) => match ctx.mailboxes.delete_message(&mailbox, m.id).await {
                Ok(path) => {
                    if let Some(p) = path {
                        let _ = tokio::fs::remove_file(p).await;
                    }
                    tracing::info!(%mailbox, id = m.id, "voicemail message deleted");
                    changed(&ctx, &mailbox);
                    messages.remove(i);
                    if call.play(ctx.prompts.get("deleted"), false).await == Played::Ended {
                        return;
                    }
                }
                Err(e) => tracing::warn!(%mailbox, error = %e, "voicemail delete failed"),
            },
            ('9', Some(m)) => {
                if let Err(e) = ctx
                    .mailboxes
                    .set_status(&mailbox, m.id, MessageStatus::Saved)
                    .await
                {
                    tracing::warn!(%mailbox, error = %e, "voicemail save failed");
                }
                changed(&ctx, &mailbox);
                i += 1;
                if call.play(ctx.prompts.get("saved"), false).await == Played::Ended {
                    return;
                }
            }
            ('#', _) => i += 1,
            ('*', _) => i = i.saturating_sub(1),
            ('0', _) => record_greeting(&mut call, &mailbox, &ctx).await,
            _ => {}
        }
        if call.is_ended() {
            return;
        }
    }
    goodbye(call, &ctx).await;
}

async fn goodbye(mut call: Call, ctx: &ServiceContext) {
    call.play(ctx.prompts.get("goodbye"), false).await;
    call.hangup();
}

fn changed(ctx: &ServiceContext, mailbox: &MailboxId) {
    let _ = ctx.changes.try_send(MailboxChanged {
        mailbox: mailbox.clone(),
    });
}

/// Asks for the PIN up to `pin_attempts` times; false when refused or locked.
async fn pin_accepted(call: &mut Call, mailbox: &MailboxId, ctx: &ServiceContext) -> bool {
    let timeout = ctx.config.voicemail.digit_timeout;
    for _ in 0..ctx.config.voicemail.pin_attempts.max(1) {
        if ctx.throttle.is_locked(mailbox, Instant::now()) {
            tracing::warn!(%mailbox, source = %call.source, "voicemail PIN refused: mailbox locked after wrong PINs");
            call.play(ctx.prompts.get("wrong-pin"), false).await;
            return false;
        }
        let first = match call.play(ctx.prompts.get("enter-pin"), true).await {
            Played::Digit(d) => Some(d),
            Played::Done => None,
            Played::Ended => return false,
        };
        let Some(pin) = call.collect(first, 16, '#', timeout).await else {
            return false;
        };
        let right = !pin.is_empty()
            && ctx
                .mailboxes
                .verify_pin(mailbox, &pin)
                .await
                .unwrap_or(false);
        if right {
            ctx.throttle.succeeded(mailbox);
            return true;
        }
        let locked = ctx.throttle.failed(mailbox, Instant::now());
        tracing::warn!(%mailbox, source = %call.source, locked, "voicemail: wrong PIN");
        if call.play(ctx.prompts.get("wrong-pin"), false).await == Played::Ended || locked {
            return false;
        }
    }
    false
}

/// Announces a message (caller's number, date) and plays it; a key interrupts.
async fn play_message(call: &mut Call, m: &Message, ctx: &ServiceContext) -> Played {
    let number = caller_number(&m.caller);
    let secs = m
        .received
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (month, day, hour, minute) = utc_parts(secs);
    let announce = Clip::concat(&[
        ctx.prompts.digits(&number),
        Clip::silence(300),
        ctx.prompts
            .digits(&format!("{month:02}{day:02}{hour:02}{minute:02}")),
        Clip::silence(300),
    ]);
    let audio = match load_wav(m.path.clone()).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(id = m.id, error = %e, "voicemail message file unusable");
            Clip::silence(200)
        }
    };
    match call.play(announce, true).await {
        Played::Done => call.play(audio, true).await,
        other => other,
    }
}

/// Records a new greeting after a prompt and a beep, until `#`, silence or the limit.
async fn record_greeting(call: &mut Call, mailbox: &MailboxId, ctx: &ServiceContext) {
    if call.play(ctx.prompts.get("record-greeting"), false).await == Played::Ended
        || call.play(Clip::beep(), false).await == Played::Ended
    {
        return;
    }
    call.record(RecordingLimits {
        max: ctx.config.voicemail.max_greeting,
        silence: Some(ctx.config.voicemail.silence),
        ..RecordingLimits::default()
    });
    loop {
        match call.next().await {
            CallEvent::Digit('#') | CallEvent::Silence | CallEvent::RecordingFull => break,
            CallEvent::Hangup | CallEvent::MediaTimeout => break,
            _ => {}
        }
    }
    let samples = call
        .take_recording()
        .map(|r| r.into_samples())
        .unwrap_or_default();
    if samples.len() < usize::try_from(Clip::RATE).unwrap_or(8000) {
        tracing::info!(%mailbox, "voicemail greeting: under a second recorded, kept the old one");
        return;
    }
    let path = mailbox_dir(ctx, mailbox).join(format!("greeting-{}.wav", super::unix_now()));
    if let Err(e) = save_wav(path.clone(), samples).await {
        tracing::error!(%mailbox, error = %e, "voicemail greeting: writing failed");
        return;
    }
    match ctx.mailboxes.set_greeting(mailbox, path).await {
        Ok(()) => {
            tracing::info!(%mailbox, "voicemail greeting recorded");
            call.play(ctx.prompts.get("saved"), false).await;
        }
        Err(e) => tracing::error!(%mailbox, error = %e, "voicemail greeting: store failed"),
    }
}

/// The digits of a caller URI's user part (`sip:1001@host` gives `1001`).
fn caller_number(caller: &str) -> String {
    let user = caller
        .split_once(':')
        .map_or(caller, |(_, rest)| rest)
        .split('@')
        .next()
        .unwrap_or("");
    user.chars().filter(char::is_ascii_digit).collect()
}

/// Month, day, hour, minute (UTC) of a Unix time (civil-from-days, H. Hinnant).
fn utc_parts(secs: u64) -> (u32, u32, u32, u32) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (month, day, (rem / 3600) as u32, ((rem % 3600) / 60) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcements() {
        assert_eq!(caller_number("sip:1001@example.com"), "1001");
        assert_eq!(caller_number("sip:alice@example.com"), "");
        // 2026-12-03 18:25 UTC
        assert_eq!(utc_parts(1_796_322_300), (12, 3, 18, 25));
        assert_eq!(utc_parts(0), (1, 1, 0, 0));
    }
}
