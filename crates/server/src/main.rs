//! `switchboard`: the SIP server binary and its command line.
//!
//! `switchboard run` starts the server; the other commands administer the store (domains,
//! users, aliases, registrations) and tell a running server about the change through its
//! control socket, so the next SIP request sees it. See `switchboard --help`.

mod cdr;
mod cli;
mod config;
mod control;
mod core_input;
mod dials;
mod discovery;
mod dns;
mod housekeeping;
mod instant_messages;
mod interfaces;
mod log_lines;
mod logs;
mod mailboxes;
mod media_host;
mod metrics_http;
mod notices;
mod outputs;
mod portal_view;
mod prompts;
mod relay_backend;
mod relay_host;
mod run;
mod startup;
mod tls_files;
mod write_behind;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

// mimalloc: less memory per contact and fewer instructions per message than glibc's
// allocator (measured with bench/run.sh: see bench/README.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Switchboard: a SIP registrar, proxy and PBX in one binary.
#[derive(Parser, Debug)]
#[command(name = "switchboard", version, about, long_about = None)]
struct Args {
    /// Configuration file (TOML). Without it: $SWITCHBOARD_CONFIG, then
    /// /etc/switchboard/switchboard.toml, then ./switchboard.toml, then built-in defaults
    /// (SQLite in ./data, SIP on UDP and TCP port 5060, a demo domain on an empty database).
    #[arg(long, short, global = true)]
    config: Option<PathBuf>,
    /// Machine-readable JSON output; errors too, as {"error": "..."} on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server until SIGINT or SIGTERM (creates the database on first start).
    Run,
    /// Create the database the configuration names (and the data directory); other
    /// commands refuse to create one.
    Init,
    /// Manage the domains served here.
    #[command(subcommand)]
    Domain(cli::DomainCmd),
    /// Manage users (subscribers).
    #[command(subcommand)]
    User(cli::UserCmd),
    /// Manage aliases and DIDs.
    #[command(subcommand)]
    Alias(cli::AliasCmd),
    /// Show or clear registrations.
    #[command(subcommand)]
    Location(cli::LocationCmd),
    /// Call forwarding: always, busy, no-answer, unavailable.
    #[command(subcommand)]
    Forward(cli::ForwardCmd),
    /// Incoming and outgoing call screening.
    #[command(subcommand)]
    Screen(cli::ScreenCmd),
    /// Find-me: ring a list of targets in turn.
    #[command(subcommand)]
    Findme(cli::FindmeCmd),
    /// Call-pickup groups: `*8` picks up a call ringing another member.
    #[command(subcommand)]
    PickupGroup(cli::PickupGroupCmd),
    /// Presence watcher rules: who may watch a user's lines and presence.
    #[command(subcommand)]
    Presence(cli::PresenceCmd),
    /// Instant messages stored for offline users: list, purge.
    #[command(subcommand)]
    Messages(cli::MessagesCmd),
    /// Voicemail: mailboxes, messages, greetings, prompts.
    #[command(subcommand)]
    Voicemail(cli::VoicemailCmd),
    /// Web portal accounts (admins and domain admins).
    #[command(subcommand)]
    Admin(cli::AdminCmd),
    /// PSTN gateways (SIP trunks) calls to numbers leave through.
    #[command(subcommand)]
    Gateway(cli::GatewayCmd),
    /// Routes (least-cost routing): which gateways a number prefix goes to.
    #[command(subcommand)]
    Route(cli::RouteCmd),
    /// Trusted peers (gateways, PBXs): not challenged.
    #[command(subcommand)]
    Trusted(cli::TrustedCmd),
    /// Dial plans: rewrite dialled numbers before routing.
    #[command(subcommand)]
    Dialplan(cli::DialplanCmd),
    /// Headline figures of the running server.
    Status,
    /// Show or lift bans (flood, failed authentications) of the running server.
    #[command(subcommand)]
    Ban(cli::BanCmd),
    /// Call records (CDRs): list them or export them as CSV.
    #[command(subcommand)]
    Cdr(cli::CdrCmd),
    /// Conference rooms and their participants (from the running server).
    #[command(subcommand)]
    Conference(cli::ConferenceCmd),
    /// Write the man pages (switchboard.1 and one per subcommand) into DIR; used when
    /// packaging (scripts/package.sh), so the pages say what `--help` says.
    #[command(hide = true)]
    Man {
        /// Directory to write the pages into (created when missing).
        dir: PathBuf,
    },
}

