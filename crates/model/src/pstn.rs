//! PSTN gateways and the routes (least-cost routing) that lead to them, and the
//! [`PstnStore`] trait that keeps them.
//!
//! This module owns the vocabulary and the rules of a gateway's and a route's fields
//! ([`Gateway::check`], [`Route::check`]). It does not own where the rows live (the
//! `storage` crate and [`crate::MemoryStore`]), what a change tells a running server (the
//! `admin` crate) or how a call is routed (the proxy's `pstn` module).

use std::fmt;
use std::net::SocketAddr;

use async_trait::async_trait;

use crate::error::StoreError;

/// Longest gateway name.
pub const MAX_GATEWAY_NAME_LEN: usize = 64;
/// Longest route prefix and gateway prefix (digits).
pub const MAX_PREFIX_LEN: usize = 32;
/// Most gateways a route tries.
pub const MAX_ROUTE_GATEWAYS: usize = 8;
/// Seconds between OPTIONS probes of a gateway when `--probe` is not given.
pub const DEFAULT_PROBE_SECS: u32 = 30;

/// How the proxy reaches a gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayTransport {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
    /// TLS over TCP; the gateway's certificate is checked as its [`TlsVerify`] says.
    Tls,
}

impl GatewayTransport {
    /// `udp`, `tcp` or `tls`.
    pub fn as_str(self) -> &'static str {
        match self {
            GatewayTransport::Udp => "udp",
            GatewayTransport::Tcp => "tcp",
            GatewayTransport::Tls => "tls",
        }
    }

    /// Parses `udp`, `tcp` or `tls` (any case).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "udp" => Some(GatewayTransport::Udp),
            "tcp" => Some(GatewayTransport::Tcp),
            "tls" => Some(GatewayTransport::Tls),
            _ => None,
        }
    }
}

/// How the server checks a TLS gateway's certificate (`--tls-verify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsVerify {
    /// The chain and the gateway's IP address, against the trusted CAs (`[tls]`).
    #[default]
    Verify,
    /// Only the SHA-256 fingerprint of the leaf certificate (its DER bytes), whatever its
    /// chain and names: a self-signed gateway.
    Pin([u8; 32]),
    /// Any certificate (labs only; a warning at each connection).
    Skip,
}

impl TlsVerify {
    /// Parses `verify`, `skip` or `pin:` with 64 hex digits, with or without colons
    /// between the bytes (as `openssl x509 -fingerprint -sha256` prints them); the error
    /// says what is wrong.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("verify") {
            return Ok(TlsVerify::Verify);
        }
        if s.eq_ignore_ascii_case("skip") {
            return Ok(TlsVerify::Skip);
        }
        let Some(hex) = s
            .get(..4)
            .filter(|p| p.eq_ignore_ascii_case("pin:"))
            .map(|_| &s[4..])
        else {
            return Err(format!("{s:?}: verify, skip or pin:SHA256"));
        };
        let digits: Vec<u8> = hex.bytes().filter(|b| *b != b':').collect();
        if digits.len() != 64 {
            return Err(format!(
                "the pin has {} hex digits, a SHA-256 fingerprint has 64",
                digits.len()
            ));
        }
        let mut pin = [0u8; 32];
        for (i, pair) in digits.chunks(2).enumerate() {
            let nibble = |b: u8| (b as char).to_digit(16);
            match (nibble(pair[0]), nibble(pair[1])) {
                (Some(h), Some(l)) => pin[i] = (h * 16 + l) as u8,
                _ => {
                    return Err(format!(
                        "the pin's {:?} is not hex",
                        String::from_utf8_lossy(pair)
                    ))
                }
            }
        }
        Ok(TlsVerify::Pin(pin))
    }
}

