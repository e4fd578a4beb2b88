//! The guard at the door of [`Proxy::handle_message`]: before a message is parsed, a
//! banned source is dropped (or refused, with `ban_action = "reply"`), and every request
//! is counted by the flood limiter, whose verdict may ban its source. Also the proxy's
//! face for `switchboard ban list|remove` and the ban metrics.

use std::fmt::Write as _;
use std::time::Duration;

use bytes::Bytes;
use sip_message::error_response;

use super::Proxy;
use crate::bans::{source_key, BanEntry, BanReason, Subject, Target};
use crate::config::BanAction;
use crate::destination::Destination;
use crate::flood::Verdict;

/// True for a response (`SIP/2.0 ...`), judged on the first bytes only.
fn is_response(data: &[u8]) -> bool {
    let start = data
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(data.len());
    data.len() >= start + 4 && data[start..start + 4].eq_ignore_ascii_case(b"SIP/")
}

fn is_ack(data: &[u8]) -> bool {
    data.starts_with(b"ACK ")
}

impl Proxy {
    /// Whether the message may go on to parsing. Messages from a banned source, and the
    /// request that makes its source cross the flood limit, do not.
    pub(super) fn admit(&mut self, now: Duration, data: &Bytes, source: &Destination) -> bool {
        self.bans.expire(now);
        let ip = source.addr.ip();
        let response = is_response(data);
        let reason = match self.bans.source_banned(ip, now) {
            Some(r) => r,
            None if response => return true,
            None => match self.flood.request(ip, now) {
                Verdict::Pass => return true,
                Verdict::Exceeded => {
                    let secs = self.flood.ban_secs();
                    self.bans
                        .ban(Subject::Source(source_key(ip)), BanReason::Flood, now, secs);
                    BanReason::Flood
                }
            },
        };
        if self.cfg.ban_action == BanAction::Reply && !response && !is_ack(data) {
            let (status, why, extra) = match reason {
                BanReason::Flood => (503, "Too Many Requests", true),
                _ => (403, "Too Many Failed Authentications", false),
            };
            let tag = self.new_tag();
            if let Some(mut resp) = error_response(data, status, why, Some(&tag)) {
                if extra {
                    // Retry-After before the blank line that ends the head.
                    if let Some(end) = find_subslice(&resp, b"\r\n\r\n") {
                        let line = format!("\r\nRetry-After: {}", self.flood.ban_secs());
                        resp.splice(end..end, line.bytes());
                    }
                }
                self.banned_answered += 1;
                self.outbox.transmit(*source, Bytes::from(resp));
                return false;
            }
        }
        self.banned_dropped += 1;
        false
    }

    /// The bans in force, for `switchboard ban list`.
    pub fn bans(&mut self, now: Duration) -> Vec<BanEntry> {
        self.bans.expire(now);
        self.bans.list(now)
    }

    /// Lifts every ban naming `target` (logged `unban ... reason=admin`); returns how many.
    pub fn unban(&mut self, target: &Target) -> usize {
        self.bans.remove(target)
    }

    /// The ban and flood metrics, in Prometheus text.
    pub(super) fn render_ban_metrics(&mut self, now: Duration, out: &mut String) {
        self.bans.expire(now);
        let m = self.bans.made;
        let _ = writeln!(
            out,
            "# HELP switchboard_flood_bans_total Sources banned by the flood limiter.\n\
             # TYPE switchboard_flood_bans_total counter\n\
             switchboard_flood_bans_total {}",
            m[BanReason::Flood as usize]
        );
        let _ = writeln!(
            out,
            "# HELP switchboard_auth_bans_total Bans for failed authentications, by reason.\n\
             # TYPE switchboard_auth_bans_total counter"
        );
        for r in [
            BanReason::AuthFailures,
            BanReason::ManyUsers,
            BanReason::UnknownUsers,
        ] {
            let _ = writeln!(
                out,
                "switchboard_auth_bans_total{{reason=\"{}\"}} {}",
                r.as_str(),
                m[r as usize]
            );
        }
        let _ = writeln!(
            out,
            "# HELP switchboard_bans_active Bans in force (sources, users, source-user pairs).\n\
             # TYPE switchboard_bans_active gauge\n\
             switchboard_bans_active {}",
            self.bans.len()
        );
        let _ = writeln!(
            out,
            "# HELP switchboard_banned_messages_total Messages from banned sources, dropped or answered.\n\
             # TYPE switchboard_banned_messages_total counter\n\
             switchboard_banned_messages_total{{action=\"dropped\"}} {}\n\
             switchboard_banned_messages_total{{action=\"answered\"}} {}",
            self.banned_dropped, self.banned_answered
        );
        let _ = writeln!(
            out,
            "# HELP switchboard_flood_sources_tracked Sources in the flood limiter's table.\n\
             # TYPE switchboard_flood_sources_tracked gauge\n\
             switchboard_flood_sources_tracked {}",
            self.flood.tracked()
        );
    }
}

/// The last position of `needle` in `hay`.
fn find_subslice(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}
