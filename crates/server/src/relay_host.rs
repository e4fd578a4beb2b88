//! Starting the media relay chosen by `[relay]` for `switchboard run`, running the proxy's
//! relay queries against it (offers and answers off the core task) and ending relayed
//! calls' media, with a log line per call and the relay's metrics.
//!
//! Not here: when a call is relayed (the proxy's relay stage), the relay itself (the
//! `relay` crate).

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use relay::{CallKey, MediaRelay, Profile, RelayRequest};

use crate::config::Config;

/// The running relay, for metrics and status.
static RELAY: Mutex<Option<Arc<dyn MediaRelay>>> = Mutex::new(None);

/// Starts the relay `[relay]` names; None when `mode = "never"`. `rtpengine` is the `ng`
/// client opened by `relay_backend.rs` when `backend = "rtpengine"`.
pub fn start(
    cfg: &Config,
    local: &[IpAddr],
    rtpengine: Option<Arc<relay::rtpengine::RtpEngine>>,
) -> anyhow::Result<Option<Arc<dyn MediaRelay>>> {
    if cfg.relay.mode() == proxy::RelayMode::Never {
        return Ok(None);
    }
    if cfg.relay.backend == "rtpengine" {
        let Some(client) = rtpengine else {
            anyhow::bail!("relay.rtpengine: no socket towards rtpengine could be opened");
        };
        tracing::info!(
            backend = "rtpengine",
            mode = %cfg.relay.mode,
            rtpengine = ?cfg.relay.rtpengine,
            "media relay ready"
        );
        let r: Arc<dyn MediaRelay> = client;
        if let Ok(mut g) = RELAY.lock() {
            *g = Some(r.clone());
        }
        return Ok(Some(r));
    }
    let ecfg = cfg.relay.to_embedded(&cfg.media, local)?;
    tracing::info!(
        backend = "embedded",
        mode = %cfg.relay.mode,
        rtp_ports = %format!("{}-{}", ecfg.first_port, ecfg.last_port),
        advertised = %ecfg.advertised_address,
        "media relay ready"
    );
    let r: Arc<dyn MediaRelay> = Arc::new(
        relay::embedded::EmbeddedRelay::start(ecfg)
            .map_err(|e| anyhow::anyhow!("starting the media relay: {e}"))?,
    );
    if let Ok(mut g) = RELAY.lock() {
        *g = Some(r.clone());
    }
    Ok(Some(r))
}

/// Forgets the running relay (shutdown).
pub fn stop() {
    if let Ok(mut g) = RELAY.lock() {
        *g = None;
    }
}

/// Runs an offer or answer of the proxy's relay stage.
pub async fn run_query(relay: &dyn MediaRelay, q: &proxy::RelayQuery) -> proxy::QueryAnswer {
    let request = RelayRequest {
        call: CallKey {
            call_id: q.call_id.clone(),
            from_tag: q.from_tag.clone(),
        },
        to_tag: q.to_tag.clone(),
        sdp: q.sdp.clone(),
        signalled_from: q.signalled_from,
        receiver: match q.receiver {
            proxy::MediaProfile::Rtp => Profile::Rtp,
            proxy::MediaProfile::WebRtc => Profile::WebRtc,
        },
    };
    let result = match q.op {
        proxy::RelayOp::Offer => relay.offer(request).await,
        proxy::RelayOp::Answer => relay.answer(request).await,
    };
    match result {
        Ok(sdp) => proxy::QueryAnswer::Sdp(sdp),
        Err(e) => proxy::QueryAnswer::Refused {
            status: e.status(),
            reason: e.to_string(),
        },
    }
}

/// Ends a relayed call's media, and logs its counters.
pub async fn delete(relay: &dyn MediaRelay, d: &proxy::RelayDelete) {
    let key = CallKey {
        call_id: d.call_id.clone(),
        from_tag: d.from_tag.clone(),
    };
    match relay.delete(key).await {
        Ok(s) => tracing::info!(
            call_id = %d.call_id,
            backend = relay.name(),
            packets_to_callee = s.packets_to_callee,
            packets_to_caller = s.packets_to_caller,
            bytes_to_callee = s.bytes_to_callee,
            bytes_to_caller = s.bytes_to_caller,
            lost = s.packets_lost,
            "relay call ended"
        ),
        // Ended already by the dead-stream timeout (logged then).
        Err(relay::RelayError::UnknownCall) => {}
        Err(e) => tracing::warn!(call_id = %d.call_id, error = %e, "relay: delete failed"),
    }
}

/// The relay's totals (zeros without a relay), for `switchboard status`.
pub fn totals() -> relay::RelayTotals {
    RELAY
        .lock()
        .ok()
        .and_then(|g| g.as_ref().map(|r| r.totals()))
        .unwrap_or_default()
}

/// Appends the relay's metrics; `relayed_calls` is the proxy's table of relayed calls.
pub fn render_metrics(out: &mut String, relayed_calls: usize) {
    let t = totals();
    let lines: [(&str, &str, &str, u64); 8] = [
        (
            "switchboard_relay_calls",
            "gauge",
            "Calls whose media the relay carries (bounded by the relay's port range).",
            t.calls_active,
        ),
        (
            "switchboard_relay_calls_signalled",
            "gauge",
            "Relayed calls the proxy follows (bounded by MAX_RELAYED_CALLS).",
            relayed_calls as u64,
        ),
        (
            "switchboard_relay_calls_total",
            "counter",
            "Calls relayed since start.",
            t.calls_total,
        ),
        (
            "switchboard_relay_calls_timed_out_total",
            "counter",
            "Relayed calls ended by [relay] timeout_secs without media.",
            t.calls_timed_out,
        ),
        (
            "switchboard_relay_refused_total",
            "counter",
            "Offers refused for want of relay ports.",
            t.refused_no_ports,
        ),
        (
            "switchboard_relay_packets_total",
            "counter",
            "RTP packets relayed, both directions.",
            t.packets,
        ),
        (
            "switchboard_relay_bytes_total",
            "counter",
            "RTP bytes relayed, both directions.",
            t.bytes,
        ),
        (
            "switchboard_relay_packets_lost_total",
            "counter",
            "RTP packets lost before reaching the relay (sequence gaps).",
            t.packets_lost,
        ),
    ];
    for (name, kind, help, v) in lines {
        let _ = write!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}\n"
        );
    }
}
