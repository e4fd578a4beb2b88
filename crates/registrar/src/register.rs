//! Processing a REGISTER (RFC 3261 §10.3 steps 5 to 8), and RFC 5626 outbound's part of
//! it (§6): a Contact with `+sip.instance` and `reg-id`, sent over a connection (TCP, TLS,
//! WebSocket) by a phone that supports outbound, is a flow; its binding is keyed by
//! (instance, reg-id), so a registration over a new connection replaces the old flow's
//! binding, and the 200 says `Require: outbound`. Over UDP too (the transport answers the
//! phone's STUN keep-alives, RFC 5626 §8), where the 200 also gives the keep-alive
//! interval (`Flow-Timer`, §4.4.1).

use std::fmt::Write as _;
use std::sync::Arc;

use model::{AddressOfRecord, Binding};
use sip_message::{ContactValue, HeaderName, SipMessage};

use crate::config::RegistrarConfig;
use crate::location::{Change, Location};
use crate::outbound::outbound_applies;

/// What to answer and what to persist.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterOutcome {
    /// Status code of the answer.
    pub status: u16,
    /// Reason phrase, when not the default one.
    pub reason: Option<&'static str>,
    /// Extra header fields for the answer, in order (name, value; no CRLF): Contact,
    /// Path, Min-Expires, Retry-After.
    pub headers: Vec<(&'static str, String)>,
    /// Changes to write to the store.
    pub changes: Vec<Change>,
}

impl RegisterOutcome {
    fn fail(status: u16, reason: &'static str) -> Self {
        RegisterOutcome {
            status,
            reason: Some(reason),
            headers: Vec::new(),
            changes: Vec::new(),
        }
    }

    /// The extra header fields as the lines they print to (each ending with CRLF).
    pub fn header_lines(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.headers {
            let _ = write!(out, "{name}: {value}\r\n");
        }
        out
    }
}

/// The registrar: applies REGISTER requests to the location table.
pub struct Registrar {
    config: RegistrarConfig,
    location: Arc<Location>,
}

struct Requested<'a> {
    uri: &'a str,
    expires: u32,
    q: u16,
    /// RFC 5626: `<+sip.instance>;<reg-id>` when this Contact registers a flow.
    flow: Option<String>,
}