impl fmt::Display for TlsVerify {
    /// `verify`, `skip` or `pin:AB:CD:...` (upper case, colons), which [`TlsVerify::parse`]
    /// reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsVerify::Verify => f.write_str("verify"),
            TlsVerify::Skip => f.write_str("skip"),
            TlsVerify::Pin(pin) => {
                f.write_str("pin:")?;
                for (i, b) in pin.iter().enumerate() {
                    if i > 0 {
                        f.write_str(":")?;
                    }
                    write!(f, "{b:02X}")?;
                }
                Ok(())
            }
        }
    }
}

/// A permission class: which destinations a user may call. Ordered: a user of a class may
/// call every route of that class and of the classes below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CallClass {
    /// Local numbers only.
    Local,
    /// Local and national numbers (every user's default).
    National,
    /// Also international numbers.
    International,
    /// Also premium-rate numbers.
    Premium,
}

impl CallClass {
    /// The class's name as the CLI and the database spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            CallClass::Local => "local",
            CallClass::National => "national",
            CallClass::International => "international",
            CallClass::Premium => "premium",
        }
    }

    /// Parses a class name (any case).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "local" => Some(CallClass::Local),
            "national" => Some(CallClass::National),
            "international" => Some(CallClass::International),
            "premium" => Some(CallClass::Premium),
            _ => None,
        }
    }
}

impl fmt::Display for CallClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A PSTN gateway (or SIP trunk) calls to numbers leave through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    /// Its name, unique.
    pub name: String,
    /// Its IP address and port.
    pub addr: SocketAddr,
    /// How it is reached.
    pub transport: GatewayTransport,
    /// Leading digits removed from the dialled number before it is sent here.
    pub strip: u32,
    /// Digits put in front of the number (after `strip`).
    pub prefix: String,
    /// Seconds between OPTIONS probes; 0: never probed.
    pub probe_secs: u32,
    /// How its TLS certificate is checked (TLS gateways only).
    pub tls_verify: TlsVerify,
}

impl Gateway {
    /// Checks the fields a store keeps (the address is typed already).
    pub fn check(&self) -> Result<(), StoreError> {
        check_name(&self.name)?;
        if !self.prefix.is_empty() {
            check_digits("prefix", &self.prefix)?;
        }
        if self.strip as usize > MAX_PREFIX_LEN {
            return Err(invalid("strip", format!("at most {MAX_PREFIX_LEN} digits")));
        }
        Ok(())
    }

    /// The number as this gateway gets it: `strip` leading characters removed, `prefix`
    /// put in front.
    pub fn translate(&self, number: &str) -> String {
        let cut = number
            .char_indices()
            .nth(self.strip as usize)
            .map_or(number.len(), |(i, _)| i);
        format!("{}{}", self.prefix, &number[cut..])
    }

    /// Its certificate check in a list's cell: `-` for a gateway not reached over TLS,
    /// else `verify`, `skip` or `pin:` and the fingerprint's first 4 bytes.
    pub fn tls_summary(&self) -> String {
        if self.transport != GatewayTransport::Tls {
            return "-".into();
        }
        match self.tls_verify {
            TlsVerify::Pin(pin) => format!(
                "pin:{}...",
                pin[..4]
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect::<String>()
            ),
            v => v.to_string(),
        }
    }
}

/// A route: numbers starting with `prefix` (dialled by users of `domain`, or of any domain)
/// go to `gateways`, tried in order, if the caller's class allows `class`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The leading digits (`+` allowed first) numbers must have.
    pub prefix: String,
    /// The domain whose users it serves; None: every domain.
    pub domain: Option<String>,
    /// Gateway names, tried in order.
    pub gateways: Vec<String>,
    /// The class a caller needs.
    pub class: CallClass,
}

impl Route {
    /// Checks the prefix and the gateway list (not that the gateways exist).
    pub fn check(&self) -> Result<(), StoreError> {
        check_digits("prefix", &self.prefix)?;
        if self.gateways.is_empty() {
            return Err(invalid("gateways", "at least one gateway".into()));
        }
        if self.gateways.len() > MAX_ROUTE_GATEWAYS {
            return Err(invalid(
                "gateways",
                format!("at most {MAX_ROUTE_GATEWAYS} gateways"),
            ));
        }
        for g in &self.gateways {
            check_name(g)?;
        }
        Ok(())
    }
}

