//! Instant messages for offline users (RFC 3428, issue 17; docs/messages.md).
//!
//! Accepting: the `offline-messages` stage, just before `location`, takes a MESSAGE from
//! an authenticated local user to a local user with no phone online, hands it to the
//! server to store ([`Query::StoreMessage`], the request parked meanwhile) and answers
//! `202 Accepted` once it is stored (486 when the user's store is full, 413 for a body
//! over `max_bytes`, 415 for a body that is not text). A MESSAGE that reached phones and
//! failed with 408 or 480 is stored the same way, from the response side.
//!
//! Delivering: a REGISTER that adds a binding (or refreshes one of a user known to have
//! messages waiting) asks the server for the user's messages ([`ImWork::Fetch`]); they
//! are sent one at a time, oldest first, each a MESSAGE from the server with the original
//! sender as From and its reception time as `Date`. A 2xx deletes the message
//! ([`ImWork::Delivered`]) and sends the next; any other answer keeps it
//! ([`ImWork::Failed`]) and ends the delivery until the next REGISTER.
//!
//! Not here: the table and the pure helpers (`crate::im`), the SQL (`storage`), the
//! store's order of work and the bound on attempts (the server's `instant_messages.rs`).

use std::time::Duration;

use model::{AddressOfRecord, InstantMessage, NewInstantMessage};
use sip_message::{HeaderName, Method, SipMessage};

use super::originate::{Origin, Outgoing};
use super::query::{locate, Missing, Query};
use super::stage::{FinalCtx, FinalFlow, Flow, LegEnd, RequestCtx, Stage};
use super::Proxy;
use crate::answer::Answer;
use crate::destination::Destination;
use crate::im::{http_date, sender_of, Delivery, ImWork, StoreOutcome};

/// A MESSAGE to a local user with no phone online is stored (202) rather than refused.
pub(super) struct OfflineMessages;

impl Stage for OfflineMessages {
    fn name(&self) -> &'static str {
        "offline-messages"
    }

    fn on_request(&self, p: &mut Proxy, cx: &mut RequestCtx) -> Flow {
        if cx.req.method() != Method::Message
            || !p.cfg.services.messages.enabled
            || cx.req.to_tag().is_some()
            || !cx.callee_exists
            || !cx.authenticated()
        {
            return Flow::Continue;
        }
        let Some(aor) = cx.callee.clone() else {
            return Flow::Continue;
        };
        if let Some(outcome) = cx.stored.take() {
            return p.stored_answer(&cx.req, &aor, outcome).into();
        }
        match locate(p, &aor, cx.wall, &cx.found) {
            Ok(bindings) if bindings.is_empty() => p.store_flow(&cx.req, &aor, cx.wall),
            Err(Missing::Need(q)) => Flow::Need(q),
            // Phones online (routed as any request), or the lookup failed (`location`
            // answers it).
            Ok(_) | Err(Missing::Failed(_)) => Flow::Continue,
        }
    }

    fn on_final(&self, p: &mut Proxy, cx: &mut FinalCtx) -> FinalFlow {
        if !p.cfg.services.messages.enabled
            || !matches!(cx.end, LegEnd::Failed(408 | 480) | LegEnd::NoAnswer)
        {
            return FinalFlow::Continue;
        }
        let Some(fork) = p.forks.get(&cx.fork_id) else {
            return FinalFlow::Continue;
        };
        let req = fork.request.clone();
        if req.method() != Method::Message {
            return FinalFlow::Continue;
        }
        // Only a local sender's message (it proved who it is to get this far) to a local
        // user (named by To: the Request-URI is a phone's contact by now).
        let local_sender = req
            .from()
            .is_some_and(|f| p.local_domain_of(&f.uri, Some(&req)).is_some());
        let recipient = req.to().and_then(|t| {
            let domain = p.local_domain_of(&t.uri, Some(&req))?;
            let aor = AddressOfRecord::new(t.uri.user?, &domain);
            Some(p.directory.resolve_alias(&aor).unwrap_or(aor))
        });
        let Some(aor) = recipient.filter(|a| local_sender && p.directory.is_subscriber(a)) else {
            return FinalFlow::Continue;
        };
        if let Some(outcome) = cx.stored.take() {
            return FinalFlow::Reply(p.stored_answer(&req, &aor, outcome));
        }
        match p.store_flow(&req, &aor, p.wall_now) {
            Flow::Need(q) => FinalFlow::Need(q),
            Flow::Reply(a) => FinalFlow::Reply(a),
            _ => FinalFlow::Continue,
        }
    }
}

