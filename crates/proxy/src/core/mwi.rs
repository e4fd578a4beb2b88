//! Message-waiting notifier (RFC 3842, RFC 6665): answers a phone's SUBSCRIBE to its own
//! address of record with `Event: message-summary`, NOTIFYs the counts at once and on
//! every change ([`Proxy::mailbox_changed`]), refreshes and ends subscriptions
//! (`Expires: 0`), and with `unsolicited_mwi` also NOTIFYs registered phones that did not
//! subscribe. The table and body are `services/mwi.rs`; sending is `originate.rs`.
//!
//! Reached from the voicemail stage (`voicemail.rs`) for any SUBSCRIBE with that event.

use std::time::Duration;

use bytes::Bytes;
use model::{AddressOfRecord, MessageCounts};
use sip_message::{HeaderName, NameAddr, ResponseBuilder, SipMessage};
use sip_transaction::TransactionId;

use super::originate::{Origin, Outgoing};
use super::via::fixed_top_via;
use super::Proxy;
use crate::answer::Answer;
use crate::destination::Destination;
use crate::services::mwi::{self, DialogKey, Subscription};

impl Proxy {
    /// The store's counts of `aor`'s mailbox changed (or are told at start): NOTIFY its
    /// subscribers, and its registered phones with `unsolicited_mwi`. `wall` is Unix time.
    pub fn mailbox_changed(
        &mut self,
        now: Duration,
        wall: u64,
        aor: &AddressOfRecord,
        counts: MessageCounts,
    ) {
        if !self.mwi.set_counts(aor, counts) {
            return;
        }
        let keys = self.mwi.of(now, aor);
        let subscribed: Vec<Destination> = keys
            .iter()
            .filter_map(|k| self.mwi.get_mut(now, k).map(|s| s.dest))
            .collect();
        for key in keys {
            self.send_mwi_notify(now, &key, false);
        }
        if self.cfg.services.voicemail.unsolicited_mwi {
            for b in self.registrar.location().lookup(aor, wall) {
                let dest = Destination::from_source_string(&b.source);
                let Some(dest) = dest.filter(|d| !subscribed.contains(d)) else {
                    continue;
                };
                self.send_unsolicited(now, aor, &b.contact, dest, counts);
            }
        }
        self.pump(now);
    }

    /// Message-waiting subscriptions held.
    pub fn mwi_subscriptions(&self) -> usize {
        self.mwi.len()
    }

    /// A SUBSCRIBE with `Event: message-summary` (new, refresh or end).
    pub(super) fn mwi_subscribe(
        &mut self,
        now: Duration,
        id: TransactionId,
        req: &SipMessage,
        source: &Destination,
        aor: &AddressOfRecord,
        authenticated: bool,
    ) {
        let asked = req.expires();
        if let Some(to_tag) = req.to_tag() {
            let key: DialogKey = (
                req.call_id().to_string(),
                req.from_tag().unwrap_or("").to_string(),
                to_tag.to_string(),
            );
            let Some(sub) = self.mwi.get_mut(now, &key) else {
                self.reply(
                    now,
                    id,
                    req,
                    source,
                    Answer::new(481, "Subscription Does Not Exist"),
                );
                return;
            };
            let expires = if asked == Some(0) {
                0
            } else {
                mwi::granted(asked)
            };
            sub.expires_at = now + Duration::from_secs(u64::from(expires));
            sub.dest = *source;
            self.answer_subscribe(now, id, req, source, None, expires);
            self.send_mwi_notify(now, &key, expires == 0);
            self.keep_mwi(now, &key); // kept_subscriptions.rs
            return;
        }
        // Only a phone of the user itself, proven, learns whether messages wait.
        let target = self
            .directory
            .resolve_alias(aor)
            .unwrap_or_else(|| aor.clone());
        let caller = req.from().and_then(|f| {
            let domain = self.local_domain_of(&f.uri, Some(req))?;
            let a = AddressOfRecord::new(f.uri.user?, &domain);
            Some(self.directory.resolve_alias(&a).unwrap_or(a))
        });
        if !authenticated
            || caller.as_ref() != Some(&target)
            || !self.directory.is_subscriber(&target)
        {
            self.reply(
                now,
                id,
                req,
                source,
                Answer::new(403, "Only Your Own Mailbox"),
            );
            return;
        }
        let contact = req
            .header(HeaderName::Contact)
            .and_then(|v| NameAddr::parse(v).ok())
            .map(|na| na.uri.raw.to_string());
        let (Some(contact), Some(from_tag)) = (contact, req.from_tag()) else {
            self.reply(
                now,
                id,
                req,
                source,
                Answer::new(400, "Missing Contact or From tag"),
            );
            return;
        };
        let expires = if asked == Some(0) {
            0
        } else {
            mwi::granted(asked)
        };
        let tag = self.new_tag();
        let key: DialogKey = (req.call_id().to_string(), from_tag.to_string(), tag.clone());
        let sub = Subscription {
            aor: target,
            remote_uri: req
                .from()
                .map_or_else(String::new, |f| f.uri.raw.to_string()),
            contact,
            dest: *source,
            expires_at: now + Duration::from_secs(u64::from(expires)),
            cseq: 0,
        };
        if self.mwi.insert(now, key.clone(), sub).is_err() {
            self.reply(
                now,
                id,
                req,
                source,
                Answer::retry_after(503, "Too Many Subscriptions", 60),
            );
            return;
        }
        self.answer_subscribe(now, id, req, source, Some(&tag), expires);
        // RFC 6665 §4.2.1.2: the current state at once (a fetch when Expires is 0).
        self.send_mwi_notify(now, &key, expires == 0);
        self.keep_mwi(now, &key); // kept_subscriptions.rs
    }

