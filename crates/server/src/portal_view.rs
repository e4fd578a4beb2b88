//! The running server as the web portal sees it ([`portal::RunningServer`]): figures from
//! the core's status and metrics, registrations from the location table, unregistering
//! one contact, and change notices applied like the CLI's. The portal gets this narrow
//! view, never the proxy.

use std::sync::Arc;

use admin::ChangeNotice;
use async_trait::async_trait;
use model::{AddressOfRecord, Binding, Store};
use registrar::Location;
use tokio::sync::{mpsc, oneshot};

use crate::control::Command;
use crate::notices::Applier;
use crate::run::{wall_clock, CoreInput};

/// The server side of the portal's window.
pub struct PortalView {
    /// The core's queue (status and metrics are asked there).
    pub core: mpsc::Sender<CoreInput>,
    /// The in-memory registrations.
    pub location: Arc<Location>,
    /// The store (a removed registration is deleted there too).
    pub store: Arc<dyn Store>,
    /// Applies change notices to the directory, as for the CLI.
    pub applier: Arc<Applier>,
    /// Click-to-dial attempts and their progress (fed by the core loop).
    pub dials: Arc<crate::dials::Dials>,
}

impl PortalView {
    async fn ask(&self, cmd: Command) -> Option<String> {
        let (tx, rx) = oneshot::channel();
        self.core.send(CoreInput::Control(cmd, tx)).await.ok()?;
        rx.await.ok()
    }
}

