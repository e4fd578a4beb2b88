//! The registrar's REGISTER handling, tested on parsed messages (no sockets, no clock).

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
    format!(
        "<sip:alice@192.0.2.1:{port};transport=tcp;ob>;+sip.instance={INSTANCE};reg-id={reg_id}"
    )
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