/// Writes `switchboard.1` and a page per subcommand (`switchboard-domain-add.1`, ...),
/// generated from the same definitions as `--help`.
fn write_man_pages(dir: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use clap::CommandFactory as _;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    clap_mangen::generate_to(Args::command(), dir)
        .with_context(|| format!("writing man pages into {}", dir.display()))
}

/// Prints an error as text, or as `{"error": ...}` with `--json`.
fn report(json: bool, msg: &str) {
    if json {
        cli::error_json(msg);
    } else {
        cli::error(msg);
    }
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            // Usage errors become JSON too when --json was asked for; help and version
            // (not errors) print as usual.
            if e.use_stderr() && std::env::args().any(|a| a == "--json") {
                let rendered = e.to_string();
                let msg: Vec<&str> = rendered
                    .lines()
                    .take_while(|l| !l.trim().is_empty())
                    .map(|l| l.trim().trim_start_matches("error: "))
                    .collect();
                cli::error_json(&msg.join(" "));
                return ExitCode::from(2);
            }
            e.exit();
        }
    };
    if let Command::Man { dir } = &args.command {
        // Needs neither the configuration nor a runtime.
        return match write_man_pages(dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                report(args.json, &format!("{e:#}"));
                ExitCode::FAILURE
            }
        };
    }
    let cfg: Config = match discovery::load(args.config.clone()) {
        Ok(c) => c,
        Err(e) => {
            report(args.json, &format!("{e:#}"));
            return ExitCode::from(2);
        }
    };
    if !cfg.server.transparent_huge_pages {
        // The allocator asks for huge pages (madvise): each partly used 2 MB region is
        // then resident in full. PR_SET_THP_DISABLE turns that off for this process.
        #[cfg(target_os = "linux")]
        if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
            cli::error(&format!("could not disable transparent huge pages: {e}"));
        }
    }
    // One thread by default: the proxy core is one task (docs/decisions/0004), and a
    // datagram handed from a receiving thread to the core's thread costs two context
    // switches. SQLite work runs on the driver's own threads either way.
    let mut builder = match cfg.server.threads {
        1 => tokio::runtime::Builder::new_current_thread(),
        n => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            if n > 1 {
                b.worker_threads(n);
            }
            b
        }
    };
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            report(args.json, &format!("starting the runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        match args.command {
            Command::Run => {
                let _logs = logs::init(&cfg);
                run::run(cfg).await
            }
            Command::Init => cli::init(&cfg, args.json).await,
            Command::Domain(c) => cli::domain(&cfg, c, args.json).await,
            Command::User(c) => cli::user(&cfg, c, args.json).await,
            Command::Alias(c) => cli::alias(&cfg, c, args.json).await,
            Command::Location(c) => cli::location(&cfg, c, args.json).await,
            Command::Forward(c) => cli::forward(&cfg, c, args.json).await,
            Command::Screen(c) => cli::screen(&cfg, c, args.json).await,
            Command::PickupGroup(c) => cli::pickup_group(&cfg, c, args.json).await,
            Command::Presence(c) => cli::presence(&cfg, c, args.json).await,
            Command::Messages(c) => cli::messages(&cfg, c, args.json).await,
            Command::Findme(c) => cli::findme(&cfg, c, args.json).await,
            Command::Voicemail(c) => cli::voicemail(&cfg, c, args.json).await,
            Command::Admin(c) => cli::portal_admin(&cfg, c, args.json).await,
            Command::Gateway(c) => cli::gateway(&cfg, c, args.json).await,
            Command::Route(c) => cli::route(&cfg, c, args.json).await,
            Command::Trusted(c) => cli::trusted(&cfg, c, args.json).await,
            Command::Dialplan(c) => cli::dialplan(&cfg, c, args.json).await,
            Command::Status => cli::status(&cfg, args.json).await,
            Command::Ban(c) => cli::ban(&cfg, c, args.json).await,
            Command::Cdr(c) => cli::cdr(&cfg, c, args.json).await,
            Command::Conference(c) => cli::conference(&cfg, c, args.json).await,
            Command::Man { .. } => Ok(()), // handled before the configuration is read
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<cli::AlreadyReported>() && args.json => ExitCode::FAILURE,
        Err(e) => {
            report(args.json, &format!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}
