//! The embedded RTP relay: [`EmbeddedRelay`] implements [`MediaRelay`] in-process. Each
//! relayed call takes, per media stream, two port pairs (RTP on an even port, RTCP on the
//! odd one above it) from a bounded range, one pair facing each party; the SDP each party
//! receives names the pair facing it. Packets are relayed by tasks on a small runtime of
//! the relay's own (`threads` workers), so the data plane never shares a thread with the
//! SIP core.
//!
//! The port range is shared with the media engine by binding: both take ports from the same
//! `[media] rtp_ports` through a [`media::PortPool`] each, and a port one holds fails to bind
//! for the other and is skipped. Bounded either way: a call that finds no pair free is
//! refused ([`RelayError::NoPorts`], 503).
//!
//! A call ends on [`MediaRelay::delete`] or when none of its streams carried a packet for
//! `timeout` (the dead-stream timeout); either way its tasks stop, its ports go back, and a
//! log line gives its counters.
//!
//! Not here: when to relay (the proxy), SDP details (`sdp_rewrite.rs`), the per-packet
//! work (`forward.rs`).

mod forward;
pub mod sdp_rewrite;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use media::PortPool;
use tokio::runtime::{Handle, Runtime};
use tokio::task::JoinHandle;

use crate::{
    CallKey, CallStats, MediaRelay, Profile, RelayError, RelayFuture, RelayRequest, RelayTotals,
};
use forward::{Counters, Endpoint, Kind, Pump};
use sdp_rewrite::StreamAddr;

/// How the embedded relay runs.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// Address its sockets bind to.
    pub bind_address: IpAddr,
    /// Address written in the SDP it hands out (reachable by every party).
    pub advertised_address: IpAddr,
    /// First port of the range (RTP on even ports, RTCP on the odd port above).
    pub first_port: u16,
    /// Last port of the range.
    pub last_port: u16,
    /// A call none of whose streams carried a packet for this long is ended.
    pub timeout: Duration,
    /// Worker threads of the data plane.
    pub threads: usize,
}

/// The party a stream end faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Party {
    Caller = 0,
    Callee = 1,
}

/// One media stream of a call: per party, the sockets facing it and where its packets go.
struct Stream {
    /// Per [`Party`]: the RTP port of the pair facing that party.
    ports: [u16; 2],
    /// Per [`Party`]: where that party's packets go.
    ends: [Arc<Endpoint>; 2],
}

/// One relayed call.
struct Call {
    caller_tag: String,
    callee_tag: Option<String>,
    streams: Vec<Stream>,
    tasks: Vec<JoinHandle<()>>,
    counters: Arc<Counters>,
}

struct Inner {
    cfg: EmbeddedConfig,
    pool: PortPool,
    calls: Mutex<HashMap<String, Call>>,
    /// Counters of calls that ended, and of refusals.
    ended: Mutex<RelayTotals>,
    handle: Handle,
    epoch: Instant,
}

/// The in-process media relay.
pub struct EmbeddedRelay {
    inner: Arc<Inner>,
    runtime: Option<Runtime>,
}

impl EmbeddedRelay {
    /// Starts the data plane's runtime and the dead-stream timer.
    pub fn start(cfg: EmbeddedConfig) -> Result<EmbeddedRelay, RelayError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cfg.threads.max(1))
            .thread_name("relay")
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| RelayError::Unavailable(format!("starting the relay's runtime: {e}")))?;
        let inner = Arc::new(Inner {
            pool: PortPool::new(cfg.bind_address, cfg.first_port, cfg.last_port),
            cfg,
            calls: Mutex::new(HashMap::new()),
            ended: Mutex::new(RelayTotals::default()),
            handle: runtime.handle().clone(),
            epoch: Instant::now(),
        });
        let janitor = Arc::downgrade(&inner);
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tick.tick().await;
                let Some(inner) = janitor.upgrade() else {
                    return;
                };
                inner.end_dead_calls();
            }
        });
        Ok(EmbeddedRelay {
            inner,
            runtime: Some(runtime),
        })
    }

    /// The ports of the call's stream `stream` facing the caller and the callee (tests,
    /// the bench).
    pub fn ports(&self, call_id: &str, stream: usize) -> Option<(u16, u16)> {
        let calls = self.inner.calls.lock().ok()?;
        let s = calls.get(call_id)?.streams.get(stream)?;
        Some((s.ports[0], s.ports[1]))
    }

    /// Where the relay sends the caller's and the callee's RTP of stream `stream`, once
    /// latched (None until that party's first packet).
    pub fn latched(
        &self,
        call_id: &str,
        stream: usize,
    ) -> Option<(Option<SocketAddr>, Option<SocketAddr>)> {
        let calls = self.inner.calls.lock().ok()?;
        let s = calls.get(call_id)?.streams.get(stream)?;
        Some((s.ends[0].latched_rtp(), s.ends[1].latched_rtp()))
    }

    fn relay(&self, req: RelayRequest, offer: bool) -> Result<String, RelayError> {
        if req.receiver != Profile::Rtp {
            return Err(RelayError::BadSdp(
                "the embedded relay carries plain RTP only (browsers need rtpengine)".into(),
            ));
        }
        let wanted = sdp_rewrite::parse(&req.sdp)?;
        self.inner.relay(req, offer, &wanted)
    }
}

