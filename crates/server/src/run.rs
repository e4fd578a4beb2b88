//! `switchboard run`: wires the store, the location table, the proxy core and the
//! transports together, and shuts them down gracefully.
//!
//! Threads of control: transport tasks receive and frame bytes and hand them to the core
//! through a bounded queue; one core task owns the [`Proxy`] (a sans-IO state machine) and
//! its timers; a writer task persists binding changes behind the core, in batches; another
//! builds and writes call records from the proxy's call events (`cdr`); a purge task
//! expires bindings; the control socket serves the CLI; the web portal (`[portal]`)
//! serves browsers.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use model::Store;
use proxy::{Proxy, ProxyConfig, ProxyMode, StaticDirectory};
use registrar::{Location, Registrar, RegistrarConfig};
use storage::SqlStore;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::SendError;
use transport::{TransportConfig, Transports};

use crate::config::Config;
use crate::control;
use crate::core_input::{starts_new_work, CoreFeed};
pub use crate::core_input::{CoreInput, Drops};
use crate::startup::{redact, reload_directory, seed_demo, seed_portal_admin};
use crate::write_behind::{write_behind, WriterInput};

/// Unix time in seconds.
pub fn wall_clock() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Runs the server until SIGINT/SIGTERM.
pub async fn run(cfg: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&cfg.server.data_dir)
        .with_context(|| format!("creating data directory {}", cfg.server.data_dir.display()))?;
    let url = cfg.database_url();
    let store = Arc::new(
        SqlStore::connect(&url, cfg.database.max_connections.unwrap_or(8))
            .await
            .with_context(|| format!("opening database {}", redact(&url)))?,
    );
    tracing::info!(backend = store.backend_name(), "database ready");
    if cfg.server.demo {
        seed_demo(&store).await?;
        seed_portal_admin(&store).await?;
    }

    let directory = Arc::new(StaticDirectory::new());
    reload_directory(store.as_ref(), &directory).await?;
    let (d, u, a) = directory.counts();
    tracing::info!(domains = d, users = u, aliases = a, "directory loaded");

    let location = Arc::new(Location::new(cfg.registrar.max_bindings));
    let wall = wall_clock();
    let loaded = location.load(store.bindings(None, wall).await?, wall);
    tracing::info!(bindings = loaded, "location table loaded");

    // Transports first: with port 0 the advertised port comes from the bound socket.
    let listens = cfg.listens()?;
    let (core_tx, mut core_rx) = mpsc::channel::<CoreInput>(cfg.server.core_queue);
    let drops = Arc::new(Drops::default());
    let max_queue_delay = Duration::from_millis(cfg.server.max_queue_delay_ms);
    let tls_context = crate::tls_files::load(&cfg, &listens)?;
    let of_kind = |kind: transport::TransportKind| -> Vec<std::net::SocketAddr> {
        listens
            .iter()
            .filter(|l| l.kind == kind)
            .map(|l| l.addr)
            .collect()
    };
    let tcfg = TransportConfig {
        udp: of_kind(transport::TransportKind::Udp),
        tcp: of_kind(transport::TransportKind::Tcp),
        tls: of_kind(transport::TransportKind::Tls),
        tls_context: tls_context.clone(),
        ws: of_kind(transport::TransportKind::Ws),
        wss: of_kind(transport::TransportKind::Wss),
        ws_origins: cfg.sip.ws_origins.clone(),
        udp_workers: cfg.udp_sockets(),
        max_connections: cfg.sip.max_connections,
        tcp_idle_timeout: Duration::from_secs(cfg.sip.tcp_idle_timeout_secs),
        max_message_bytes: cfg.sip.max_message_bytes,
        ..TransportConfig::default()
    };
    let transports = Transports::start(
        tcfg,
        Arc::new(CoreFeed {
            tx: core_tx.clone(),
            drops: drops.clone(),
        }),
    )
    .await
    .context("binding SIP sockets")?;
    let bound = transports.local_addrs();
    for (kind, addr) in &bound {
        tracing::info!(transport = %kind, %addr, "listening");
    }
    let first = bound
        .iter()
        .find(|(k, _)| *k != transport::TransportKind::Tls)
        .or(bound.first())
        .map(|(_, a)| *a)
        .context("no socket bound")?;
    // TLS and WebSocket listen on ports of their own (5061, 80/443 or 8088/8089): Via and
    // Record-Route towards such peers say so.
    let transport_ports: Vec<(proxy::Transport, u16)> = [
        transport::TransportKind::Tls,
        transport::TransportKind::Ws,
        transport::TransportKind::Wss,
    ]
    .iter()
    .filter_map(|k| bound.iter().find(|(b, _)| b == k))
    .map(|(k, a)| (*k, a.port()))
    .collect();
    let tls_reloader = match &tls_context {
        Some(ctx) => Some(crate::tls_files::spawn_reloader(
            ctx.clone(),
            Duration::from_secs(cfg.tls.watch_secs),
        )?),
        None => None,
    };
    let bound_addrs: Vec<std::net::SocketAddr> = bound.iter().map(|(_, a)| *a).collect();
    let proxy_udp = bound
        .iter()
        .find(|(k, _)| *k == transport::TransportKind::Udp)
        .map(|(_, a)| *a);
    let local_addrs = crate::interfaces::local_addresses(&bound_addrs);
    tracing::info!(
        addresses = %local_addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(","),
        "answering as this server on"
    );
    crate::interfaces::warn_if_local_only(
        &bound_addrs,
        &local_addrs,
        cfg.sip.advertised_host.as_deref(),
    );
    // Media services (voicemail): the proxy reaches the host like a phone.
    let mut media_host =
        crate::media_host::MediaHost::start(&cfg, &bound_addrs, proxy_udp, store.clone()).await?;
    let services_host = media_host.as_ref().map(|m| proxy::Destination {
        transport: proxy::Transport::Udp,
        addr: m.services_addr(),
        conn: None,
    });
    let mut listen_ports: Vec<u16> = bound_addrs.iter().map(|a| a.port()).collect();
    listen_ports.sort_unstable();
    listen_ports.dedup();
    // `[relay] backend = "rtpengine"`: the ng client, checked now; the relay below.
    let rtpengine = crate::relay_backend::open_rtpengine(&cfg.relay).await;
    // RFC 3263: Request-URIs with a host name are resolved off the core task.
    let resolver = if cfg.dns.enabled {
        match crate::dns::SipResolver::new(&cfg.dns) {
            Ok(r) => Some(Arc::new(r.with_tls(tls_context.clone()))),
            Err(e) => {
                tracing::warn!(error = %e, "dns: no resolver; Request-URIs with host names get 503");
                None
            }
        }
    } else {
        None
    };
    // The media relay (issue 19): calls behind NAT get their media through it.
    let media_relay = crate::relay_host::start(&cfg, &local_addrs, rtpengine)?;
    let pcfg = ProxyConfig {
        advertised_host: cfg.sip.advertised_host.clone(),
        local_addrs,
        listen_ports,
        advertised_port: cfg.sip.advertised_port.unwrap_or(first.port()),
        transport_ports,
        aliases: cfg.sip.aliases.clone(),
        mode: if cfg.sip.mode == "redirect" {
            ProxyMode::Redirect
        } else {
            ProxyMode::Proxy
        },
        record_route: cfg.sip.record_route,
        no_answer_timeout: cfg.no_answer_timeout(),
        max_forks: cfg.sip.max_calls,
        shared_location: cfg.database.shared_location,
        udp_max_request_bytes: cfg.sip.udp_max_request_bytes,
        force_rport: cfg.sip.force_rport,
        auth: cfg.auth.to_proxy(),
        secret: cfg.auth.secret()?,
        services: proxy::ServicesConfig {
            voicemail: cfg.voicemail.to_proxy(),
            conference: cfg.conference.to_proxy(),
            media: cfg.moh.to_proxy(&cfg.announcements, &cfg.park),
            presence: cfg.presence.to_proxy(),
            messages: cfg.messages.to_proxy(),
            host: services_host,
            ..cfg.services.to_proxy()
        },
        flood: cfg.flood.to_proxy(),
        ban_action: cfg.security.ban_action(),
        max_bans: cfg.security.max_bans,
        dns: resolver.is_some(),
        relay: if media_relay.is_some() {
            cfg.relay.mode()
        } else {
            proxy::RelayMode::Never
        },
        relay_bridges_webrtc: media_relay
            .as_ref()
            .is_some_and(|r| r.name() == "rtpengine"),
        keepalive: cfg.nat.to_proxy(),
        ..ProxyConfig::default()
    };
    let txcfg = sip_transaction::Config {
        timers: sip_transaction::Timers {
            t1: Duration::from_millis(cfg.transaction.t1_ms),
            t2: Duration::from_millis(cfg.transaction.t2_ms),
            t4: Duration::from_millis(cfg.transaction.t4_ms),
            ..Default::default()
        },
        max_transactions: cfg.transaction.max_transactions,
        auto_100_trying: None,
    };
    let rcfg = RegistrarConfig {
        min_expires: cfg.registrar.min_expires,
        max_expires: cfg.registrar.max_expires,
        default_expires: cfg.registrar.default_expires,
        max_contacts_per_aor: cfg.registrar.max_contacts_per_aor,
        max_bindings: cfg.registrar.max_bindings,
        node: cfg.server.node_name.clone(),
        // RFC 5626 §4.4.1: outbound phones over UDP ping as often as the server would.
        flow_timer_secs: u32::try_from(cfg.nat.keepalive_secs).unwrap_or(u32::MAX),
    };
    let mut proxy = Proxy::new(
        pcfg,
        txcfg,
        Registrar::new(rcfg, location.clone()),
        directory.clone(),
    );
    proxy.set_route_probe(Box::new(crate::interfaces::route_probe));
    let pstn = Arc::new(proxy::PstnTable::new());
    crate::notices::reload_pstn(store.as_ref(), &pstn, tls_context.as_deref()).await?;
    tracing::info!(
        gateways = pstn.gateway_names().len(),
        "PSTN gateways loaded"
    );
    proxy.set_pstn(pstn.clone(), cfg.pstn.gateway_timeout());
    // Message-waiting: each mailbox's counts, so a phone subscribing learns them at once.
    for m in model::VoicemailStore::mailboxes(store.as_ref()).await? {
        let counts = model::VoicemailStore::message_counts(store.as_ref(), &m.aor).await?;
        proxy.mailbox_changed(Duration::ZERO, wall, &m.aor, counts);
    }

    // Stored messages waiting and kept subscriptions; the message store's work runs in
    // order on a task of its own.
    crate::startup::restore_notifier_state(store.as_ref(), &mut proxy, wall).await?;
    let (im_tx, im_rx) = mpsc::unbounded_channel();
    let im_task = tokio::spawn(crate::instant_messages::run(
        store.clone(),
        cfg.messages.clone(),
        im_rx,
        core_tx.clone(),
    ));

    // Binding writer: persists changes behind the core, in order, batched.
    let (changes_tx, changes_rx) = mpsc::unbounded_channel::<WriterInput>();
    let writer = tokio::spawn(write_behind(
        store.clone(),
        changes_rx,
        Duration::from_millis(cfg.registrar.write_behind_ms),
    ));

    // Control socket for the CLI.
    let control_path = cfg.control_path();
    let applier = Arc::new(
        crate::notices::Applier::new(store.clone(), directory.clone()).with_pstn(
            store.clone(),
            pstn.clone(),
            tls_context.clone(),
        ),
    );
    let control_task =
        control::serve(control_path.clone(), core_tx.clone(), applier.clone()).await?;
    // A message left, saved or deleted by the voicemail service: message-waiting NOTIFYs.
    if let Some(mut changes) = media_host.as_mut().and_then(|m| m.take_changes()) {
        let (applier, core) = (applier.clone(), core_tx.clone());
        tokio::spawn(async move {
            while let Some(c) = changes.recv().await {
                let aor = model::AddressOfRecord::new(&c.mailbox.user, &c.mailbox.domain);
                let outcome = control::mailbox_counts_to_core(&applier, &core, &aor).await;
                tracing::debug!(mailbox = %aor, %outcome, "mailbox changed");
            }
        });
    }
    let metrics_task = match cfg.metrics.listen {
        Some(addr) => {
            let (local, task) = crate::metrics_http::serve(addr, core_tx.clone())
                .await
                .with_context(|| format!("binding the metrics endpoint {addr}"))?;
            tracing::info!(addr = %local, "metrics endpoint at /metrics");
            Some(task)
        }
        None => None,
    };

    let dials = Arc::new(crate::dials::Dials::default());
    let portal_task = match cfg.portal.addr()? {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding the portal portal.listen = {addr}"))?;
            let local = listener.local_addr()?;
            let view = Arc::new(crate::portal_view::PortalView {
                core: core_tx.clone(),
                location: location.clone(),
                store: store.clone(),
                applier: applier.clone(),
                dials: dials.clone(),
            });
            let portal_cfg = portal::PortalConfig {
                data_dir: cfg.server.data_dir.clone(),
                ..cfg.portal.to_portal()
            };
            let task = portal::serve(listener, store.clone(), view, portal_cfg)
                .map_err(|e| anyhow::anyhow!("starting the portal: {e}"))?;
            tracing::info!(addr = %local, "portal at http://{local}/");
            Some(task)
        }
        None => None,
    };

    // Purge and periodic reload (other nodes may change the shared database).
    let housekeeping = crate::housekeeping::spawn(
        store.clone(),
        location.clone(),
        applier.clone(),
        cfg.database.shared_location,
    );

    let start = Instant::now();
    // Call records: the proxy's clock starts now.
    let (cdr_feed, cdr_writer) = if cfg.cdr.enabled {
        let (feed, task) = crate::cdr::start(store.clone(), &cfg.cdr, crate::cdr::unix_ms());
        (feed, Some(task))
    } else {
        (crate::cdr::Feed::off(), None)
    };
    let mut shutting_down: Option<Instant> = None;
    let grace = Duration::from_secs(cfg.server.shutdown_grace_secs);
    crate::core_input::forward_signals(&core_tx)?;
    let mut batch: Vec<CoreInput> = Vec::with_capacity(256);
    let mut sinks =
        crate::outputs::Sinks::new(&transports, &store, &core_tx, &cdr_feed, &dials, &im_tx)
            .resolver(resolver.clone())
            .relay(media_relay.clone());
    // One timer for the core loop, moved only when the proxy's next deadline moves to
    // another tick (`timer_tick`).
    let timer = tokio::time::sleep_until(tokio::time::Instant::from_std(start));
    tokio::pin!(timer);
    tracing::info!("switchboard ready");
    loop {
        let now = start.elapsed();
        let deadline = tokio::time::Instant::from_std(start)
            + timer_tick(
                proxy
                    .poll_timeout()
                    .unwrap_or_else(|| now + Duration::from_secs(1)),
            );
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        tokio::select! {
            n = core_rx.recv_many(&mut batch, 256) => {
                if n == 0 { break; }
                let now = start.elapsed();
                let wall = wall_clock();
                let read_at = Instant::now();
                for input in batch.drain(..) {
                    match input {
                        CoreInput::Message(m, at)
                            if !max_queue_delay.is_zero()
                                && read_at.saturating_duration_since(at) > max_queue_delay
                                && starts_new_work(&m.data) =>
                        {
                            // Overload: answering a request its sender has already given up
                            // on (or retransmitted) only deepens the queue.
                            drops.queue_delay.fetch_add(1, Ordering::Relaxed);
                        }
                        CoreInput::Message(m, _) => {
                            let src = m.peer;
                            proxy.handle_message(now, wall, m.data, src);
                            // Answer each message before reading the next: a batch's answers
                            // sent at once arrive as a burst that overflows a phone's (or
                            // SIPp's) 208 KB receive buffer.
                            sinks.drain(&mut proxy, now);
                        }
                        CoreInput::SendFailed(f) => {
                            proxy.handle_transport_error(now, f.peer, f.data);
                            sinks.drain(&mut proxy, now);
                        }
                        // Every message before it has been answered (each is answered
                        // before the next input is read): the connection may close.
                        CoreInput::CloseAfter(close) => drop(close),
                        CoreInput::Shutdown(signal) => {
                            if shutting_down.is_none() {
                                tracing::info!("{signal}: finishing calls in progress");
                                proxy.set_draining(true);
                                shutting_down = Some(Instant::now());
                            }
                        }
                        CoreInput::QueryAnswer(token, answer) => {
                            proxy.handle_query(now, wall, token, answer);
                            sinks.drain(&mut proxy, now);
                        }
                        CoreInput::Messages(report) => {
                            match report {
                                crate::instant_messages::ImReport::Pending(aor, found) => {
                                    proxy.deliver_messages(now, wall, &aor, found);
                                }
                                crate::instant_messages::ImReport::Count(n) => {
                                    proxy.set_messages_stored(n);
                                }
                            }
                            sinks.drain(&mut proxy, now);
                        }
                        CoreInput::Control(control::Command::Flush, reply) => {
                            // Every change so far was drained from the proxy after its input.
                            let changes = std::mem::take(&mut sinks.changes);
                            if !changes.is_empty() {
                                let _ = changes_tx.send(WriterInput::Changes(changes));
                            }
                            let subs = std::mem::take(&mut sinks.subscriptions);
                            if !subs.is_empty() {
                                let _ = changes_tx.send(WriterInput::Subscriptions(subs));
                            }
                            if let Err(SendError(WriterInput::Flush(reply))) =
                                changes_tx.send(WriterInput::Flush(reply))
                            {
                                let _ = reply.send("error: binding writer stopped".into());
                            }
                        }
                        CoreInput::Control(cmd, reply) => {
                            let answer = control::execute(cmd, now, &mut proxy, &directory, &transports, &drops);
                            let _ = reply.send(answer);
                        }
                    }
                }
            }
            _ = &mut timer => {
                proxy.handle_timeout(start.elapsed().max(now));
            }
        }
        // The one output queue: sends, queries, call records; binding changes go to the
        // writer once per wake-up.
        sinks.drain(&mut proxy, start.elapsed());
        if !sinks.changes.is_empty() {
            let _ = changes_tx.send(WriterInput::Changes(std::mem::take(&mut sinks.changes)));
        }
        if !sinks.subscriptions.is_empty() {
            let subs = std::mem::take(&mut sinks.subscriptions);
            let _ = changes_tx.send(WriterInput::Subscriptions(subs));
        }
        while let Some((id, status)) = proxy.poll_refer_answer() {
            dials.refer_answered(id, status);
        }
        if let Some(since) = shutting_down {
            // Done when no request awaits a final answer; lingering transactions (timers
            // D, I, J, K, L, M absorbing retransmissions) are not worth waiting for.
            if proxy.forks() == 0 || since.elapsed() >= grace {
                break;
            }
        }
    }
    drop(sinks);
    // The message task finishes the work queued (a delivered message's delete) first.
    drop(im_tx);
    if tokio::time::timeout(Duration::from_secs(2), im_task)
        .await
        .is_err()
    {
        tracing::warn!("message store task did not finish in time");
    }
    tracing::info!(calls_in_setup = proxy.forks(), "stopping");
    housekeeping.abort();
    control_task.abort();
    if let Some(t) = tls_reloader {
        t.abort();
    }
    if let Some(t) = metrics_task {
        t.abort();
    }
    if let Some(t) = portal_task {
        t.abort();
    }
    let _ = std::fs::remove_file(&control_path);
    if let Some(m) = media_host {
        m.stop();
    }
    crate::relay_host::stop();
    drop(media_relay);
    transports.shutdown().await;
    drop(changes_tx);
    // The writers drain what the core produced before they exit.
    let _ = writer.await;
    drop(cdr_feed);
    if let Some(t) = cdr_writer {
        let _ = t.await;
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The proxy's timers fire together on [`TIMER_TICK`] boundaries of its clock.
const TIMER_TICK: Duration = Duration::from_millis(10);

/// `due` rounded up to the next [`TIMER_TICK`]: at a few hundred calls per second, each
/// call's timers (J, K, L, M, ...) would otherwise wake the server on their own, each
/// wake-up costing more than the timer's work; SIP timers (T1 = 500 ms) do not mind 10 ms.
fn timer_tick(due: Duration) -> Duration {
    let tick = TIMER_TICK.as_nanos();
    let ticks = due.as_nanos().div_ceil(tick);
    Duration::from_nanos(u64::try_from(ticks * tick).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::{starts_new_work, timer_tick};
    use std::time::Duration;

    #[test]
    fn timers_round_up_to_the_next_tick() {
        let ms = Duration::from_millis;
        assert_eq!(timer_tick(ms(0)), ms(0));
        assert_eq!(timer_tick(ms(10)), ms(10));
        assert_eq!(timer_tick(Duration::from_micros(10_001)), ms(20));
        assert_eq!(timer_tick(ms(32_003)), ms(32_010));
    }

    #[test]
    fn only_requests_that_start_work_may_be_shed() {
        for m in [
            "INVITE",
            "REGISTER",
            "SUBSCRIBE",
            "OPTIONS",
            "MESSAGE",
            "PUBLISH",
        ] {
            assert!(
                starts_new_work(format!("{m} sip:a@b SIP/2.0\r\n").as_bytes()),
                "{m}"
            );
        }
        for m in [
            "ACK", "BYE", "CANCEL", "PRACK", "NOTIFY", "UPDATE", "INFO", "REFER",
        ] {
            assert!(
                !starts_new_work(format!("{m} sip:a@b SIP/2.0\r\n").as_bytes()),
                "{m}"
            );
        }
        assert!(!starts_new_work(b"SIP/2.0 200 OK\r\n"));
        assert!(!starts_new_work(b"INVITEX sip:a@b SIP/2.0\r\n"));
    }
}
