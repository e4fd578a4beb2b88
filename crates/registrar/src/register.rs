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
mod tests {
    use super::*;
    use bytes::Bytes;

    fn reg(contact: &str, extra: &str, call_id: &str, cseq: u32) -> SipMessage {
        let contact_line = if contact.is_empty() {
            String::new()
        } else {
            format!("Contact: {contact}\r\n")
        };
        let s = format!(
            "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK{cseq}\r\n\
             From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\nCall-ID: {call_id}\r\n\
             CSeq: {cseq} REGISTER\r\n{contact_line}{extra}Content-Length: 0\r\n\r\n"
        );
        SipMessage::parse(Bytes::from(s)).unwrap()
    }

    fn setup() -> (Registrar, AddressOfRecord) {
        let loc = Arc::new(Location::new(100));
        (
            Registrar::new(RegistrarConfig::default(), loc),
            AddressOfRecord::new("alice", "example.com"),
        )
    }

    #[test]
    fn register_refresh_query_remove() {
        let (r, aor) = setup();
        let o = r.handle(
            &reg("<sip:alice@192.0.2.1:5060>", "Expires: 600\r\n", "c1", 1),
            &aor,
            "udp:192.0.2.1:5060",
            1000,
        );
        assert_eq!(o.status, 200);
        assert_eq!(
            o.header_lines(),
            "Contact: <sip:alice@192.0.2.1:5060>;expires=600\r\n"
        );
        assert_eq!(o.changes.len(), 1);
        // Second device with q.
        let o = r.handle(
            &reg("<sip:alice@192.0.2.2>;q=0.5;expires=120", "", "c2", 1),
            &aor,
            "udp:192.0.2.2:5060",
            1000,
        );
        assert_eq!(o.status, 200);
        assert_eq!(r.location().lookup(&aor, 1000).len(), 2);
        assert!(o
            .header_lines()
            .contains("Contact: <sip:alice@192.0.2.2>;expires=120;q=0.500\r\n"));
        // Query.
        let o = r.handle(&reg("", "", "c3", 1), &aor, "udp:192.0.2.3:5060", 1001);
        assert_eq!(o.status, 200);
        assert_eq!(o.header_lines().matches("Contact:").count(), 2);
        assert!(o.changes.is_empty());
        // Out of order CSeq on the same Call-ID.
        let o = r.handle(
            &reg("<sip:alice@192.0.2.1:5060>", "", "c1", 1),
            &aor,
            "udp:192.0.2.1:5060",
            1002,
        );
        assert_eq!(o.status, 400);
        // Remove one with expires=0.
        let o = r.handle(
            &reg("<sip:alice@192.0.2.1:5060>;expires=0", "", "c1", 2),
            &aor,
            "udp:192.0.2.1:5060",
            1002,
        );
        assert_eq!(o.status, 200);
        assert_eq!(r.location().lookup(&aor, 1002).len(), 1);
        // Wildcard needs Expires: 0.
        assert_eq!(
            r.handle(&reg("*", "", "c1", 3), &aor, "x", 1003).status,
            400
        );
        let o = r.handle(&reg("*", "Expires: 0\r\n", "c1", 4), &aor, "x", 1003);
        assert_eq!(o.status, 200);
        assert_eq!(o.changes, vec![Change::DeleteAll(aor.clone())]);
        assert!(r.location().lookup(&aor, 1003).is_empty());
        assert_eq!(r.location().len(), 0);
    }

    #[test]
    fn too_brief_and_bounds() {
        let (r, aor) = setup();
        let o = r.handle(
            &reg("<sip:alice@192.0.2.1>", "Expires: 10\r\n", "c1", 1),
            &aor,
            "x",
            1,
        );
        assert_eq!(
            (o.status, o.header_lines().as_str()),
            (423, "Min-Expires: 60\r\n")
        );
        // Capped at max_expires.
        let o = r.handle(
            &reg("<sip:alice@192.0.2.1>", "Expires: 99999\r\n", "c1", 2),
            &aor,
            "x",
            1,
        );
        assert!(o.header_lines().contains("expires=3600"));
        for i in 2..=10 {
            let c = format!("<sip:alice@192.0.2.{i}>");
            assert_eq!(
                r.handle(&reg(&c, "", &format!("d{i}"), 1), &aor, "x", 1)
                    .status,
                200
            );
        }
        let o = r.handle(&reg("<sip:alice@192.0.2.99>", "", "z", 1), &aor, "x", 1);
        assert_eq!(o.status, 503);
        // Expired bindings are purged and do not count.
        assert_eq!(r.location().purge_expired(10_000).len(), 10);
        assert_eq!(r.location().len(), 0);
    }

    #[test]
    fn table_bound_gives_503_retry_after() {
        let loc = Arc::new(Location::new(1));
        let r = Registrar::new(RegistrarConfig::default(), loc);
        let a = AddressOfRecord::new("a", "example.com");
        let b = AddressOfRecord::new("b", "example.com");
        assert_eq!(
            r.handle(&reg("<sip:a@192.0.2.1>", "", "1", 1), &a, "x", 1)
                .status,
            200
        );
        let o = r.handle(&reg("<sip:b@192.0.2.1>", "", "2", 1), &b, "x", 1);
        assert_eq!(o.status, 503);
        assert!(o.header_lines().contains("Retry-After"));
    }

