//! SIP over WebSocket (RFC 7118), plain (WS) and over TLS (WSS): the listeners, the
//! HTTP upgrade (the `sip` subprotocol, the Origin check) and one task per connection
//! that hands each WebSocket message to the handler as one SIP message and writes the
//! connection's queue as WebSocket messages.
//!
//! Connections sit in the stream connection table under (WS or WSS, address), so answers
//! and requests to a browser phone's binding reach it over the connection it registered
//! from. Only clients open WebSocket connections (RFC 7118 §5): a send to a WS address
//! with no live connection fails. Not here: the TLS handshake of WSS (`tls.rs`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::Message;

use crate::peer::{ConnectionId, Peer, Received, TransportKind};
use crate::transports::Shared;

/// Bound on the HTTP upgrade.
const UPGRADE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts forever (aborted on shutdown); `kind` is WS or WSS. The connection's send
/// queue sender lives in the table only: dropping the entry ends the connection.
pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, kind: TransportKind) {
    crate::tcp::accept_each(
        listener,
        shared,
        kind,
        |shared, id, stream, remote, tx, rx| async move {
            drop(tx);
            start(&shared, id, kind, stream, remote, rx).await;
            shared.conns.remove(id);
        },
    )
    .await
}

/// TLS for WSS, then the upgrade and the connection's life.
async fn start(
    shared: &Arc<Shared>,
    id: ConnectionId,
    kind: TransportKind,
    stream: TcpStream,
    remote: SocketAddr,
    rx: mpsc::Receiver<Bytes>,
) {
    let _ = stream.set_nodelay(true);
    let Ok(local) = stream.local_addr() else {
        return;
    };
    if kind == TransportKind::Wss {
        let Some(ctx) = &shared.tls else {
            return;
        };
        match crate::tls::accept(ctx, stream).await {
            Ok(s) => serve(shared, id, kind, s, local, remote, rx).await,
            Err(e) => {
                shared.stats.tls_handshake_failures.inc();
                tracing::warn!(%remote, error = %e, "wss: tls handshake failed");
            }
        }
    } else {
        serve(shared, id, kind, stream, local, remote, rx).await;
    }
}

/// The upgrade (subprotocol `sip`, Origin allowed), then messages both ways until either
/// side closes, the connection idles out or the server shuts down.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    shared: &Arc<Shared>,
    id: ConnectionId,
    kind: TransportKind,
    stream: S,
    local: SocketAddr,
    remote: SocketAddr,
    mut rx: mpsc::Receiver<Bytes>,
) {
    let origins = shared.config.ws_origins.clone();
    // The callback's signature is tungstenite's.
    #[allow(clippy::result_large_err)]
    let check = move |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        let origin = req
            .headers()
            .get("origin")
            .and_then(|o| o.to_str().ok())
            .unwrap_or("");
        if !origin_allowed(&origins, origin) {
            let mut refusal = ErrorResponse::new(Some("origin not allowed".into()));
            *refusal.status_mut() = StatusCode::FORBIDDEN;
            return Err(refusal);
        }
        let offers_sip = req
            .headers()
            .get_all("sec-websocket-protocol")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|p| p.trim().eq_ignore_ascii_case("sip"));
        if !offers_sip {
            let mut refusal = ErrorResponse::new(Some("subprotocol sip required".into()));
            *refusal.status_mut() = StatusCode::BAD_REQUEST;
            return Err(refusal);
        }
        resp.headers_mut()
            .insert("sec-websocket-protocol", HeaderValue::from_static("sip"));
        Ok(resp)
    };
    let upgrade = tokio_tungstenite::accept_hdr_async(stream, check);
    let mut ws = match tokio::time::timeout(UPGRADE_TIMEOUT, upgrade).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            tracing::warn!(%remote, error = %e, transport = %kind, "ws: upgrade refused");
            return;
        }
        Err(_) => {
            tracing::warn!(%remote, transport = %kind, "ws: upgrade timed out");
            return;
        }
    };
    tracing::debug!(%remote, conn = id.0, transport = %kind, "ws: connected");
    let peer = Peer {
        transport: kind,
        addr: remote,
        conn: Some(id),
    };
    let max = shared.config.max_message_bytes;
    let idle = shared.config.tcp_idle_timeout;
    let mut shutdown = shared.shutdown.subscribe();
    let mut outgoing: Option<Message> = None;
    loop {
        tokio::select! {
            m = tokio::time::timeout(idle, ws.next()) => match m {
                Ok(Some(Ok(Message::Text(t)))) => deliver(shared, Bytes::copy_from_slice(t.as_bytes()), peer, local, max),
                Ok(Some(Ok(Message::Binary(b)))) => deliver(shared, b, peer, local, max),
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) => break,
                Ok(Some(Ok(_))) => {} // ping/pong: tungstenite answers pings
                Ok(Some(Err(e))) => {
                    tracing::debug!(%remote, error = %e, "ws: read error, closing");
                    break;
                }
                Err(_) => {
                    tracing::debug!(%remote, "ws: idle, closing");
                    break;
                }
            },
            out = rx.recv() => match out {
                Some(data) => {
                    let msg = match std::str::from_utf8(&data) {
                        Ok(s) => Message::text(s),
                        Err(_) => Message::binary(data),
                    };
                    outgoing = Some(msg);
                }
                None => break,
            },
            _ = shutdown.wait_for(|s| *s) => break,
        }
        if let Some(msg) = outgoing.take() {
            if let Err(e) = ws.send(msg).await {
                shared.stats.send_errors.inc();
                tracing::warn!(%remote, error = %e, "ws: write failed");
                break;
            }
            shared.stats.tcp_tx.inc();
        }
    }
    let _ = ws.close(None).await;
}

fn deliver(shared: &Shared, data: Bytes, peer: Peer, local: SocketAddr, max: usize) {
    if data.len() > max {
        shared.stats.framing_errors.inc();
        return;
    }
    shared.stats.tcp_rx.inc();
    shared.handler.on_message(Received { data, peer, local });
}

/// True when `origin` may connect: every origin when the list is empty, else an exact
/// (case-insensitive) match.
pub(crate) fn origin_allowed(allowed: &[String], origin: &str) -> bool {
    allowed.is_empty() || allowed.iter().any(|a| a.eq_ignore_ascii_case(origin))
}

#[cfg(test)]
mod tests {
    use super::origin_allowed;

    #[test]
    fn origins() {
        assert!(origin_allowed(&[], "https://evil.example"));
        let ok = vec!["https://phone.example.com".to_string()];
        assert!(origin_allowed(&ok, "https://PHONE.example.com"));
        assert!(!origin_allowed(&ok, "https://evil.example"));
        assert!(!origin_allowed(&ok, ""));
    }
}
