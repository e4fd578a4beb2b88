//! The stream connection table: live TCP and TLS connections by id, indexed by transport
//! and remote address for reuse (a TCP connection never carries a message meant for TLS).

use std::collections::HashMap;
use std::net::SocketAddr;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::mpsc::{self, error::TrySendError};

use crate::peer::{ConnectionId, TransportKind};

/// What a connection is reused for: its transport and remote address.
pub(crate) type ConnKey = (TransportKind, SocketAddr);

/// What the table keeps of a connection: its queue and where it goes.
#[derive(Debug)]
struct Entry {
    tx: mpsc::Sender<Bytes>,
    remote: ConnKey,
}

#[derive(Debug, Default)]
struct Inner {
    by_id: HashMap<ConnectionId, Entry>,
    /// Connections per remote address, oldest first; the newest is reused.
    by_addr: HashMap<ConnKey, Vec<ConnectionId>>,
}

/// The outcome of [`ConnTable::send_or_reserve`].
pub(crate) enum Routed {
    /// Queued on an existing connection.
    Queued,
    /// The existing connection's queue is full.
    Full,
    /// No connection to that address: a new entry was made with the message queued;
    /// the caller must connect and drive it.
    New(ConnectionId, mpsc::Receiver<Bytes>),
    /// No connection, and the table is full.
    TableFull,
}

/// Connections, bounded by `max`. The lock is never held across an await.
#[derive(Debug)]
pub(crate) struct ConnTable {
    inner: Mutex<Inner>,
    max: usize,
}

impl ConnTable {
    pub fn new(max: usize) -> Self {
        ConnTable {
            inner: Mutex::new(Inner::default()),
            max,
        }
    }

    pub fn len(&self) -> usize {
        self.inner.lock().by_id.len()
    }

    /// Adds a connection unless the table is full.
    pub fn try_insert(&self, id: ConnectionId, remote: ConnKey, tx: mpsc::Sender<Bytes>) -> bool {
        let mut t = self.inner.lock();
        if t.by_id.len() >= self.max {
            return false;
        }
        t.insert(id, remote, tx);
        true
    }

    /// Removes a connection (a no-op if already gone).
    pub fn remove(&self, id: ConnectionId) {
        let mut t = self.inner.lock();
        let Some(entry) = t.by_id.remove(&id) else {
            return;
        };
        if let Some(ids) = t.by_addr.get_mut(&entry.remote) {
            ids.retain(|c| *c != id);
            if ids.is_empty() {
                t.by_addr.remove(&entry.remote);
            }
        }
    }

    /// A handle on the named connection's queue.
    pub fn sender(&self, id: ConnectionId) -> Option<mpsc::Sender<Bytes>> {
        self.inner.lock().by_id.get(&id).map(|e| e.tx.clone())
    }

    /// Queues on the named connection. `Err(data)` when it is not live.
    pub fn send_on(&self, id: ConnectionId, data: Bytes) -> Result<Routed, Bytes> {
        let t = self.inner.lock();
        let Some(entry) = t.by_id.get(&id) else {
            return Err(data);
        };
        match entry.tx.try_send(data) {
            Ok(()) => Ok(Routed::Queued),
            Err(TrySendError::Full(_)) => Ok(Routed::Full),
            Err(TrySendError::Closed(data)) => Err(data),
        }
    }

    /// Queues on a live connection to `remote` (the newest); `Err(data)` when there is
    /// none (WebSocket: only the client connects).
    pub fn send_existing(&self, remote: ConnKey, data: Bytes) -> Result<Routed, Bytes> {
        let t = self.inner.lock();
        let mut data = data;
        for id in t.by_addr.get(&remote).into_iter().flatten().rev() {
            let Some(entry) = t.by_id.get(id) else {
                continue;
            };
            match entry.tx.try_send(data) {
                Ok(()) => return Ok(Routed::Queued),
                Err(TrySendError::Full(_)) => return Ok(Routed::Full),
                Err(TrySendError::Closed(d)) => data = d,
            }
        }
        Err(data)
    }

    /// Queues on a connection to `remote` (the newest live one), or makes a new entry
    /// with the message queued if there is room.
    pub fn send_or_reserve(
        &self,
        remote: ConnKey,
        data: Bytes,
        new_id: impl FnOnce() -> ConnectionId,
        queue: usize,
    ) -> Routed {
        let mut t = self.inner.lock();
        let mut data = data;
        if let Some(ids) = t.by_addr.get(&remote) {
            for id in ids.iter().rev() {
                let Some(entry) = t.by_id.get(id) else {
                    continue;
                };
                match entry.tx.try_send(data) {
                    Ok(()) => return Routed::Queued,
                    Err(TrySendError::Full(_)) => return Routed::Full,
                    Err(TrySendError::Closed(d)) => data = d,
                }
            }
        }
        if t.by_id.len() >= self.max {
            return Routed::TableFull;
        }
        let (tx, rx) = mpsc::channel(queue.max(1));
        if tx.try_send(data).is_err() {
            return Routed::Full; // unreachable: a fresh queue has room
        }
        let id = new_id();
        t.insert(id, remote, tx);
        Routed::New(id, rx)
    }
}

impl Inner {
    fn insert(&mut self, id: ConnectionId, remote: ConnKey, tx: mpsc::Sender<Bytes>) {
        self.by_id.insert(id, Entry { tx, remote });
        self.by_addr.entry(remote).or_default().push(id);
    }
}
