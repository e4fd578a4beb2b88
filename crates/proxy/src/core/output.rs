//! The proxy's one output queue: everything it wants done outside itself, in the order it
//! decided it ([`Output`]), drained by the server with [`Proxy::poll`].
//!
//! A message to send, binding changes to persist, a query to run and a call event all wait
//! in the same queue, so the server's core loop has one thing to drain after each input.
//! Transmits, binding changes and queries go in where they are decided; call events are
//! staged by [`crate::events::CallEvents`] (which also writes their log lines and metrics)
//! and join the queue when the input's work is done (`pump`), after that input's other
//! outputs.
//!
//! This module owns the queue and its bound on call events. It does not send, persist or
//! run anything: the server does, and a transmit it could not send comes back through
//! [`Proxy::handle_transport_error`].

use std::collections::VecDeque;

use bytes::Bytes;
use registrar::Change;

use crate::destination::Destination;
use crate::events::{CallEvent, MAX_QUEUED_EVENTS};

use super::query::PendingQuery;
use super::Proxy;

/// One thing the proxy wants done, from [`Proxy::poll`].
#[derive(Debug)]
pub enum Output {
    /// Bytes to send to a destination (a whole SIP message; the bytes are the proxy's own
    /// buffer, handed over without a copy).
    Transmit(Destination, Bytes),
    /// Binding changes to persist, in the order they happened (one registration's).
    Persist(Vec<Change>),
    /// A query to run; its answer comes back through [`Proxy::handle_query`].
    Query(PendingQuery),
    /// A fact about a call ([`crate::events`]), for call records.
    CallEvent(CallEvent),
    /// Work on the instant-message store, in order (`messages.rs`).
    Messages(crate::im::ImWork),
    /// A subscription to keep in the store, or to forget (`kept_subscriptions.rs`).
    Subscription(super::SubscriptionChange),
    /// A relayed call ended: end its media (`relay.rs`).
    RelayDelete(super::relay::RelayDelete),
}

/// The queue behind [`Proxy::poll`]. Transmits, changes and queries are bounded by the
/// work of one input (the server drains the queue after each); call events, which a server
/// without call records may leave, at most [`MAX_QUEUED_EVENTS`] (then dropped and
/// counted, as [`crate::events::CallEvents`] does).
#[derive(Debug, Default)]
pub(super) struct Outbox {
    queue: VecDeque<Output>,
    /// Call events in `queue`.
    events: usize,
}

impl Outbox {
    /// A message to send.
    pub(super) fn transmit(&mut self, dest: Destination, bytes: Bytes) {
        self.queue.push_back(Output::Transmit(dest, bytes));
    }

    /// Binding changes to persist (none: nothing queued).
    pub(super) fn persist(&mut self, changes: Vec<Change>) {
        if !changes.is_empty() {
            self.queue.push_back(Output::Persist(changes));
        }
    }

    /// A subscription changed.
    pub(super) fn subscription(&mut self, change: super::SubscriptionChange) {
        self.queue.push_back(Output::Subscription(change));
    }

    /// Work on the instant-message store.
    pub(super) fn im(&mut self, work: crate::im::ImWork) {
        self.queue.push_back(Output::Messages(work));
    }

    /// Anything else to do (bounded like transmits: by the work of one input).
    pub(super) fn push(&mut self, o: Output) {
        self.queue.push_back(o);
    }

    /// A query to run.
    pub(super) fn query(&mut self, q: PendingQuery) {
        self.queue.push_back(Output::Query(q));
    }

    /// A call event; false when the queue holds [`MAX_QUEUED_EVENTS`] of them already
    /// (the event is dropped).
    pub(super) fn event(&mut self, ev: CallEvent) -> bool {
        if self.events >= MAX_QUEUED_EVENTS {
            return false;
        }
        self.events += 1;
        self.queue.push_back(Output::CallEvent(ev));
        true
    }

    /// Call events waiting.
    pub(super) fn events(&self) -> usize {
        self.events
    }

    fn pop(&mut self) -> Option<Output> {
        let o = self.queue.pop_front()?;
        if matches!(o, Output::CallEvent(_)) {
            self.events -= 1;
        }
        Some(o)
    }

    /// Takes the first output `pick` accepts, leaving the others in order.
    fn take<T>(&mut self, pick: fn(&Output) -> bool, into: fn(Output) -> Option<T>) -> Option<T> {
        let i = self.queue.iter().position(pick)?;
        let o = self.queue.remove(i)?;
        if matches!(o, Output::CallEvent(_)) {
            self.events -= 1;
        }
        into(o)
    }
}

impl Proxy {
    /// The next thing to do, in the order the proxy decided them; None when there is
    /// nothing (until the next `handle_*`). The server drains this after every input.
    pub fn poll(&mut self) -> Option<Output> {
        self.stage_events();
        let o = self.outbox.pop()?;
        if let Output::Transmit(_, bytes) = &o {
            self.metrics.sent(bytes);
        }
        Some(o)
    }

    /// Moves the call events written since the last call into the queue, after the
    /// outputs already in it.
    pub(super) fn stage_events(&mut self) {
        while let Some(ev) = self.events.poll() {
            if !self.outbox.event(ev) {
                self.events.dropped += 1;
            }
        }
    }

    /// Call events waiting for the server (staged and queued).
    pub(super) fn events_waiting(&self) -> usize {
        self.events.queued() + self.outbox.events()
    }

    /// A view of [`Proxy::poll`] for tests and in-process harnesses: the next message to
    /// send, leaving the other outputs queued.
    pub fn poll_transmit(&mut self) -> Option<(Destination, Bytes)> {
        let t = self.outbox.take(
            |o| matches!(o, Output::Transmit(..)),
            |o| match o {
                Output::Transmit(d, b) => Some((d, b)),
                _ => None,
            },
        )?;
        self.metrics.sent(&t.1);
        Some(t)
    }

    /// A view of [`Proxy::poll`]: the next relayed call to end, leaving the other
    /// outputs queued.
    pub fn poll_relay_delete(&mut self) -> Option<super::relay::RelayDelete> {
        self.outbox.take(
            |o| matches!(o, Output::RelayDelete(_)),
            |o| match o {
                Output::RelayDelete(d) => Some(d),
                _ => None,
            },
        )
    }

    /// A view of [`Proxy::poll`]: the next query to run (shared-database mode: location
    /// lookups), leaving the other outputs queued.
    pub fn poll_query(&mut self) -> Option<PendingQuery> {
        self.outbox.take(
            |o| matches!(o, Output::Query(_)),
            |o| match o {
                Output::Query(q) => Some(q),
                _ => None,
            },
        )
    }

    /// A view of [`Proxy::poll`]: the next call event ([`crate::events`]), leaving the
    /// other outputs queued.
    pub fn poll_call_event(&mut self) -> Option<CallEvent> {
        self.stage_events();
        self.outbox.take(
            |o| matches!(o, Output::CallEvent(_)),
            |o| match o {
                Output::CallEvent(e) => Some(e),
                _ => None,
            },
        )
    }

    /// A view of [`Proxy::poll`]: every binding change queued, in order, leaving the other
    /// outputs queued.
    pub fn drain_changes(&mut self) -> Vec<Change> {
        let mut all = Vec::new();
        while let Some(c) = self.outbox.take(
            |o| matches!(o, Output::Persist(_)),
            |o| match o {
                Output::Persist(c) => Some(c),
                _ => None,
            },
        ) {
            all.extend(c);
        }
        all
    }
}