impl Proxy {
    /// Checks a MESSAGE for the store and asks the server to store it.
    fn store_flow(&self, req: &SipMessage, aor: &AddressOfRecord, wall: u64) -> Flow {
        let cfg = &self.cfg.services.messages;
        let body = req.body();
        if body.len() > cfg.max_bytes {
            tracing::info!(to = %aor, bytes = body.len(), max = cfg.max_bytes, "message not stored: body too large");
            return Answer::new(413, "Message Too Large To Store").into();
        }
        let Ok(text) = std::str::from_utf8(body) else {
            tracing::info!(to = %aor, "message not stored: the body is not text");
            return Answer::new(415, "Only Text Messages Are Stored").into();
        };
        let Some(from) = req.from() else {
            return Answer::new(400, "Bad From header").into();
        };
        let content_type = req
            .header(HeaderName::ContentType)
            .unwrap_or("text/plain")
            .trim();
        let m = NewInstantMessage {
            to: aor.clone(),
            from: sender_of(&from),
            content_type: content_type.to_string(),
            body: text.to_string(),
            received_at: wall,
        };
        if let Err(e) = model::check_instant_message(&m) {
            tracing::info!(to = %aor, error = %e, "message not stored");
            return Answer::new(400, "Message Cannot Be Stored").into();
        }
        Flow::Need(Query::StoreMessage(Box::new(m), cfg.max_per_user))
    }

    /// The answer to a MESSAGE whose store went `outcome`.
    fn stored_answer(
        &mut self,
        req: &SipMessage,
        aor: &AddressOfRecord,
        outcome: StoreOutcome,
    ) -> Answer {
        let from = req
            .from()
            .map(|f| f.uri.raw.to_string())
            .unwrap_or_default();
        match outcome {
            StoreOutcome::Stored(id) => {
                crate::oplog::message_stored(&from, &aor.to_string(), id, req.body().len());
                self.ims.note_waiting(aor);
                self.ims.stored_total += 1;
                self.ims.stored_gauge += 1;
                Answer::new(202, "Accepted")
            }
            StoreOutcome::Full => {
                tracing::info!(%from, to = %aor, "message not stored: the user's store is full");
                Answer::new(486, "Too Many Messages Waiting")
            }
            StoreOutcome::Failed => Answer::new(480, "Temporarily Unavailable"),
        }
    }

    /// A REGISTER of `aor` succeeded (`registration.rs`): fetch its messages when it added
    /// a binding, or refreshed one while messages wait.
    pub(super) fn messages_on_register(
        &mut self,
        aor: &AddressOfRecord,
        changes: &[registrar::Change],
    ) {
        use registrar::Change;
        if !self.cfg.services.messages.enabled {
            return;
        }
        let added = changes.iter().any(|c| matches!(c, Change::Add(_)));
        let refreshed = changes.iter().any(|c| matches!(c, Change::Save(_)));
        if self.ims.should_fetch(aor, added, refreshed) {
            self.ims.fetching.insert(aor.clone());
            self.outbox.im(ImWork::Fetch(aor.clone()));
        }
    }

    /// Users with messages waiting, read from the store at start: their next REGISTER
    /// fetches them.
    pub fn messages_waiting(&mut self, aor: &AddressOfRecord) {
        self.ims.note_waiting(aor);
    }

