//! The control socket: how the CLI tells a running server that the store changed, and asks
//! it for its figures. A Unix stream socket in the data directory, one line per request.
//! An answer is one line, or, when it has several (`gateways`, `metrics`), a frame: the
//! line `frame N` and then exactly N bytes ([`send`] reads both).
//!
//! Change notices (`changed user added alice@example.com`) and `reload` are applied in the
//! connection's task ([`crate::notices`]): the store is read there, never in the core task,
//! so a change made while calls run does not delay them. Everything else that needs the
//! proxy's state goes to the core as [`CoreInput::Control`].

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use std::sync::Arc;

use admin::ChangeNotice;
use model::AddressOfRecord;
use proxy::{BanTarget, Proxy, StaticDirectory};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use transport::Transports;

use crate::notices::Applier;
use crate::run::CoreInput;

/// A request to the running server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Anything may have changed (a bulk import): reload the whole directory.
    Reload,
    /// One entity changed: re-read it.
    Changed(ChangeNotice),
    /// Drop bindings from memory (the CLI already removed them from the store).
    ClearLocation(Option<AddressOfRecord>),
    /// Headline figures as JSON.
    Status,
    /// Every gateway's health (up/down, probes, last answer, counters): a JSON array,
    /// one gateway a line (a framed answer).
    Gateways,
    /// Prometheus text (multi-line; used by the metrics endpoint, not the socket).
    Metrics,
    /// Write the binding changes gathered by the write-behind task now; answered once they
    /// are in the database (the CLI reads and deletes bindings there).
    Flush,
    /// The bans in force, as a JSON array.
    Bans,
    /// Lift every ban naming an address or a user@domain; answered `ok N`.
    Unban(String),
    /// Write the log line `log mark token=TOKEN`. Log lines go through a queue to their own
    /// writer thread (`logs.rs`); once this line is in the log, so is every line before it.
    /// Tests use it before reading the log.
    LogMark(String),
    /// A mailbox's message counts (read from the store after a `mailbox` notice): the
    /// proxy NOTIFYs message-waiting subscribers when they changed.
    MailboxCounts(AddressOfRecord, model::MessageCounts),
    /// The conference bridge's rooms and participants, as a JSON array (answered in the
    /// connection's task: the rooms are the service host's, not the core's).
    Conferences,
    /// Click-to-dial from the portal: a REFER to the user's phone asking it to call the
    /// target (a `sip:` URI), its answer reported under the attempt's number; answered
    /// `ok CONTACT` (the phone it went to) or `error: WHY`.
    ClickToDial {
        /// The user who asked.
        user: AddressOfRecord,
        /// The URI the phone is to call.
        target: String,
        /// The attempt's number (`dials.rs`).
        id: u64,
        /// The registered contact the user chose; None: their first phone.
        phone: Option<String>,
    },
}

impl Command {
    fn parse(line: &str) -> Option<Command> {
        let mut parts = line.split_whitespace();
        match parts.next()? {
            "reload" => Some(Command::Reload),
            "changed" => {
                let rest: Vec<&str> = parts.collect();
                ChangeNotice::parse(&rest.join(" ")).map(Command::Changed)
            }
            "status" => Some(Command::Status),
            "gateways" => Some(Command::Gateways),
            "metrics" => Some(Command::Metrics),
            "flush" => Some(Command::Flush),
            "bans" => Some(Command::Bans),
            "conferences" => Some(Command::Conferences),
            "unban" => parts.next().map(|t| Command::Unban(t.to_string())),
            "log-mark" => parts.next().map(|t| Command::LogMark(t.to_string())),
            "mailbox-counts" => {
                let aor = AddressOfRecord::parse(parts.next()?)?;
                let new = parts.next()?.parse().ok()?;
                let old = parts.next()?.parse().ok()?;
                Some(Command::MailboxCounts(
                    aor,
                    model::MessageCounts { new, old },
                ))
            }
            "click-to-dial" => {
                let user = AddressOfRecord::parse(parts.next()?)?;
                let target = parts.next()?.to_string();
                let id = parts.next()?.parse().ok()?;
                let phone = parts.next().map(str::to_string);
                Some(Command::ClickToDial {
                    user,
                    target,
                    id,
                    phone,
                })
            }
            "clear-location" => match parts.next() {
                None | Some("*") => Some(Command::ClearLocation(None)),
                Some(a) => AddressOfRecord::parse(a).map(|a| Command::ClearLocation(Some(a))),
            },
            _ => None,
        }
    }

