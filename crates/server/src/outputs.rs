//! The core loop's side of the proxy's one output queue ([`proxy::Proxy::poll`]): after
//! each input the core task drains it here, sending what is to be sent, handing binding
//! changes to the writer, starting queries, passing call events to the call records and
//! work on stored instant messages to their task.
//!
//! This module owns where each kind of output goes. It does not decide anything (the
//! proxy did), and it does not wait: sends are non-blocking, queries run on tasks of their
//! own and answer through the core queue.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use model::Store as _;
use proxy::{Destination, Output, Proxy};
use registrar::Change;
use storage::SqlStore;
use tokio::sync::mpsc;
use transport::Transports;

use crate::run::{wall_clock, CoreInput};

/// Where the outputs go.
pub struct Sinks<'a> {
    /// The sockets and connections.
    pub transports: &'a Transports,
    /// The store queries run against.
    pub store: &'a Arc<SqlStore>,
    /// The core queue, for query answers.
    pub core: &'a mpsc::Sender<CoreInput>,
    /// Call records.
    pub cdr: &'a crate::cdr::Feed,
    /// Click-to-dial attempts from the portal, following their calls' events.
    pub dials: &'a crate::dials::Dials,
    /// RFC 3263 lookups of Request-URIs with host names (None: DNS off).
    pub resolver: Option<Arc<crate::dns::SipResolver>>,
    /// The instant-message store task (`instant_messages.rs`).
    pub messages: &'a mpsc::UnboundedSender<crate::instant_messages::ImInput>,
    /// The media relay (None: `[relay] mode = "never"`).
    pub relay: Option<Arc<dyn relay::MediaRelay>>,
    /// Binding changes gathered for the writer (sent once per wake-up of the core loop).
    pub changes: Vec<Change>,
    /// Subscription changes gathered for the writer, likewise.
    pub subscriptions: Vec<proxy::SubscriptionChange>,
    /// Messages gathered for one batch send.
    batch: Vec<(Destination, Bytes)>,
}

impl<'a> Sinks<'a> {
    /// Sinks with nothing gathered yet, without DNS or a media relay (see [`Sinks::resolver`],
    /// [`Sinks::relay`]).
    pub fn new(
        transports: &'a Transports,
        store: &'a Arc<SqlStore>,
        core: &'a mpsc::Sender<CoreInput>,
        cdr: &'a crate::cdr::Feed,
        dials: &'a crate::dials::Dials,
        messages: &'a mpsc::UnboundedSender<crate::instant_messages::ImInput>,
    ) -> Self {
        Sinks {
            transports,
            store,
            core,
            cdr,
            resolver: None,
            dials,
            messages,
            relay: None,
            changes: Vec::new(),
            subscriptions: Vec::new(),
            batch: Vec::with_capacity(16),
        }
    }

    /// With RFC 3263 lookups (None: DNS off).
    pub fn resolver(mut self, resolver: Option<Arc<crate::dns::SipResolver>>) -> Self {
        self.resolver = resolver;
        self
    }

    /// With a media relay (None: `[relay] mode = "never"`).
    pub fn relay(mut self, relay: Option<Arc<dyn relay::MediaRelay>>) -> Self {
        self.relay = relay;
        self
    }

    /// Drains the proxy's output queue: everything it decided up to `now`. A message
    /// refused at once (no route, a full queue or connection table, a socket error) is a
    /// transport error for the proxy (RFC 3261 §17.1.4), whose outputs are drained too;
    /// failures found later come back as [`CoreInput::SendFailed`].
    pub fn drain(&mut self, proxy: &mut Proxy, now: Duration) {
        loop {
            while let Some(o) = proxy.poll() {
                match o {
                    Output::Transmit(dest, bytes) => self.batch.push((dest, bytes)),
                    Output::Persist(c) => self.changes.extend(c),
                    Output::Query(q) => self.run_query(q),
                    Output::CallEvent(ev) => {
                        self.dials.observe(&ev);
                        self.cdr.send(ev);
                    }
                    Output::Subscription(c) => self.subscriptions.push(c),
                    Output::Messages(work) => {
                        let _ = self
                            .messages
                            .send(crate::instant_messages::ImInput::Work(work));
                    }
                    Output::RelayDelete(d) => {
                        if let Some(r) = self.relay.clone() {
                            tokio::spawn(async move {
                                crate::relay_host::delete(r.as_ref(), &d).await;
                            });
                        }
                    }
                }
            }
            if self.batch.is_empty() {
                return;
            }
            // What one input produced, in one system call where it can.
            let mut failed = false;
            self.transports
                .send_batch(&mut self.batch, |dest, bytes, e| {
                    tracing::debug!(dest = %dest.addr, error = %e, "send failed");
                    proxy.handle_transport_error(now, dest, bytes);
                    failed = true;
                });
            if !failed {
                return;
            }
        }
    }

    /// Runs a query of a parked request off the core task; its answer comes back through
    /// the core queue.
    fn run_query(&self, q: proxy::PendingQuery) {
        // Stored messages: in order with the deliveries, on the message task.
        if let proxy::Query::StoreMessage(message, max_per_user) = q.query {
            let input = crate::instant_messages::ImInput::Store {
                token: q.token,
                message,
                max_per_user,
            };
            if let Err(e) = self.messages.send(input) {
                if let crate::instant_messages::ImInput::Store { token, .. } = e.0 {
                    let core = self.core.clone();
                    tokio::spawn(async move {
                        let answer = proxy::QueryAnswer::Failed;
                        let _ = core.send(CoreInput::QueryAnswer(token, answer)).await;
                    });
                }
            }
            return;
        }
        let store = self.store.clone();
        let core = self.core.clone();
        let resolver = self.resolver.clone();
        let relay = self.relay.clone();
        tokio::spawn(async move {
            let answer = match &q.query {
                proxy::Query::Location(aor) => {
                    match store.bindings(Some(aor), wall_clock()).await {
                        Ok(b) => proxy::QueryAnswer::Bindings(b),
                        Err(e) => {
                            tracing::warn!(error = %e, %aor, "location lookup failed");
                            proxy::QueryAnswer::Failed
                        }
                    }
                }
                proxy::Query::Resolve(uri) => match &resolver {
                    Some(r) => match r.locate(uri).await {
                        Ok(targets) => {
                            tracing::debug!(%uri, targets = ?targets, "dns: located");
                            proxy::QueryAnswer::Targets(targets)
                        }
                        Err(e) => {
                            tracing::warn!(%uri, error = %e, "dns: cannot locate");
                            proxy::QueryAnswer::Failed
                        }
                    },
                    None => proxy::QueryAnswer::Failed,
                },
                proxy::Query::Relay(rq) => match &relay {
                    Some(r) => crate::relay_host::run_query(r.as_ref(), rq).await,
                    None => proxy::QueryAnswer::Refused {
                        status: 503,
                        reason: "no media relay".into(),
                    },
                },
                other => {
                    tracing::error!(query = ?other, "no runner for this query");
                    proxy::QueryAnswer::Failed
                }
            };
            let _ = core.send(CoreInput::QueryAnswer(q.token, answer)).await;
        });
    }
}
