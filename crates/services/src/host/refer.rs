//! REFERs to the host. RFC 5359 §2.15, the park server's side: Bob REFERs `sip:park@DOMAIN`
//! with `Refer-To: <Alice?Replaces=...>`; the agent has answered 202, and here the host
//! takes an orbit, NOTIFYs `100 Trying`, INVITEs Alice through the proxy with the
//! `Replaces` (so her phone swaps Bob's dialog for ours) and Bob's `Referred-By`, and on
//! her answer NOTIFYs `200 OK` and parks her call (hold music, the orbit's timeout and
//! ring-back to Bob, retrieval by dialling the orbit). A failure is NOTIFYed with its
//! status.
//!
//! RFC 5359 §2.10, the bridge dialling out: a participant of a conference REFERs the
//! bridge inside its call with `Refer-To: <carol>`; the host NOTIFYs `100 Trying`,
//! INVITEs Carol through the proxy (shown as "Conference ROOM"), and on her answer seats
//! her in the room (no PIN: a participant invited her) and NOTIFYs `200 OK`; a full room
//! or a failure is NOTIFYed with its status. Any other REFER is declined (`603`).
//!
//! Not here: the park server's dialog state (`park_state.rs`); a REFER to a room from
//! outside it (the proxy sends only the park service's REFERs to the host).

use sip_dialog::CallHandle;
use tokio::sync::oneshot;

use super::HostLoop;
use crate::call::{Call, HostCommand, Placement};
use crate::park;
use crate::request_uri::ServiceRequest;

impl HostLoop {
    /// A REFER (answered 202): `call` is its dialog (or the call it came in).
    pub(super) fn on_refer(
        &mut self,
        call: CallHandle,
        refer_to: &str,
        referred_by: Option<String>,
        source: std::net::SocketAddr,
    ) {
        let now = self.start.elapsed();
        if !self.trusted(source) {
            tracing::warn!(call = call.get(), %source, "REFER refused: source is not the proxy");
            self.ua
                .notify_refer(call, now, "SIP/2.0 403 Forbidden", true);
            return;
        }
        // Only a REFER outside any call (its own dialog) is a request to a service; one
        // inside a call (a phone transferring the service away) is declined.
        let ruri = self
            .ua
            .invite(call)
            .filter(|r| r.method() == sip_message::Method::Refer)
            .map(|r| r.request_uri_str().to_string())
            .unwrap_or_default();
        let domain = match ServiceRequest::parse(&ruri) {
            Ok(ServiceRequest::Park {
                domain,
                orbit: None,
            }) => domain,
            _ if ruri.is_empty() => {
                if let Some(room) = self.dialog_id(call).and_then(|d| {
                    self.ctx
                        .conference
                        .room_of_dialog(&d.call_id, &d.local_tag, &d.remote_tag)
                }) {
                    self.dial_out(call, room, refer_to, referred_by);
                    return;
                }
                tracing::info!(
                    call = call.get(),
                    "REFER declined: only a conference participant's REFER is served inside a call"
                );
                self.ua
                    .notify_refer(call, now, "SIP/2.0 603 Declined", true);
                return;
            }
            _ => {
                tracing::info!(call = call.get(), uri = %ruri, "REFER declined: only the park service takes REFER");
                self.ua
                    .notify_refer(call, now, "SIP/2.0 603 Declined", true);
                return;
            }
        };
        let Some((target, replaces)) = parse_refer_to(refer_to) else {
            tracing::info!(
                call = call.get(),
                refer_to,
                "park REFER refused: bad Refer-To"
            );
            self.ua
                .notify_refer(call, now, "SIP/2.0 400 Bad Refer-To", true);
            return;
        };
        let Some(orbit) = self.ctx.park.reserve(&domain) else {
            tracing::warn!(call = call.get(), %domain, "park REFER refused: every park orbit is in use");
            self.ua
                .notify_refer(call, now, "SIP/2.0 486 Busy Here", true);
            return;
        };
        self.ua.notify_refer(call, now, "SIP/2.0 100 Trying", false);
        let mut headers = String::new();
        if let Some(r) = &replaces {
            headers.push_str(&format!("Replaces: {r}\r\n"));
        }
        if let Some(b) = &referred_by {
            headers.push_str(&format!("Referred-By: {b}\r\n"));
        }
        let parker = referred_by
            .as_deref()
            .and_then(|v| sip_message::NameAddr::parse(v).ok())
            .map(|n| n.uri.raw.to_string());
        tracing::info!(call = call.get(), %target, replaces = ?replaces, orbit, "parking by REFER (RFC 5359 §2.15)");
        let rx = self.place_referred(&target, format!("Park {orbit}"), headers);
        let commands = self.cmd_tx.clone();
        let ctx = self.ctx.clone();
        tokio::spawn(async move {
            match rx.await.unwrap_or(Err(503)) {
                Ok(parked) => {
                    let _ = commands
                        .send(HostCommand::NotifyRefer(call, "SIP/2.0 200 OK".into()))
                        .await;
                    park::park(parked, ctx, domain, orbit, parker).await;
                }
                Err(status) => {
                    ctx.park.release(&domain, orbit);
                    tracing::warn!(%target, status, "park REFER: the party to park did not answer");
                    let _ = commands
                        .send(HostCommand::NotifyRefer(
                            call,
                            format!("SIP/2.0 {status} {}", reason(status)),
                        ))
                        .await;
                }
            }
        });
    }
}

