//! `[metrics]`: where the Prometheus endpoint listens. Serving it is `crate::metrics`' job.

use std::net::SocketAddr;

use serde::Deserialize;

/// `[metrics]`: the Prometheus endpoint.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSection {
    /// Address of the HTTP endpoint serving `GET /metrics`, e.g. "127.0.0.1:9090". Off when
    /// absent.
    pub listen: Option<SocketAddr>,
}