    /// 200 to a SUBSCRIBE, with our tag (new dialogs), Expires and our Contact.
    pub(super) fn answer_subscribe(
        &mut self,
        now: Duration,
        id: TransactionId,
        req: &SipMessage,
        source: &Destination,
        tag: Option<&str>,
        expires: u32,
    ) {
        let via = fixed_top_via(req, source, self.cfg.force_rport);
        let contact = self.our_contact(source);
        let mut b = ResponseBuilder::new(req, 200);
        if let Some(t) = tag {
            b = b.to_tag(t);
        }
        if let Some(v) = &via {
            b = b.top_via(v);
        }
        let bytes = b
            .header("Expires", format_args!("{expires}"))
            .header("Contact", format_args!("{contact}"))
            .header("Server", format_args!("{}", self.cfg.server_name))
            .to_vec();
        if let Err(e) = self.layer.respond(now, id, Bytes::from(bytes), 200) {
            tracing::debug!(%id, ?e, "SUBSCRIBE answer refused by the transaction layer");
        }
    }

    /// `<sip:mwi@HOST:PORT>` as the peer at `dest` reaches us.
    pub(super) fn our_contact(&mut self, dest: &Destination) -> String {
        let host = self.interfaces.host_for(&self.cfg, dest.addr.ip());
        let transport = dest.transport.uri_param();
        let port = self.cfg.port_for(dest.transport);
        format!("<sip:mwi@{host}:{port}{transport}>")
    }

    /// NOTIFYs a subscription of the mailbox's counts; `terminated` ends it.
    fn send_mwi_notify(&mut self, now: Duration, key: &DialogKey, terminated: bool) {
        // An ending subscription (Expires: 0 has already expired it) gets its last NOTIFY.
        let sub = if terminated {
            self.mwi.remove(key)
        } else {
            self.mwi.get_mut(now, key).map(|s| s.clone())
        };
        let Some(mut sub) = sub else {
            return;
        };
        sub.cseq += 1;
        if let Some(s) = self.mwi.get_mut(now, key) {
            s.cseq = sub.cseq;
        }
        let remaining = sub.expires_at.saturating_sub(now).as_secs();
        let state = if terminated {
            "terminated;reason=timeout".to_string()
        } else {
            format!("active;expires={remaining}")
        };
        let counts = self.mwi.counts(&sub.aor);
        let body = mwi::body(&sub.aor, counts);
        let contact = self.our_contact(&sub.dest);
        let headers = format!(
            "Contact: {contact}\r\nEvent: {}\r\nSubscription-State: {state}\r\n",
            mwi::EVENT
        );
        let (call_id, remote_tag, local_tag) = key;
        let sent = self.originate(
            now,
            &Outgoing {
                method: "NOTIFY",
                request_uri: &sub.contact,
                dest: sub.dest,
                from: &format!("<sip:{}>;tag={local_tag}", sub.aor),
                to: &format!("<{}>;tag={remote_tag}", sub.remote_uri),
                call_id,
                cseq: sub.cseq,
                headers: &headers,
                body: Some((mwi::CONTENT_TYPE, &body)),
            },
            Origin::MwiNotify((!terminated).then(|| key.clone())),
        );
        if sent {
            tracing::debug!(aor = %sub.aor, new = counts.new, old = counts.old, "message-waiting NOTIFY");
        }
    }

    /// An out-of-dialog NOTIFY to a registered phone that did not subscribe.
    fn send_unsolicited(
        &mut self,
        now: Duration,
        aor: &AddressOfRecord,
        contact: &str,
        dest: Destination,
        counts: MessageCounts,
    ) {
        let tag = self.new_tag();
        let call_id = format!(
            "{tag}-mwi@{}",
            self.interfaces.host_for(&self.cfg, dest.addr.ip())
        );
        let body = mwi::body(aor, counts);
        let headers = format!(
            "Event: {}\r\nSubscription-State: active;expires={}\r\n",
            mwi::EVENT,
            mwi::DEFAULT_EXPIRES
        );
        self.originate(
            now,
            &Outgoing {
                method: "NOTIFY",
                request_uri: contact,
                dest,
                from: &format!("<sip:{aor}>;tag={tag}"),
                to: &format!("<sip:{aor}>"),
                call_id: &call_id,
                cseq: 1,
                headers: &headers,
                body: Some((mwi::CONTENT_TYPE, &body)),
            },
            Origin::MwiNotify(None),
        );
    }

    /// A NOTIFY was answered: a subscriber that no longer knows the dialog (481) or does
    /// not answer (408, 503) loses its subscription (RFC 6665 §4.2.2).
    pub(super) fn mwi_notify_answered(
        &mut self,
        _now: Duration,
        key: Option<DialogKey>,
        status: u16,
    ) {
        if let Some(key) = key {
            if matches!(status, 481 | 408 | 503) || status >= 600 {
                if let Some(sub) = self.mwi.remove(&key) {
                    tracing::debug!(aor = %sub.aor, status, "message-waiting subscription ended by its NOTIFY's answer");
                    self.forget_subscription(&key); // kept_subscriptions.rs
                }
            }
        }
    }
}