/// The figures from the core's status (JSON) and metrics (Prometheus text).
pub fn figures_from(status: &str, metrics: &str) -> portal::Figures {
    let s: serde_json::Value = serde_json::from_str(status).unwrap_or_default();
    let n = |k: &str| s.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    let mut invites_total = 0;
    let mut failures = Vec::new();
    for line in metrics.lines() {
        let Some((name, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let value: u64 = value.parse().unwrap_or(0);
        if name == "switchboard_sip_requests_received_total{method=\"INVITE\"}" {
            invites_total = value;
        } else if let Some(code) = name
            .strip_prefix("switchboard_sip_responses_sent_total{code=\"")
            .and_then(|c| c.strip_suffix("\"}"))
            .and_then(|c| c.parse::<u16>().ok())
        {
            // Challenges are how digest works, not failures.
            if code >= 400 && code != 401 && code != 407 && value > 0 {
                failures.push((code, value));
            }
        }
    }
    failures.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    portal::Figures {
        registered: n("registered_contacts"),
        calls_in_setup: n("calls_in_setup"),
        calls_up: n("dialogs_active"),
        invites_total,
        failures,
    }
}

/// The core's `gateways` answer (a JSON array, as `gateway list` reads it) as the
/// portal's rows.
pub fn gateway_health_from(answer: &str) -> Vec<portal::GatewayHealth> {
    use serde_json::Value;
    let all: Vec<Value> = serde_json::from_str(answer).unwrap_or_default();
    all.into_iter()
        .filter_map(|h| {
            let n = |k: &str| h.get(k).and_then(Value::as_u64).unwrap_or(0);
            let last_answer = match (
                h.get("last_answer_status").and_then(Value::as_u64),
                h.get("last_answer").and_then(Value::as_u64),
            ) {
                (Some(status), Some(at)) => Some((u16::try_from(status).unwrap_or(0), at)),
                _ => None,
            };
            Some(portal::GatewayHealth {
                name: h.get("name")?.as_str()?.to_owned(),
                up: h.get("up").and_then(Value::as_bool).unwrap_or(true),
                probed: h.get("probed").and_then(Value::as_bool).unwrap_or(false),
                failed_probes: n("failed_probes"),
                last_answer,
                attempts: n("attempts"),
                answers: n("answers"),
                failed: h
                    .get("failures")
                    .and_then(Value::as_object)
                    .map_or(0, |m| m.values().filter_map(Value::as_u64).sum()),
            })
        })
        .collect()
}

#[async_trait]
impl portal::RunningServer for PortalView {
    async fn figures(&self) -> Option<portal::Figures> {
        let status = self.ask(Command::Status).await?;
        let metrics = self.ask(Command::Metrics).await?;
        Some(figures_from(&status, &metrics))
    }

    fn bindings(&self, aor: Option<&AddressOfRecord>) -> Vec<Binding> {
        let now = wall_clock();
        match aor {
            Some(a) => self.location.lookup(a, now),
            None => self.location.all(now),
        }
    }

    async fn unregister(&self, aor: &AddressOfRecord, contact: &str) -> bool {
        // As `location del` does: first the write-behind writes what it holds (the
        // binding's own save among it), then memory and the store lose the contact, so a
        // save still queued cannot bring it back.
        if self.ask(Command::Flush).await.is_none() {
            return false;
        }
        let removed = self.location.try_update(aor, |list| {
            let before = list.len();
            list.retain(|b| b.contact != contact);
            Ok::<bool, ()>(list.len() < before)
        });
        if !matches!(removed, Ok(Ok(true))) {
            return false;
        }
        proxy::oplog::registration(
            proxy::oplog::RegistrationAction::Removed,
            &aor.to_string(),
            contact,
            &"portal",
            0,
        );
        if let Err(e) = self.store.delete_binding(aor, contact).await {
            tracing::warn!(error = %e, %aor, "portal: deleting a registration from the store");
        }
        true
    }

    async fn click_to_dial(
        &self,
        user: &AddressOfRecord,
        target: &str,
        phone: Option<&str>,
    ) -> Result<u64, portal::DialRefused> {
        if target.is_empty() || target.contains(char::is_whitespace) {
            return Err(portal::DialRefused::BadTarget);
        }
        if phone.is_some_and(|p| p.is_empty() || p.contains(char::is_whitespace)) {
            return Err(portal::DialRefused::NoPhone);
        }
        // The attempt exists before the REFER leaves, so its answer always finds it.
        let id = self.dials.begin(user, target, "");
        let cmd = Command::ClickToDial {
            user: user.clone(),
            target: target.to_string(),
            id,
            phone: phone.map(str::to_string),
        };
        let answer = self.ask(cmd).await;
        let refused = match answer.as_deref() {
            Some(a) if a.starts_with("ok ") => {
                self.dials.set_phone(id, &a[3..]);
                return Ok(id);
            }
            Some("error: no-phone") => portal::DialRefused::NoPhone,
            Some("error: bad-target") => portal::DialRefused::BadTarget,
            _ => portal::DialRefused::Busy,
        };
        self.dials.forget(id);
        Err(refused)
    }

    fn dial_progress(&self, user: &AddressOfRecord, id: u64) -> Option<portal::DialProgress> {
        self.dials.progress(user, id)
    }

    async fn gateway_health(&self) -> Option<Vec<portal::GatewayHealth>> {
        let answer = self.ask(Command::Gateways).await?;
        Some(gateway_health_from(&answer))
    }

    async fn apply(&self, notices: &[ChangeNotice]) {
        for n in notices {
            if let Err(e) = self.applier.apply(n).await {
                tracing::warn!(error = %e, notice = %n.to_line(), "portal: applying a change");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn figures_come_from_status_and_metrics() {
        let status = r#"{"registered_contacts":3,"calls_in_setup":1,"dialogs_active":2}"#;
        let metrics = "switchboard_sip_requests_received_total{method=\"INVITE\"} 40\n\
                       switchboard_sip_responses_sent_total{code=\"407\"} 9\n\
                       switchboard_sip_responses_sent_total{code=\"486\"} 2\n\
                       switchboard_sip_responses_sent_total{code=\"480\"} 5\n\
                       switchboard_sip_responses_sent_total{code=\"200\"} 30\n";
        let f = super::figures_from(status, metrics);
        assert_eq!((f.registered, f.calls_in_setup, f.calls_up), (3, 1, 2));
        assert_eq!(f.invites_total, 40);
        assert_eq!(f.failures, vec![(480, 5), (486, 2)]);
    }

    #[test]
    fn gateway_health_reads_the_cores_answer() {
        let answer = r#"[
{"name":"a","up":false,"probed":true,"failed_probes":3,"last_answer_status":200,"last_answer":900,"attempts":4,"answers":1,"failures":{"503":2,"408":1}}
]"#;
        let h = super::gateway_health_from(answer);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].name, "a");
        assert!(!h[0].up && h[0].probed);
        assert_eq!(h[0].last_answer, Some((200, 900)));
        assert_eq!((h[0].attempts, h[0].answers, h[0].failed), (4, 1, 3));
    }
}
