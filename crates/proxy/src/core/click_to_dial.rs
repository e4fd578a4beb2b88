//! Click-to-dial (RFC 5359 §2.18): the server asks a user's registered phone, with an
//! out-of-dialog REFER carrying `Refer-Sub: false` (RFC 4488), to call a target itself;
//! the phone answers the REFER (202 accepted, or a refusal) and places an ordinary call
//! through the proxy, which the call events follow like any other.
//!
//! [`Proxy::click_to_dial`] sends the REFER through [`Proxy::originate`]; its final
//! answer (408 on timeout, 503 on a transport failure) is queued for the server, by the
//! token it chose, and read with [`Proxy::poll_refer_answer`]. The queue is bounded by the
//! originated-request table. Who may ask, and what the target may be, are the front end's
//! (the portal checks its user and target); this module refuses a target that would not
//! print as one header value.

use std::time::Duration;

use model::AddressOfRecord;

use super::originate::{Origin, Outgoing, MAX_ORIGINATED};
use super::Proxy;
use crate::destination::Destination;

/// Why no REFER went out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferRefused {
    /// The user has no registered phone.
    NoPhone,
    /// The target is not a single `sip:` URI.
    BadTarget,
    /// Too many requests in flight, or the transaction layer refused.
    NotSent,
}

impl Proxy {
    /// Sends a click-to-dial REFER to `aor`'s registered phone `phone` (its contact, as the
    /// user chose it), or to its first (highest q, then the most recent) when `phone` is
    /// None, asking it to call `target` (a `sip:` URI); its answer comes back from
    /// [`Proxy::poll_refer_answer`] with `token`. `wall` is Unix time (binding expiry).
    /// Answers the contact the REFER went to.
    pub fn click_to_dial(
        &mut self,
        now: Duration,
        wall: u64,
        aor: &AddressOfRecord,
        target: &str,
        phone: Option<&str>,
        token: u64,
    ) -> Result<String, ReferRefused> {
        let printable = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"'))
        };
        if !(target.starts_with("sip:") || target.starts_with("sips:")) || !printable(target) {
            return Err(ReferRefused::BadTarget);
        }
        let phone = self
            .registrar
            .location()
            .lookup(aor, wall)
            .into_iter()
            .filter(|b| phone.is_none_or(|p| b.contact == p))
            .find_map(|b| Destination::from_source_string(&b.source).map(|d| (b.contact, d)));
        let Some((contact, dest)) = phone else {
            return Err(ReferRefused::NoPhone);
        };
        let tag = self.new_tag();
        let host = self.interfaces.host_for(&self.cfg, dest.addr.ip());
        let port = self.cfg.port_for(dest.transport);
        let transport = dest.transport.uri_param();
        let call_id = format!("{tag}-c2d@{host}");
        // The phone calls as itself: the REFER comes "from" its own user (RFC 5359 §2.18's
        // controller is the server, which speaks for the user who clicked).
        let headers = format!(
            "Contact: <sip:click-to-dial@{host}:{port}{transport}>\r\n\
             Refer-To: <{target}>\r\n\
             Refer-Sub: false\r\n\
             Referred-By: <sip:{aor}>\r\n\
             Supported: norefersub\r\n"
        );
        let sent = self.originate(
            now,
            &Outgoing {
                method: "REFER",
                request_uri: &contact,
                dest,
                from: &format!("<sip:{aor}>;tag={tag}"),
                to: &format!("<sip:{aor}>"),
                call_id: &call_id,
                cseq: 1,
                headers: &headers,
                body: None,
            },
            Origin::Refer(token),
        );
        self.pump(now);
        if sent {
            tracing::info!(target: "switchboard::call", user = %aor, %contact, refer_to = target, "click-to-dial REFER sent");
            Ok(contact)
        } else {
            Err(ReferRefused::NotSent)
        }
    }

    /// The next final answer to a click-to-dial REFER: (token, status).
    pub fn poll_refer_answer(&mut self) -> Option<(u64, u16)> {
        self.refer_answers.pop_front()
    }

    /// A REFER's final answer (`originate.rs`).
    pub(super) fn refer_answered(&mut self, token: u64, status: u16) {
        if self.refer_answers.len() < MAX_ORIGINATED {
            self.refer_answers.push_back((token, status));
        }
    }
}