    /// The store's count of messages waiting (for the gauge).
    pub fn set_messages_stored(&mut self, n: u64) {
        self.ims.stored_gauge = n;
    }

    /// The messages waiting for `aor`, oldest first, as the server read them after an
    /// [`ImWork::Fetch`]: delivered one at a time to the user's phone.
    pub fn deliver_messages(
        &mut self,
        now: Duration,
        wall: u64,
        aor: &AddressOfRecord,
        messages: Vec<InstantMessage>,
    ) {
        self.ims.fetching.remove(aor);
        if messages.is_empty() {
            self.ims.waiting.remove(aor);
            return;
        }
        self.ims.note_waiting(aor);
        if self.ims.active.contains_key(aor) {
            return;
        }
        let phone = self
            .registrar
            .location()
            .lookup(aor, wall)
            .into_iter()
            .find_map(|b| Destination::from_source_string(&b.source).map(|d| (b.contact, d)));
        let Some((contact, dest)) = phone else {
            tracing::debug!(user = %aor, "messages waiting, but no phone online any more");
            return;
        };
        self.ims.active.insert(
            aor.clone(),
            Delivery {
                dest,
                contact,
                queue: messages.into(),
            },
        );
        self.send_next_message(now, aor);
        self.pump(now);
    }

    /// Sends the first message of `aor`'s delivery (none left: the delivery ends).
    fn send_next_message(&mut self, now: Duration, aor: &AddressOfRecord) {
        let Some(d) = self.ims.active.get(aor) else {
            return;
        };
        let Some(m) = d.queue.front().cloned() else {
            self.ims.active.remove(aor);
            self.ims.waiting.remove(aor);
            return;
        };
        let (dest, contact) = (d.dest, d.contact.clone());
        let tag = self.new_tag();
        let host = self.interfaces.host_for(&self.cfg, dest.addr.ip());
        let call_id = format!("{tag}-im{}@{host}", m.id);
        let headers = format!("Date: {}\r\n", http_date(m.received_at));
        let sent = self.originate(
            now,
            &Outgoing {
                method: "MESSAGE",
                request_uri: &contact,
                dest,
                from: &format!("{};tag={tag}", m.from),
                to: &format!("<sip:{aor}>"),
                call_id: &call_id,
                cseq: 1,
                headers: &headers,
                body: Some((m.content_type.as_str(), m.body.as_str())),
            },
            Origin::ImDelivery(aor.clone(), m.id),
        );
        if !sent {
            // Not sent (table full, or it would not print): kept for the next REGISTER.
            self.ims.active.remove(aor);
            self.outbox.im(ImWork::Failed(m.id));
            self.ims.failed_total += 1;
        }
    }

    /// A delivered MESSAGE was answered (`originate.rs`).
    pub(super) fn message_answered(
        &mut self,
        now: Duration,
        aor: &AddressOfRecord,
        id: i64,
        status: u16,
    ) {
        let contact = self
            .ims
            .active
            .get(aor)
            .map(|d| d.contact.clone())
            .unwrap_or_default();
        if (200..300).contains(&status) {
            crate::oplog::message_delivered(&aor.to_string(), &contact, id, status);
            self.outbox.im(ImWork::Delivered(id));
            self.ims.delivered_total += 1;
            self.ims.stored_gauge = self.ims.stored_gauge.saturating_sub(1);
            if let Some(d) = self.ims.active.get_mut(aor) {
                d.queue.pop_front();
            }
            self.send_next_message(now, aor);
        } else {
            crate::oplog::message_not_delivered(&aor.to_string(), &contact, id, status);
            self.outbox.im(ImWork::Failed(id));
            self.ims.failed_total += 1;
            self.ims.active.remove(aor);
            self.ims.note_waiting(aor);
        }
    }

    /// Appends the message-store metrics (`render_metrics`).
    pub(super) fn render_message_metrics(&self, out: &mut String) {
        self.ims.render(out);
    }
}