    const INSTANCE: &str = "\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"";

    fn outbound_contact(port: u16, reg_id: u32) -> String {
        format!("<sip:alice@192.0.2.1:{port};transport=tcp;ob>;+sip.instance={INSTANCE};reg-id={reg_id}")
    }

    #[test]
    fn outbound_flows_are_keyed_by_instance_and_reg_id() {
        let (r, aor) = setup();
        let sup = "Supported: path, outbound\r\n";
        let o = r.handle(
            &reg(&outbound_contact(40001, 1), sup, "c1", 1),
            &aor,
            "tcp:192.0.2.1:40001",
            1000,
        );
        assert_eq!(o.status, 200);
        let lines = o.header_lines();
        assert!(lines.contains("Require: outbound\r\n"), "{lines}");
        assert!(
            lines.contains(&format!(";expires=3600;+sip.instance={INSTANCE};reg-id=1")),
            "{lines}"
        );
        // The phone reconnects (a new connection, a new port) and registers the same flow:
        // its binding moves; the old contact is deleted from the store.
        let o = r.handle(
            &reg(&outbound_contact(40002, 1), sup, "c2", 1),
            &aor,
            "tcp:192.0.2.1:40002",
            1010,
        );
        assert_eq!(o.status, 200);
        let bound = r.location().lookup(&aor, 1010);
        assert_eq!(bound.len(), 1, "{bound:?}");
        assert_eq!(bound[0].source, "tcp:192.0.2.1:40002");
        assert_eq!(
            bound[0].contact,
            "sip:alice@192.0.2.1:40002;transport=tcp;ob"
        );
        assert_eq!(
            o.changes[0],
            Change::Delete(
                aor.clone(),
                "sip:alice@192.0.2.1:40001;transport=tcp;ob".into()
            )
        );
        assert!(matches!(&o.changes[1], Change::Save(b) if b.source == "tcp:192.0.2.1:40002"));
        // A second flow (reg-id 2, e.g. through another edge) is a second binding.
        let o = r.handle(
            &reg(&outbound_contact(40003, 2), sup, "c3", 1),
            &aor,
            "tcp:192.0.2.1:40003",
            1020,
        );
        assert_eq!(o.status, 200);
        assert_eq!(r.location().lookup(&aor, 1020).len(), 2);
        // Removing a flow by instance and reg-id, whatever the contact now says.
        let o = r.handle(
            &reg(
                &format!("{};expires=0", outbound_contact(49999, 2)),
                sup,
                "c3",
                2,
            ),
            &aor,
            "tcp:192.0.2.1:40003",
            1030,
        );
        assert_eq!(o.status, 200);
        assert_eq!(r.location().lookup(&aor, 1030).len(), 1);
    }

    #[test]
    fn outbound_needs_support_a_connection_and_an_outbound_first_hop() {
        let (r, aor) = setup();
        // Over UDP (the transport answers STUN keep-alives): a flow, and the interval.
        let o = r.handle(
            &reg(
                &outbound_contact(5060, 1),
                "Supported: outbound\r\n",
                "c1",
                1,
            ),
            &aor,
            "udp:192.0.2.1:5060",
            1000,
        );
        assert_eq!(o.status, 200);
        let lines = o.header_lines();
        assert!(lines.contains("Require: outbound\r\n"), "{lines}");
        assert!(lines.contains("Flow-Timer: 25\r\n"), "{lines}");
        assert!(r.location().lookup(&aor, 1000)[0].flow.is_some());
        // Over a connection no Flow-Timer: the phone's CRLF pings at its own pace.
        let o = r.handle(
            &reg(
                &outbound_contact(40009, 2),
                "Supported: outbound\r\n",
                "c9",
                1,
            ),
            &aor,
            "tcp:192.0.2.1:40009",
            1000,
        );
        assert!(o.header_lines().contains("Require: outbound"));
        assert!(!o.header_lines().contains("Flow-Timer"));
        // Without Supported: outbound: plain too.
        let o = r.handle(
            &reg(&outbound_contact(40001, 1), "", "c2", 1),
            &aor,
            "tcp:192.0.2.1:40001",
            1000,
        );
        assert!(!o.header_lines().contains("Require"));
        // Through an edge proxy that does not do outbound (Path without ;ob): 439.
        let o = r.handle(
            &reg(
                &outbound_contact(40001, 1),
                "Supported: outbound\r\nPath: <sip:edge.example.com;lr>\r\n",
                "c3",
                1,
            ),
            &aor,
            "tcp:192.0.2.9:5060",
            1000,
        );
        assert_eq!(
            (o.status, o.reason),
            (439, Some("First Hop Lacks Outbound Support"))
        );
        let o = r.handle(
            &reg(
                "<sip:alice@192.0.2.1>;+sip.instance=\"<urn:x>\";reg-id=0",
                "Supported: outbound\r\n",
                "c4",
                1,
            ),
            &aor,
            "tcp:192.0.2.1:40001",
            1000,
        );
        assert_eq!(o.status, 400);
    }

    #[test]
    fn q_values() {
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("0.7"), Some(700));
        assert_eq!(parse_q("0.125"), Some(125));
        assert_eq!(parse_q("1.5"), None);
        assert_eq!(parse_q("0.1234"), None);
    }
}