    fn to_line(&self) -> String {
        match self {
            Command::Reload => "reload".into(),
            Command::Changed(n) => format!("changed {}", n.to_line()),
            Command::Status => "status".into(),
            Command::Gateways => "gateways".into(),
            Command::Metrics => "metrics".into(),
            Command::Flush => "flush".into(),
            Command::Bans => "bans".into(),
            Command::Conferences => "conferences".into(),
            Command::Unban(t) => format!("unban {t}"),
            Command::LogMark(t) => format!("log-mark {t}"),
            Command::ClearLocation(None) => "clear-location *".into(),
            Command::ClearLocation(Some(a)) => format!("clear-location {a}"),
            Command::MailboxCounts(a, c) => format!("mailbox-counts {a} {} {}", c.new, c.old),
            Command::ClickToDial {
                user,
                target,
                id,
                phone,
            } => match phone {
                Some(p) => format!("click-to-dial {user} {target} {id} {p}"),
                None => format!("click-to-dial {user} {target} {id}"),
            },
        }
    }
}

/// Listens on `path`; applies notices and reloads through `applier` in the connection's
/// task, and forwards other commands to the core.
pub async fn serve(
    path: PathBuf,
    core: mpsc::Sender<CoreInput>,
    applier: Arc<Applier>,
) -> anyhow::Result<JoinHandle<()>> {
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    // Only the server's own user may drive it (reload, clear registrations).
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let core = core.clone();
            let applier = applier.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut lines = BufReader::new(r).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let answer = match Command::parse(&line) {
                        Some(Command::Changed(notice)) => match applier.apply(&notice).await {
                            // A mailbox's messages may have changed: its counts go to the
                            // core for message-waiting NOTIFYs (read here, off the core).
                            Ok(()) => match &notice {
                                ChangeNotice::Mailbox(aor, _) => {
                                    mailbox_counts_to_core(&applier, &core, aor).await
                                }
                                _ => "ok".into(),
                            },
                            Err(e) => format!("error: {e}"),
                        },
                        Some(Command::LogMark(token)) => {
                            tracing::info!(target: "switchboard::control", %token, "log mark");
                            "ok".into()
                        }
                        Some(Command::Conferences) => crate::cli::conference_rooms_json(),
                        Some(Command::Reload) => match applier.reload().await {
                            Ok(()) => "ok".into(),
                            Err(e) => format!("error: {e}"),
                        },
                        Some(cmd) => {
                            let (tx, rx) = oneshot::channel();
                            if core.send(CoreInput::Control(cmd, tx)).await.is_err() {
                                break;
                            }
                            rx.await.unwrap_or_else(|_| "error: server stopping".into())
                        }
                        None => format!("error: unknown command {line:?}"),
                    };
                    if w.write_all(&frame(&answer)).await.is_err() {
                        break;
                    }
                }
            });
        }
    }))
}

/// An answer as it goes on the socket: one line, or `frame N` and N bytes when it has
/// line breaks of its own.
fn frame(answer: &str) -> Vec<u8> {
    if answer.contains('\n') {
        let mut out = format!("frame {}\n", answer.len()).into_bytes();
        out.extend_from_slice(answer.as_bytes());
        out
    } else {
        format!("{answer}\n").into_bytes()
    }
}

/// A mailbox's messages changed (a CLI notice, or the voicemail service after a deposit,
/// save or delete): reads its counts from the store here, off the core, and hands them to
/// the core, whose proxy NOTIFYs message-waiting subscribers. Answers `ok` or the error.
pub async fn mailbox_counts_to_core(
    applier: &Applier,
    core: &mpsc::Sender<CoreInput>,
    aor: &AddressOfRecord,
) -> String {
    let counts = match applier.message_counts(aor).await {
        Ok(c) => c,
        Err(e) => return format!("error: {e}"),
    };
    let (tx, rx) = oneshot::channel();
    let cmd = Command::MailboxCounts(aor.clone(), counts);
    if core.send(CoreInput::Control(cmd, tx)).await.is_err() {
        return "error: server stopping".into();
    }
    rx.await.unwrap_or_else(|_| "error: server stopping".into())
}