impl Inner {
    fn relay(
        self: &Arc<Self>,
        req: RelayRequest,
        offer: bool,
        wanted: &[StreamAddr],
    ) -> Result<String, RelayError> {
        let mut calls = self.calls.lock().map_err(|_| stopped())?;
        if !calls.contains_key(&req.call.call_id) {
            if !offer {
                return Err(RelayError::UnknownCall);
            }
            let call = Call {
                caller_tag: req.call.from_tag.clone(),
                callee_tag: None,
                streams: Vec::new(),
                tasks: Vec::new(),
                counters: Arc::new(Counters::new(self.now_ms())),
            };
            calls.insert(req.call.call_id.clone(), call);
            tracing::info!(
                call_id = %req.call.call_id,
                party = %req.signalled_from,
                "relay call started"
            );
        }
        let Some(call) = calls.get_mut(&req.call.call_id) else {
            return Err(RelayError::UnknownCall);
        };
        // Who wrote this SDP: the offerer is the party whose tag is the From tag.
        let from_caller = req.call.from_tag == call.caller_tag;
        let writer = match (offer, from_caller) {
            (true, true) | (false, false) => Party::Caller,
            (true, false) | (false, true) => Party::Callee,
        };
        if writer == Party::Callee && call.callee_tag.is_none() {
            call.callee_tag = if offer {
                Some(req.call.from_tag.clone())
            } else {
                req.to_tag.clone()
            };
        }
        let mut failure = None;
        while call.streams.len() < wanted.len() {
            if let Err(e) = self.open_stream(call) {
                failure = Some((e, call.streams.is_empty()));
                break;
            }
        }
        if let Some((e, fresh)) = failure {
            if fresh {
                calls.remove(&req.call.call_id);
            }
            if let Ok(mut t) = self.ended.lock() {
                t.refused_no_ports += 1;
            }
            tracing::warn!(call_id = %req.call.call_id, error = %e, "relay: call refused");
            return Err(e);
        }
        let mut ports = Vec::with_capacity(wanted.len());
        for (stream, want) in call.streams.iter().zip(wanted) {
            if want.rtp.port() != 0 {
                stream.ends[writer as usize].signal(
                    first_destination(want.rtp, req.signalled_from),
                    first_destination(want.rtcp, req.signalled_from),
                );
            }
            let receiver = 1 - writer as usize;
            ports.push(stream.ports[receiver]);
        }
        Ok(sdp_rewrite::rewrite(
            &req.sdp,
            self.cfg.advertised_address,
            &ports,
        ))
    }

    /// Binds a stream's two port pairs and starts its four pumps.
    fn open_stream(&self, call: &mut Call) -> Result<(), RelayError> {
        let caller = self.bind_pair()?;
        let callee = match self.bind_pair() {
            Ok(p) => p,
            Err(e) => {
                self.pool.release(caller.0);
                return Err(e);
            }
        };
        let ends = [Arc::new(Endpoint::default()), Arc::new(Endpoint::default())];
        let sockets = [caller.1, callee.1];
        for kind in [Kind::Rtp, Kind::Rtcp] {
            let k = kind as usize;
            for from in [Party::Caller, Party::Callee] {
                let f = from as usize;
                let pump = Pump {
                    rx: sockets[f][k].clone(),
                    tx: sockets[1 - f][k].clone(),
                    from: ends[f].clone(),
                    to: ends[1 - f].clone(),
                    kind,
                    direction: f,
                    counters: call.counters.clone(),
                    epoch: self.epoch,
                };
                call.tasks.push(self.handle.spawn(pump.run()));
            }
        }
        call.streams.push(Stream {
            ports: [caller.0, callee.0],
            ends,
        });
        Ok(())
    }

    /// One RTP/RTCP pair of the range, as the runtime's sockets.
    #[allow(clippy::type_complexity)]
    fn bind_pair(&self) -> Result<(u16, [Arc<tokio::net::UdpSocket>; 2]), RelayError> {
        let (rtp, rtcp) = self.pool.bind_pair().map_err(|_| RelayError::NoPorts)?;
        let port = rtp.local_addr().map(|a| a.port()).unwrap_or(0);
        let _in_runtime = self.handle.enter();
        let convert = |s: StdUdpSocket| tokio::net::UdpSocket::from_std(s).map(Arc::new);
        match (convert(rtp), convert(rtcp)) {
            (Ok(a), Ok(b)) => Ok((port, [a, b])),
            (Err(e), _) | (_, Err(e)) => {
                self.pool.release(port);
                Err(RelayError::Unavailable(format!("relay socket: {e}")))
            }
        }
    }

