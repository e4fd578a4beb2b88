//! The media relay backend chosen by `[relay] backend`, opened at start-up. For rtpengine:
//! the `ng` client, and a ping so that a wrong address or a stopped rtpengine shows in the
//! log at once rather than as 503s on the first relayed call.
//!
//! Not here: when a call is relayed (the proxy's relay stage) or the embedded relay.

use std::sync::Arc;

use relay::rtpengine::RtpEngine;

use crate::config::RelaySection;

/// Opens the rtpengine client when it is the backend (None for the embedded relay) and
/// pings it in the background. A client whose rtpengine does not answer yet is still returned: rtpengine may start
/// after us, and each request retries on its own.
pub async fn open_rtpengine(cfg: &RelaySection) -> Option<Arc<RtpEngine>> {
    let client_cfg = cfg.rtpengine_client()?;
    let addr = client_cfg.address;
    let client = match RtpEngine::connect(client_cfg).await {
        Ok(c) => Arc::new(c),
        Err(e) => {
            tracing::warn!(%addr, error = %e, "relay: cannot open a socket towards rtpengine; relayed calls get 503");
            return None;
        }
    };
    match client.ping().await {
        Ok(()) => tracing::info!(%addr, "relay: rtpengine answers (backend=rtpengine)"),
        Err(e) => {
            tracing::warn!(%addr, error = %e, "relay: rtpengine does not answer; relayed calls get 503 until it does")
        }
    }
    Some(client)
}