fn parse_q(v: &str) -> Option<u16> {
    // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths: u16 = 0;
    for (i, b) in frac.bytes().enumerate() {
        thousandths += u16::from(b - b'0') * [100, 10, 1][i];
    }
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

impl Registrar {
    /// A registrar over `location`.
    pub fn new(config: RegistrarConfig, location: Arc<Location>) -> Self {
        Registrar { config, location }
    }

    /// The location table.
    pub fn location(&self) -> &Arc<Location> {
        &self.location
    }

    /// The settings.
    pub fn config(&self) -> &RegistrarConfig {
        &self.config
    }

    /// Applies a REGISTER for `aor` (already authenticated and checked to be local).
    /// `source` is `transport:ip:port` of the sender; `now` is Unix seconds.
    pub fn handle(
        &self,
        req: &SipMessage,
        aor: &AddressOfRecord,
        source: &str,
        now: u64,
    ) -> RegisterOutcome {
        let header_expires = match req.header(HeaderName::Expires) {
            Some(v) => match sip_message::text::parse_u32(sip_message::text::trim_lws(v)) {
                Some(n) => Some(n),
                None => return RegisterOutcome::fail(400, "Bad Expires header"),
            },
            None => None,
        };
        let mut star = false;
        let mut wanted: Vec<Requested<'_>> = Vec::new();
        let mut outbound: Option<bool> = None;
        for (_, v) in req.header_values(HeaderName::Contact) {
            match ContactValue::parse(v) {
                Ok(ContactValue::Star) => star = true,
                Ok(ContactValue::Addr(na)) => {
                    let expires = match na.param("expires") {
                        Some(Some(e)) => match sip_message::text::parse_u32(e) {
                            Some(n) => n,
                            None => return RegisterOutcome::fail(400, "Bad expires parameter"),
                        },
                        Some(None) => return RegisterOutcome::fail(400, "Bad expires parameter"),
                        None => header_expires.unwrap_or(self.config.default_expires),
                    };
                    let q = match na.param("q") {
                        Some(Some(q)) => match parse_q(q) {
                            Some(q) => q,
                            None => return RegisterOutcome::fail(400, "Bad q parameter"),
                        },
                        Some(None) => return RegisterOutcome::fail(400, "Bad q parameter"),
                        None => 1000,
                    };
                    if !matches!(
                        na.uri.scheme,
                        sip_message::Scheme::Sip | sip_message::Scheme::Sips
                    ) {
                        return RegisterOutcome::fail(400, "Contact must be a SIP or SIPS URI");
                    }
                    let flow = match (na.param("+sip.instance"), na.param("reg-id")) {
                        (Some(Some(instance)), Some(Some(reg_id))) => {
                            if sip_message::text::parse_u32(reg_id).is_none_or(|n| n == 0) {
                                return RegisterOutcome::fail(400, "Bad reg-id parameter");
                            }
                            let applies = match outbound {
                                Some(a) => a,
                                None => match outbound_applies(req, source) {
                                    Ok(a) => *outbound.insert(a),
                                    Err((status, reason)) => {
                                        return RegisterOutcome::fail(status, reason)
                                    }
                                },
                            };
                            applies.then(|| format!("{instance};{reg_id}"))
                        }
                        _ => None,
                    };
                    wanted.push(Requested {
                        uri: na.uri.raw,
                        expires,
                        q,
                        flow,
                    });
                }
                Err(_) => return RegisterOutcome::fail(400, "Bad Contact header"),
            }
        }
        let call_id = req.call_id();
        let cseq = req.cseq().seq;

        if star {
            // RFC 3261 §10.3 step 6: '*' only alone and with Expires: 0.
            if !wanted.is_empty() || header_expires != Some(0) {
                return RegisterOutcome::fail(
                    400,
                    "Wildcard Contact needs Expires: 0 and no other Contact",
                );
            }
            self.location.clear(Some(aor));
            return RegisterOutcome {
                status: 200,
                reason: None,
                headers: Vec::new(),
                changes: vec![Change::DeleteAll(aor.clone())],
            };
        }

        if wanted
            .iter()
            .any(|w| w.expires != 0 && w.expires < self.config.min_expires)
        {
            let mut o = RegisterOutcome::fail(423, "Interval Too Brief");
            o.headers
                .push(("Min-Expires", self.config.min_expires.to_string()));
            return o;
        }

        let path: Vec<String> = req
            .header_values(HeaderName::Path)
            .map(|(_, v)| v.to_string())
            .collect();
        let user_agent = req.header(HeaderName::UserAgent).unwrap_or("").to_string();
        let max_per_aor = self.config.max_contacts_per_aor;
        let max_expires = self.config.max_expires;
        let node = &self.config.node;

        let result = self.location.try_update(aor, |list| {
            let mut changes = Vec::new();
            for w in &wanted {
                let expires = w.expires.min(max_expires);
                // RFC 5626 §6: a flow's binding is the one with its instance and reg-id,
                // whatever its contact (a new connection, a new port).
                let same = |b: &Binding| match &w.flow {
                    Some(f) => b.flow.as_ref() == Some(f) || b.contact == w.uri,
                    None => b.contact == w.uri,
                };
                match list.iter().position(same) {
                    Some(i) => {
                        let b = &list[i];
                        if b.call_id == call_id && cseq <= b.cseq {
                            return Err((400, "Out of order CSeq for this binding"));
                        }
                        if expires == 0 {
                            let gone = list.remove(i);
                            changes.push(Change::Delete(aor.clone(), gone.contact));
                            continue;
                        }
                        let b = &mut list[i];
                        b.flow.clone_from(&w.flow);
                        if b.contact != w.uri {
                            // The flow moved: the store keys bindings by contact.
                            changes.push(Change::Delete(aor.clone(), b.contact.clone()));
                            b.contact = w.uri.to_string();
                        }
                        b.expires_at = now + u64::from(expires);
                        b.q = w.q;
                        b.call_id = call_id.to_string();
                        b.cseq = cseq;
                        b.source = source.to_string();
                        b.path.clone_from(&path);
                        b.user_agent.clone_from(&user_agent);
                        b.node.clone_from(node);
                        changes.push(Change::Save(b.clone()));
                    }
                    None if expires == 0 => {}
                    None => {
                        // Expired entries do not count against the per-AOR bound.
                        list.retain(|b| b.expires_at > now);
                        if list.len() >= max_per_aor {
                            return Err((503, "Too many registered contacts"));
                        }
                        let b = Binding {
                            aor: aor.clone(),
                            contact: w.uri.to_string(),
                            q: w.q,
                            expires_at: now + u64::from(expires),
                            call_id: call_id.to_string(),
                            cseq,
                            source: source.to_string(),
                            path: path.clone(),
                            user_agent: user_agent.clone(),
                            node: node.clone(),
                            flow: w.flow.clone(),
                        };
                        changes.push(Change::Add(b.clone()));
                        list.push(b);
                    }
                }
            }
            Ok(changes)
        });
        let changes = match result {
            Ok(Ok(c)) => c,
            Ok(Err((status, reason))) => return RegisterOutcome::fail(status, reason),
            Err(_) => {
                let mut o = RegisterOutcome::fail(503, "Location table full");
                o.headers.push(("Retry-After", "60".to_string()));
                return o;
            }
        };
        let mut headers = Vec::new();
        for b in self.location.lookup(aor, now) {
            let mut contact = format!("<{}>;expires={}", b.contact, b.remaining(now));
            if b.q != 1000 {
                let _ = write!(contact, ";q={}.{:03}", b.q / 1000, b.q % 1000);
            }
            if let Some((instance, reg_id)) = b.flow.as_deref().and_then(|f| f.rsplit_once(';')) {
                let _ = write!(contact, ";+sip.instance={instance};reg-id={reg_id}");
            }
            headers.push(("Contact", contact));
        }
        for p in &path {
            headers.push(("Path", p.clone()));
        }
        if wanted.iter().any(|w| w.flow.is_some()) {
            headers.push(("Require", "outbound".to_string()));
            if source.starts_with("udp:") && self.config.flow_timer_secs > 0 {
                // A NAT forgets a UDP mapping in tens of seconds: ask for pings that often.
                headers.push(("Flow-Timer", self.config.flow_timer_secs.to_string()));
            }
        }
        RegisterOutcome {
            status: 200,
            reason: None,
            headers,
            changes,
        }
    }
}

#[cfg(test)]
mod tests;