/// Runs a command inside the core task (without awaiting anything).
pub fn execute(
    cmd: Command,
    now: std::time::Duration,
    proxy: &mut Proxy,
    directory: &StaticDirectory,
    transports: &Transports,
    drops: &crate::run::Drops,
) -> String {
    match cmd {
        // The connection task applies these, and the core loop hands Flush to the
        // write-behind task; neither is reached here.
        Command::Reload
        | Command::Changed(_)
        | Command::Flush
        | Command::LogMark(_)
        | Command::Conferences => "ok".into(),
        Command::Bans => {
            let bans: Vec<serde_json::Value> = proxy
                .bans(now)
                .into_iter()
                .map(|b| {
                    serde_json::json!({
                        "kind": b.kind,
                        "source": b.source.map(|ip| ip.to_string()),
                        "user": b.user,
                        "reason": b.reason,
                        "remaining_secs": b.remaining_secs,
                    })
                })
                .collect();
            serde_json::Value::Array(bans).to_string()
        }
        Command::Unban(target) => match BanTarget::parse(&target) {
            Some(t) => format!("ok {}", proxy.unban(&t)),
            None => format!("error: {target:?} is neither an IP address nor user@domain"),
        },
        Command::MailboxCounts(aor, counts) => {
            proxy.mailbox_changed(now, crate::run::wall_clock(), &aor, counts);
            "ok".into()
        }
        Command::ClickToDial {
            user,
            target,
            id,
            phone,
        } => {
            let wall = crate::run::wall_clock();
            match proxy.click_to_dial(now, wall, &user, &target, phone.as_deref(), id) {
                Ok(contact) => format!("ok {contact}"),
                Err(proxy::ReferRefused::NoPhone) => "error: no-phone".into(),
                Err(proxy::ReferRefused::BadTarget) => "error: bad-target".into(),
                Err(proxy::ReferRefused::NotSent) => "error: not-sent".into(),
            }
        }
        Command::ClearLocation(aor) => {
            let n = proxy.registrar().location().clear(aor.as_ref());
            let who = aor
                .as_ref()
                .map_or_else(|| "*".to_string(), |a| a.to_string());
            proxy::oplog::registration(
                proxy::oplog::RegistrationAction::Removed,
                &who,
                "*",
                &"admin",
                0,
            );
            format!("ok {n}")
        }
        Command::Metrics => {
            let mut out = String::with_capacity(8192);
            proxy.render_metrics(now, &mut out);
            let t = transports.stats();
            out.push_str("# HELP switchboard_transport_messages_total SIP messages by transport and direction.\n");
            out.push_str("# TYPE switchboard_transport_messages_total counter\n");
            for (tr, dir, v) in [
                ("udp", "rx", t.udp_rx),
                ("udp", "tx", t.udp_tx),
                ("tcp", "rx", t.tcp_rx),
                ("tcp", "tx", t.tcp_tx),
            ] {
                out.push_str(&format!("switchboard_transport_messages_total{{transport=\"{tr}\",direction=\"{dir}\"}} {v}\n"));
            }
            out.push_str(&format!(
                "# HELP switchboard_stun_keepalives_answered_total STUN Binding requests answered on the SIP UDP port (RFC 5626 keep-alives).\n# TYPE switchboard_stun_keepalives_answered_total counter\nswitchboard_stun_keepalives_answered_total {}\n",
                t.stun_answered
            ));
            out.push_str(&format!(
                "# HELP switchboard_tls_handshake_failures_total TLS handshakes that failed (a certificate refused, a peer not speaking TLS, a timeout).\n# TYPE switchboard_tls_handshake_failures_total counter\nswitchboard_tls_handshake_failures_total {}\n",
                t.tls_handshake_failures
            ));
            out.push_str(&format!(
                "# HELP switchboard_voicemail_mailboxes Users with voicemail enabled.\n# TYPE switchboard_voicemail_mailboxes gauge\nswitchboard_voicemail_mailboxes {}\n",
                directory.voicemail_count()
            ));
            out.push_str(&format!(
                "# HELP switchboard_tcp_connections Open TCP connections.\n# TYPE switchboard_tcp_connections gauge\nswitchboard_tcp_connections {}\n",
                transports.connection_count()
            ));
            out.push_str(&format!(
                "switchboard_dropped_total{{reason=\"core_queue_full\"}} {}\nswitchboard_dropped_total{{reason=\"queue_delay\"}} {}\nswitchboard_dropped_total{{reason=\"framing_error\"}} {}\nswitchboard_dropped_total{{reason=\"refused_connection\"}} {}\nswitchboard_dropped_total{{reason=\"send_error\"}} {}\n",
                drops.core_queue_full.load(Ordering::Relaxed),
                drops.queue_delay.load(Ordering::Relaxed),
                t.framing_errors,
                t.refused_connections,
                t.send_errors
            ));
            out.push_str(&format!(
                "# HELP switchboard_log_lines_dropped_total Log lines dropped because the log writer fell behind.\n# TYPE switchboard_log_lines_dropped_total counter\nswitchboard_log_lines_dropped_total {}\n",
                crate::logs::dropped()
            ));
            crate::media_host::render_metrics(&mut out);
            crate::relay_host::render_metrics(&mut out, proxy.relayed_calls());
            crate::cdr::render_metrics(&mut out);
            portal::render_metrics(&mut out);
            out
        }
        Command::Gateways => gateways_json(proxy, now),
        Command::Status => {
            let s = proxy.stats();
            let t = transports.stats();
            let (domains, users, aliases) = directory.counts();
            let (pinholes, keepalives_sent, keepalives_failed) = proxy.keepalive_counts();
            serde_json::json!({
                "transactions": proxy.transactions(),
                "nat_keepalive_pinholes": pinholes,
                "nat_keepalives_sent": keepalives_sent,
                "nat_keepalives_failed": keepalives_failed,
                "calls_in_setup": proxy.forks(),
                "dialogs_active": proxy.dialogs_active(now),
                "relayed_calls": proxy.relayed_calls(),
                "relay_calls_total": crate::relay_host::totals().calls_total,
                "relay_packets": crate::relay_host::totals().packets,
                "registered_contacts": proxy.registrar().location().len(),
                "requests": s.requests,
                "responses": s.responses,
                "parse_errors": s.parse_errors,
                "overloaded": s.overloaded,
                "registrations": s.registrations,
                "calls_answered": s.calls_answered,
                "dropped_core_queue_full": drops.core_queue_full.load(Ordering::Relaxed),
                "dropped_queue_delay": drops.queue_delay.load(Ordering::Relaxed),
                "tcp_connections": transports.connection_count(),
                "udp_rx": t.udp_rx, "udp_tx": t.udp_tx, "tcp_rx": t.tcp_rx, "tcp_tx": t.tcp_tx,
                "tls_handshake_failures": t.tls_handshake_failures,
                "domains": domains, "users": users, "aliases": aliases,
                "mailboxes": directory.voicemail_count(),
                "mwi_subscriptions": proxy.mwi_subscriptions(),
            })
            .to_string()
        }
    }
}