/// A trusted peer (a gateway or a PBX): requests from its addresses are not challenged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedPeer {
    /// `ADDRESS/PREFIX` (or one address), normalised by [`check_cidr`].
    pub cidr: String,
    /// The gateway it is, when it is one.
    pub gateway: Option<String>,
}

/// Checks `ADDRESS[/PREFIX]` and returns it as `ADDRESS/PREFIX`.
pub fn check_cidr(s: &str) -> Result<String, StoreError> {
    let (addr, prefix) = parse_cidr(s).map_err(|why| invalid("cidr", why))?;
    Ok(format!("{addr}/{prefix}"))
}

/// Parses `ADDRESS[/PREFIX]` (an IPv6 address may be bracketed; no prefix is the whole
/// address): the address and the prefix length, or why not.
pub fn parse_cidr(s: &str) -> Result<(std::net::IpAddr, u8), String> {
    let (a, p) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let addr: std::net::IpAddr = a
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| format!("{s:?} is not ADDRESS/PREFIX"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match p {
        None => max,
        Some(p) => p
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(|| format!("{s:?}: the prefix must be 0 to {max}"))?,
    };
    Ok((addr, prefix))
}

/// True when `s` looks like a telephone number: an optional `+`, then digits, `*` or `#`.
pub fn is_number(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or(s);
    !digits.is_empty()
        && digits.len() <= MAX_PREFIX_LEN
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#')
}

fn check_digits(field: &'static str, s: &str) -> Result<(), StoreError> {
    if is_number(s) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!(
                "{s:?} is not a number (an optional + and up to {MAX_PREFIX_LEN} digits, * or #)"
            ),
        ))
    }
}

fn check_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_GATEWAY_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "gateway",
            format!("{name:?}: 1 to {MAX_GATEWAY_NAME_LEN} letters, digits, '-', '_' or '.'"),
        ))
    }
}

fn invalid(field: &'static str, why: String) -> StoreError {
    StoreError::Invalid { field, why }
}