impl HostLoop {
    /// Places the call a REFER asks for: to `target`, from `display`, with `headers` (each
    /// ending in CRLF) in its INVITE. The answered call, or the failure's status, comes on
    /// the receiver.
    fn place_referred(
        &mut self,
        target: &str,
        display: String,
        headers: String,
    ) -> oneshot::Receiver<Result<Call, u16>> {
        let (tx, rx) = oneshot::channel();
        self.place(
            Placement {
                uri: target.to_string(),
                display,
                headers,
                ring: park::RING_BACK,
            },
            tx,
        );
        rx
    }

    /// The conference bridge dials `refer_to` out for `room` (a participant's REFER).
    fn dial_out(
        &mut self,
        call: CallHandle,
        room: String,
        refer_to: &str,
        referred_by: Option<String>,
    ) {
        let now = self.start.elapsed();
        let Some((target, _)) = parse_refer_to(refer_to) else {
            tracing::info!(
                call = call.get(),
                refer_to,
                "conference REFER refused: bad Refer-To"
            );
            self.ua
                .notify_refer(call, now, "SIP/2.0 400 Bad Refer-To", true);
            return;
        };
        self.ua.notify_refer(call, now, "SIP/2.0 100 Trying", false);
        let name = room.split('@').next().unwrap_or(&room).to_string();
        let headers = referred_by
            .map(|b| format!("Referred-By: {b}\r\n"))
            .unwrap_or_default();
        tracing::info!(call = call.get(), %target, %room, "conference bridge dialling out (RFC 5359 §2.10)");
        let rx = self.place_referred(&target, format!("Conference {name}"), headers);
        let commands = self.cmd_tx.clone();
        let ctx = self.ctx.clone();
        tokio::spawn(async move {
            let frag = match rx.await.unwrap_or(Err(503)) {
                Ok(mut joined) => {
                    let dialog = joined
                        .dialog
                        .clone()
                        .unwrap_or(crate::conference::DialogId {
                            call_id: String::new(),
                            local_tag: String::new(),
                            remote_tag: String::new(),
                        });
                    match ctx
                        .conference
                        .reserve(&room, joined.id(), &joined.caller, dialog)
                    {
                        Ok(()) => {
                            let _ = commands
                                .send(HostCommand::NotifyRefer(call, "SIP/2.0 200 OK".into()))
                                .await;
                            crate::conference::run(joined, room, None, ctx).await;
                            return;
                        }
                        Err(e) => {
                            tracing::warn!(%target, %room, error = %e, "conference dial-out: no seat");
                            joined.hangup();
                            format!("SIP/2.0 {} {}", e.status(), reason(e.status()))
                        }
                    }
                }
                Err(status) => {
                    tracing::warn!(%target, %room, status, "conference dial-out not answered");
                    format!("SIP/2.0 {status} {}", reason(status))
                }
            };
            let _ = commands.send(HostCommand::NotifyRefer(call, frag)).await;
        });
    }
}

/// A sipfrag reason phrase for a status.
fn reason(status: u16) -> &'static str {
    match status {
        408 => "Request Timeout",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        503 => "Service Unavailable",
        603 => "Decline",
        _ => "Failed",
    }
}

/// A Refer-To value's URI (without its headers) and its unescaped `Replaces` header
/// (RFC 3891 §7: `?Replaces=callid%3Bto-tag%3D...%3Bfrom-tag%3D...`). `None` for a
/// value that is not a SIP URI.
pub(crate) fn parse_refer_to(value: &str) -> Option<(String, Option<String>)> {
    let v = value.trim();
    let inner = match v.find('<') {
        Some(start) => &v[start + 1..start + 1 + v[start + 1..].find('>')?],
        None => v.split(';').next()?,
    };
    let (uri, headers) = match inner.split_once('?') {
        Some((u, h)) => (u, Some(h)),
        None => (inner, None),
    };
    if !(uri.starts_with("sip:") || uri.starts_with("sips:")) {
        return None;
    }
    let replaces = headers.and_then(|h| {
        h.split('&').find_map(|kv| {
            let (k, val) = kv.split_once('=')?;
            k.eq_ignore_ascii_case("Replaces").then(|| unescape(val))
        })
    });
    Some((uri.to_string(), replaces))
}

/// Percent-decoding (invalid escapes are kept as written).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() && s.is_char_boundary(i + 3) {
            if let Ok(x) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(x);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refer_to_with_an_escaped_replaces() {
        let (uri, r) =
            parse_refer_to("<sip:alice@example.com?Replaces=ab%40h%3Bto-tag%3Dx%3Bfrom-tag%3Dy>")
                .unwrap();
        assert_eq!(uri, "sip:alice@example.com");
        assert_eq!(r.as_deref(), Some("ab@h;to-tag=x;from-tag=y"));
        let (uri, r) = parse_refer_to("sip:carol@example.com").unwrap();
        assert_eq!((uri.as_str(), r), ("sip:carol@example.com", None));
        assert!(parse_refer_to("<tel:+1555>").is_none());
        assert_eq!(unescape("%4"), "%4");
        assert_eq!(unescape("a%2"), "a%2");
    }
}