/// Every gateway's health as a JSON array, one gateway a line. `last_answer` is the Unix
/// time of the last probe answered.
fn gateways_json(proxy: &Proxy, now: std::time::Duration) -> String {
    let wall = crate::run::wall_clock();
    let lines: Vec<String> = proxy
        .gateway_health(now)
        .into_iter()
        .map(|h| {
            let failures: serde_json::Map<String, serde_json::Value> = h
                .failures
                .iter()
                .map(|&(cause, n)| (cause.to_string(), n.into()))
                .collect();
            serde_json::json!({
                "name": h.name,
                "up": h.up,
                "probed": h.probed,
                "failed_probes": h.failed_probes,
                "last_answer_status": h.last_answer_status,
                "last_answer": h.last_answer_ago.map(|ago| wall.saturating_sub(ago.as_secs())),
                "attempts": h.attempts,
                "answers": h.answers,
                "failures": failures,
            })
            .to_string()
        })
        .collect();
    format!("[\n{}\n]", lines.join(",\n"))
}

/// The largest framed answer [`send`] accepts (a metrics text with many gateways is far
/// below it).
const MAX_FRAME: usize = 16 << 20;

/// Sends a command to a running server. `Ok(None)` when no server is running.
pub async fn send(path: &Path, cmd: &Command) -> anyhow::Result<Option<String>> {
    let stream = match UnixStream::connect(path).await {
        Ok(s) => s,
        Err(_) => return Ok(None),
    };
    let (r, mut w) = stream.into_split();
    w.write_all(format!("{}\n", cmd.to_line()).as_bytes())
        .await?;
    let mut r = BufReader::new(r);
    let mut line = String::new();
    if r.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let line = line.trim_end_matches(['\r', '\n']);
    let Some(len) = line.strip_prefix("frame ") else {
        return Ok(Some(line.to_string()));
    };
    let len: usize = len
        .parse()
        .ok()
        .filter(|&n| n <= MAX_FRAME)
        .ok_or_else(|| anyhow::anyhow!("the server sent a bad frame header: {line:?}"))?;
    let mut body = vec![0; len];
    r.read_exact(&mut body).await?;
    Ok(Some(String::from_utf8(body)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip() {
        for c in [
            Command::Reload,
            Command::Changed(ChangeNotice::User(
                AddressOfRecord::new("alice", "example.com"),
                admin::Change::Removed,
            )),
            Command::Changed(ChangeNotice::Domain(
                "example.com".into(),
                admin::Change::Added,
            )),
            Command::Status,
            Command::Gateways,
            Command::Flush,
            Command::Bans,
            Command::Unban("192.0.2.7".into()),
            Command::Unban("alice@example.com".into()),
            Command::ClearLocation(None),
            Command::ClearLocation(AddressOfRecord::parse("alice@example.com")),
            Command::MailboxCounts(
                AddressOfRecord::new("alice", "example.com"),
                model::MessageCounts { new: 1, old: 2 },
            ),
            Command::ClickToDial {
                user: AddressOfRecord::new("alice", "example.com"),
                target: "sip:2000@example.com".into(),
                id: 7,
                phone: None,
            },
            Command::ClickToDial {
                user: AddressOfRecord::new("alice", "example.com"),
                target: "sip:2000@example.com".into(),
                id: 8,
                phone: Some("sip:alice@127.0.0.1:5062;transport=tcp".into()),
            },
        ] {
            assert_eq!(Command::parse(&c.to_line()), Some(c));
        }
        assert_eq!(Command::parse("bogus"), None);
        assert_eq!(Command::parse("gateways"), Some(Command::Gateways));
        assert_eq!(Command::parse("changed user added"), None);
    }

    /// A one-line answer and a framed multi-line answer both reach the caller whole, and
    /// the connection stays usable for the next request.
    #[tokio::test]
    async fn answers_are_lines_or_frames() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctl");
        let listener = UnixListener::bind(&path).unwrap();
        let server = tokio::spawn(async move {
            for answer in ["ok", "[\n{\"a\":1},\n{\"b\":2}\n]"] {
                let (stream, _) = listener.accept().await.unwrap();
                let (r, mut w) = stream.into_split();
                let mut lines = BufReader::new(r).lines();
                lines.next_line().await.unwrap();
                w.write_all(&frame(answer)).await.unwrap();
            }
        });
        assert_eq!(
            send(&path, &Command::Status).await.unwrap().as_deref(),
            Some("ok")
        );
        let multi = send(&path, &Command::Gateways).await.unwrap().unwrap();
        assert_eq!(multi, "[\n{\"a\":1},\n{\"b\":2}\n]");
        server.await.unwrap();
        assert_eq!(frame("ok"), b"ok\n");
        assert!(frame("a\nb").starts_with(b"frame 3\na\nb"));
    }
}