/// Where gateways and routes are kept.
#[async_trait]
pub trait PstnStore: Send + Sync + 'static {
    /// Every gateway, by name.
    async fn gateways(&self) -> Result<Vec<Gateway>, StoreError>;
    /// Adds a gateway ([`StoreError::Duplicate`] when the name is taken).
    async fn add_gateway(&self, gateway: &Gateway) -> Result<(), StoreError>;
    /// Replaces the address, transport, strip, prefix and probe of the gateway of that
    /// name ([`StoreError::NotFound`]); its routes keep it.
    async fn update_gateway(&self, gateway: &Gateway) -> Result<(), StoreError>;
    /// Deletes a gateway ([`StoreError::NotFound`]); refused with
    /// [`StoreError::Invalid`] while a route uses it.
    async fn delete_gateway(&self, name: &str) -> Result<(), StoreError>;
    /// Every route, by domain then prefix.
    async fn routes(&self) -> Result<Vec<Route>, StoreError>;
    /// Adds a route ([`StoreError::Duplicate`] for the same prefix and domain,
    /// [`StoreError::NotFound`] naming a gateway that does not exist).
    async fn add_route(&self, route: &Route) -> Result<(), StoreError>;
    /// Deletes the route of `prefix` for `domain` (None: the every-domain route).
    async fn delete_route(&self, prefix: &str, domain: Option<&str>) -> Result<(), StoreError>;
    /// Every trusted peer.
    async fn trusted(&self) -> Result<Vec<TrustedPeer>, StoreError>;
    /// Adds a trusted peer ([`StoreError::Duplicate`] for the same CIDR,
    /// [`StoreError::NotFound`] for a gateway that does not exist).
    async fn add_trusted(&self, peer: &TrustedPeer) -> Result<(), StoreError>;
    /// Deletes the trusted peer of `cidr` (as [`check_cidr`] writes it).
    async fn delete_trusted(&self, cidr: &str) -> Result<(), StoreError>;
    /// Every dial-plan rule, by domain then priority.
    async fn dial_rules(&self) -> Result<Vec<crate::DialRule>, StoreError>;
    /// Adds a rule ([`StoreError::Duplicate`] for the same domain and expression).
    async fn add_dial_rule(&self, rule: &crate::DialRule) -> Result<(), StoreError>;
    /// Deletes the rule of `pattern` in `domain`.
    async fn delete_dial_rule(&self, domain: &str, pattern: &str) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_then_prefix() {
        let g = Gateway {
            name: "a".into(),
            addr: "127.0.0.1:5060".parse().unwrap(),
            transport: GatewayTransport::Udp,
            strip: 2,
            prefix: "+49".into(),
            probe_secs: 0,
            tls_verify: TlsVerify::Verify,
        };
        assert_eq!(g.translate("0030123"), "+4930123");
        assert_eq!(g.translate("0"), "+49");
        assert_eq!(g.tls_summary(), "-", "not a TLS gateway");
        let hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let pinned = Gateway {
            transport: GatewayTransport::Tls,
            tls_verify: TlsVerify::parse(&format!("pin:{hex}")).unwrap(),
            ..g.clone()
        };
        assert_eq!(pinned.tls_summary(), "pin:00112233...");
        let skipped = Gateway {
            tls_verify: TlsVerify::Skip,
            ..pinned
        };
        assert_eq!(skipped.tls_summary(), "skip");
    }

    #[test]
    fn tls_verify_parses_pins_with_or_without_colons() {
        let hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
        let pin = TlsVerify::parse(&format!("pin:{hex}")).unwrap();
        let TlsVerify::Pin(bytes) = pin else {
            panic!("not a pin: {pin:?}")
        };
        assert_eq!(bytes[1], 0x11);
        assert_eq!(bytes[31], 0xff);
        let shown = pin.to_string();
        assert!(shown.starts_with("pin:00:11:22"), "{shown}");
        assert_eq!(TlsVerify::parse(&shown).unwrap(), pin, "Display reads back");
        assert_eq!(TlsVerify::parse(&format!("PIN:{hex}")).unwrap(), pin);
        assert_eq!(TlsVerify::parse("Verify").unwrap(), TlsVerify::Verify);
        assert_eq!(TlsVerify::parse("skip").unwrap(), TlsVerify::Skip);
        assert_eq!(TlsVerify::Skip.to_string(), "skip");
    }

    #[test]
    fn bad_tls_verify_says_why() {
        assert!(TlsVerify::parse("trust")
            .unwrap_err()
            .contains("verify, skip or pin"));
        assert!(TlsVerify::parse("pin:abcd")
            .unwrap_err()
            .contains("4 hex digits"));
        let not_hex = format!("pin:{}", "zz".repeat(32));
        assert!(TlsVerify::parse(&not_hex).unwrap_err().contains("not hex"));
        assert!(TlsVerify::parse("").is_err());
    }

    #[test]
    fn numbers_and_classes() {
        assert!(is_number("+4930123"));
        assert!(is_number("*21#"));
        assert!(!is_number("alice"));
        assert!(!is_number("+"));
        assert!(CallClass::Premium > CallClass::International);
        assert_eq!(CallClass::parse("National"), Some(CallClass::National));
    }

    #[test]
    fn bad_routes_are_named() {
        let r = Route {
            prefix: "49x".into(),
            domain: None,
            gateways: vec!["a".into()],
            class: CallClass::National,
        };
        assert!(r.check().unwrap_err().to_string().contains("prefix"));
    }
}