    /// Stops a call's tasks, gives its ports back and adds its counters to the totals.
    fn teardown(&self, call: Call) -> CallStats {
        for t in &call.tasks {
            t.abort();
        }
        for s in &call.streams {
            for p in s.ports {
                self.pool.release(p);
            }
        }
        let c = &call.counters;
        let stats = CallStats {
            packets_to_callee: c.packets[0].load(Ordering::Relaxed),
            packets_to_caller: c.packets[1].load(Ordering::Relaxed),
            packets_lost: c.lost.load(Ordering::Relaxed),
            bytes_to_callee: c.bytes[0].load(Ordering::Relaxed),
            bytes_to_caller: c.bytes[1].load(Ordering::Relaxed),
        };
        if let Ok(mut t) = self.ended.lock() {
            t.calls_total += 1;
            add(&mut t, &stats);
        }
        stats
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Ends the calls whose streams are silent for longer than the timeout.
    fn end_dead_calls(&self) {
        let limit = self.cfg.timeout.as_millis() as u64;
        let now = self.now_ms();
        let dead: Vec<(String, Call)> = {
            let Ok(mut calls) = self.calls.lock() else {
                return;
            };
            let ids: Vec<String> = calls
                .iter()
                .filter(|(_, c)| {
                    now.saturating_sub(c.counters.last_packet_ms.load(Ordering::Relaxed)) > limit
                })
                .map(|(id, _)| id.clone())
                .collect();
            ids.into_iter()
                .filter_map(|id| calls.remove(&id).map(|c| (id, c)))
                .collect()
        };
        for (call_id, call) in dead {
            let s = self.teardown(call);
            if let Ok(mut t) = self.ended.lock() {
                t.calls_timed_out += 1;
            }
            tracing::warn!(
                %call_id,
                timeout_secs = self.cfg.timeout.as_secs(),
                packets_to_callee = s.packets_to_callee,
                packets_to_caller = s.packets_to_caller,
                lost = s.packets_lost,
                "relay call ended: no media"
            );
        }
    }
}

fn add(t: &mut RelayTotals, s: &CallStats) {
    t.packets += s.packets_to_callee + s.packets_to_caller;
    t.bytes += s.bytes_to_callee + s.bytes_to_caller;
    t.packets_lost += s.packets_lost;
}

fn stopped() -> RelayError {
    RelayError::Unavailable("the relay stopped".into())
}

/// Where a party's packets go before its first packet shows where it really is: what its
/// SDP says, unless that is a private address while its signalling came from elsewhere
/// (a phone behind NAT): then its signalling address, with the SDP's port.
fn first_destination(sdp: SocketAddr, signalled_from: SocketAddr) -> SocketAddr {
    if sdp.ip() != signalled_from.ip() && sdp_rewrite::is_private(sdp.ip()) {
        SocketAddr::new(signalled_from.ip(), sdp.port())
    } else {
        sdp
    }
}

impl MediaRelay for EmbeddedRelay {
    fn name(&self) -> &'static str {
        "embedded"
    }

    fn offer(&self, request: RelayRequest) -> RelayFuture<'_, String> {
        let r = self.relay(request, true);
        Box::pin(async move { r })
    }

    fn answer(&self, request: RelayRequest) -> RelayFuture<'_, String> {
        let r = self.relay(request, false);
        Box::pin(async move { r })
    }

    fn delete(&self, call: CallKey) -> RelayFuture<'_, CallStats> {
        let found = self.inner.calls.lock().ok().and_then(|mut calls| {
            let known = calls.get(&call.call_id).is_some_and(|c| {
                c.caller_tag == call.from_tag || c.callee_tag.as_deref() == Some(&call.from_tag)
            });
            if known {
                calls.remove(&call.call_id)
            } else {
                None
            }
        });
        let r = match found {
            Some(c) => {
                let s = self.inner.teardown(c);
                tracing::debug!(
                    call_id = %call.call_id,
                    packets_to_callee = s.packets_to_callee,
                    packets_to_caller = s.packets_to_caller,
                    bytes_to_callee = s.bytes_to_callee,
                    bytes_to_caller = s.bytes_to_caller,
                    lost = s.packets_lost,
                    "relay call ended"
                );
                Ok(s)
            }
            None => Err(RelayError::UnknownCall),
        };
        Box::pin(async move { r })
    }

    fn totals(&self) -> RelayTotals {
        let mut t = self.inner.ended.lock().map(|t| *t).unwrap_or_default();
        if let Ok(calls) = self.inner.calls.lock() {
            t.calls_active = calls.len() as u64;
            t.calls_total += t.calls_active;
            for c in calls.values() {
                let n = &c.counters;
                t.packets +=
                    n.packets[0].load(Ordering::Relaxed) + n.packets[1].load(Ordering::Relaxed);
                t.bytes += n.bytes[0].load(Ordering::Relaxed) + n.bytes[1].load(Ordering::Relaxed);
                t.packets_lost += n.lost.load(Ordering::Relaxed);
            }
        }
        t
    }
}

impl Drop for EmbeddedRelay {
    fn drop(&mut self) {
        // Dropping a runtime inside another's async context would panic.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests;
