//! The flood limiter, in the spirit of Kamailio's `pike`: requests per source (an IPv4
//! address, an IPv6 /64) over a sliding window; a source past `[flood] max_requests` in
//! `window_secs` is banned for `ban_secs` (the ban itself lives in `bans.rs`).
//!
//! The window slides by interpolation (the count of the previous window weighted by how
//! much of it still overlaps, plus the current one), so two counters per source suffice.
//! The table of sources is fixed-size (`max_sources`): when full, the source counted
//! longest ago is forgotten. Only requests count: responses answer what we sent. Sources in
//! `exempt` are never counted. Sans-IO: time is a parameter.

use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use crate::bans::source_key;
use crate::bounded::BoundedMap;

/// An address block, `ADDRESS/PREFIX` (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// True when `ip` is inside the block (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = model::parse_cidr(s)?;
        Ok(Cidr { addr, prefix })
    }
}

/// `[flood]` settings.
#[derive(Debug, Clone)]
pub struct FloodConfig {
    /// Count requests at all.
    pub enabled: bool,
    /// Requests one source may send within the window; the next one bans it.
    pub max_requests: u32,
    /// The sliding window.
    pub window: Duration,
    /// How long a flooding source stays banned, in seconds.
    pub ban_secs: u64,
    /// Sources tracked at once; the one counted longest ago is forgotten when full.
    pub max_sources: usize,
    /// Sources never counted.
    pub exempt: Vec<Cidr>,
}

impl Default for FloodConfig {
    fn default() -> Self {
        FloodConfig {
            enabled: true,
            max_requests: 300,
            window: Duration::from_secs(2),
            ban_secs: 60,
            max_sources: 65536,
            exempt: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Rate {
    /// Start of the current window (a multiple of the window length).
    start: Duration,
    current: u32,
    previous: u32,
}

/// What the limiter says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Under the limit (or not counted).
    Pass,
    /// This request crossed the limit: ban the source.
    Exceeded,
}

/// Request rates per source, bounded.
#[derive(Debug)]
pub(crate) struct FloodLimiter {
    cfg: FloodConfig,
    rates: BoundedMap<IpAddr, Rate>,
}

impl FloodLimiter {
    pub(crate) fn new(cfg: FloodConfig) -> Self {
        FloodLimiter {
            rates: BoundedMap::new(cfg.max_sources),
            cfg,
        }
    }

    pub(crate) fn ban_secs(&self) -> u64 {
        self.cfg.ban_secs
    }

    /// Sources tracked.
    pub(crate) fn tracked(&self) -> usize {
        self.rates.len()
    }

    /// Counts one request from `source` at `now`.
    pub(crate) fn request(&mut self, source: IpAddr, now: Duration) -> Verdict {
        if !self.cfg.enabled || self.cfg.exempt.iter().any(|c| c.contains(source)) {
            return Verdict::Pass;
        }
        let window = self.cfg.window.max(Duration::from_millis(1));
        let w = window.as_nanos();
        let start = Duration::from_nanos(((now.as_nanos() / w) * w) as u64);
        let (rate, _) = self
            .rates
            .entry_or_insert_with(&source_key(source), || Rate {
                start,
                current: 0,
                previous: 0,
            });
        if rate.start != start {
            // One window later: the current count becomes the previous one; more: both
            // are over.
            rate.previous = if start - rate.start == window {
                rate.current
            } else {
                0
            };
            rate.current = 0;
            rate.start = start;
        }
        rate.current = rate.current.saturating_add(1);
        let into = (now - start).as_secs_f64() / window.as_secs_f64();
        let estimate = f64::from(rate.previous) * (1.0 - into) + f64::from(rate.current);
        if estimate > f64::from(self.cfg.max_requests) {
            // Start over once the ban ends.
            rate.current = 0;
            rate.previous = 0;
            Verdict::Exceeded
        } else {
            Verdict::Pass
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(m: u64) -> Duration {
        Duration::from_millis(m)
    }

    fn limiter(max: u32) -> FloodLimiter {
        FloodLimiter::new(FloodConfig {
            max_requests: max,
            max_sources: 4,
            exempt: vec![
                "127.0.0.1/32".parse().unwrap(),
                "2001:db8::/32".parse().unwrap(),
            ],
            ..FloodConfig::default()
        })
    }

    #[test]
    fn a_thousand_per_second_is_stopped_within_a_second() {
        let mut f = limiter(300);
        let src: IpAddr = "192.0.2.7".parse().unwrap();
        let first = (0..1000u64)
            .position(|i| f.request(src, ms(10_000 + i)) == Verdict::Exceeded)
            .unwrap();
        assert_eq!(first, 300, "the 301st request in the window crosses");
    }

    #[test]
    fn an_office_at_a_steady_rate_never_is() {
        // 50 phones re-registering with a challenge (2 requests each) every minute, plus
        // 100 requests/s of calls: 100/s stays under 300 per 2 s whatever the phase.
        let mut f = limiter(300);
        let office: IpAddr = "198.51.100.10".parse().unwrap();
        for i in 0..60_000u64 {
            assert_eq!(f.request(office, ms(i * 10)), Verdict::Pass, "at {i}");
        }
    }

    #[test]
    fn the_window_slides() {
        let mut f = limiter(10);
        let src: IpAddr = "192.0.2.7".parse().unwrap();
        // 10 at the very end of one window, then 1 at the start of the next: the
        // previous window still weighs almost fully.
        for i in 0..10 {
            assert_eq!(f.request(src, ms(1990 + i)), Verdict::Pass);
        }
        assert_eq!(f.request(src, ms(2001)), Verdict::Exceeded);
        // Long after: a fresh start.
        for i in 0..10 {
            assert_eq!(f.request(src, ms(9000 + i)), Verdict::Pass);
        }
    }

    #[test]
    fn exempt_and_bounded() {
        let mut f = limiter(1);
        for i in 0..5 {
            assert_eq!(
                f.request("127.0.0.1".parse().unwrap(), ms(i)),
                Verdict::Pass
            );
            assert_eq!(
                f.request("2001:db8:5::1".parse().unwrap(), ms(i)),
                Verdict::Pass
            );
        }
        for i in 0..100u8 {
            f.request(IpAddr::from([10, 0, 0, i]), ms(0));
        }
        assert_eq!(f.tracked(), 4);
        // IPv6 sources are counted per /64.
        let mut f = limiter(1);
        assert_eq!(
            f.request("2001:db9::1".parse().unwrap(), ms(0)),
            Verdict::Pass
        );
        assert_eq!(
            f.request("2001:db9::2".parse().unwrap(), ms(1)),
            Verdict::Exceeded
        );
    }

    #[test]
    fn cidr_parsing() {
        let c: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(c.contains("10.1.200.3".parse().unwrap()));
        assert!(c.contains("::ffff:10.1.0.1".parse().unwrap()));
        assert!(!c.contains("10.2.0.1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nonsense".parse::<Cidr>().is_err());
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("192.0.2.1".parse().unwrap()));
    }
}
