//! Round-trip properties: generated requests and responses print back byte-exact, reparse to
//! the same fields, and show exactly the edits an [`Editor`] made; the parsers never panic;
//! the stream framer is indifferent to how a stream is cut.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use proptest::prelude::*;
use sip_message::fuzzing::{frames_chunked, frames_whole};
use sip_message::{parse_strict, Editor, Frame, HeaderName, SipMessage};

/// One header line of a generated message.
#[derive(Debug, Clone)]
struct Line {
    /// The name as written (long, compact or odd case).
    name: String,
    /// What the parser must recognise it as.
    kind: HeaderName,
    /// Between the name and the first value: `:`, ` : `, `:\t`, a fold...
    sep: String,
    /// The values (several only for list headers), trimmed.
    values: Vec<String>,
    /// Between consecutive values: `,`, `, `, `,\r\n `...
    joiners: Vec<String>,
    /// Whitespace before the CRLF.
    trail: String,
}

impl Line {
    fn render(&self, out: &mut String) {
        out.push_str(&self.name);
        out.push_str(&self.sep);
        for (i, v) in self.values.iter().enumerate() {
            if i > 0 {
                out.push_str(&self.joiners[i - 1]);
            }
            out.push_str(v);
        }
        out.push_str(&self.trail);
        out.push_str("\r\n");
    }
}

/// A generated message and what it must parse to.
#[derive(Debug, Clone)]
struct Gen {
    start: String,
    request: bool,
    method: String,
    ruri: String,
    status: u16,
    lines: Vec<Line>,
    call_id: String,
    cseq: u32,
    from_tag: String,
    to_tag: Option<String>,
    max_forwards: Option<u8>,
    body: Vec<u8>,
    content_length: Option<u32>,
}

impl Gen {
    fn bytes(&self) -> Vec<u8> {
        let mut s = String::new();
        s.push_str(&self.start);
        s.push_str("\r\n");
        for l in &self.lines {
            l.render(&mut s);
        }
        s.push_str("\r\n");
        let mut b = s.into_bytes();
        b.extend_from_slice(&self.body);
        b
    }

    /// (kind, name as written, value) for every field, lists split.
    fn fields(&self) -> Vec<(HeaderName, String, String)> {
        let mut v = Vec::new();
        for l in &self.lines {
            for val in &l.values {
                v.push((l.kind, l.name.clone(), val.clone()));
            }
        }
        v
    }

    fn via_count(&self) -> usize {
        self.fields()
            .iter()
            .filter(|f| f.0 == HeaderName::Via)
            .count()
    }
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9.!%*_+`'~-]{0,9}"
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "INVITE",
            "ACK",
            "BYE",
            "CANCEL",
            "REGISTER",
            "OPTIONS",
            "INFO",
            "UPDATE",
            "PRACK",
            "SUBSCRIBE",
            "NOTIFY",
            "REFER",
            "MESSAGE",
            "PUBLISH",
        ])
        .prop_map(String::from),
        "[A-Za-z][A-Za-z0-9.!%*_+`'~-]{0,11}",
    ]
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,8}(\\.[a-z][a-z0-9]{0,6}){0,2}",
        (1u8..=254, 0u8..=255, 0u8..=255, 1u8..=254)
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        Just("[2001:db8::1]".to_string()),
        Just("[::ffff:192.0.2.1]".to_string()),
    ]
}

fn uri_param() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(";lr".to_string()),
        prop::sample::select(vec!["udp", "tcp", "tls", "sctp", "ws"])
            .prop_map(|t| format!(";transport={t}")),
        host().prop_map(|h| format!(";maddr={h}")),
        Just(";user=phone".to_string()),
        ("[a-z][a-z0-9-]{0,6}", "[a-zA-Z0-9_.~-]{1,8}").prop_map(|(n, v)| format!(";{n}={v}")),
        "[a-z][a-z0-9-]{0,6}".prop_map(|n| format!(";{n}")),
    ]
}

fn sip_uri() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["sip", "sips", "SIP"]),
        prop::option::of("[a-zA-Z0-9_.!~*'()-]{1,8}(%[0-9A-F]{2})?(:[a-z0-9]{1,6})?"),
        host(),
        prop::option::of(1u16..=65535),
        prop::collection::vec(uri_param(), 0..3),
    )
        .prop_map(|(scheme, user, host, port, params)| {
            let mut s = format!("{scheme}:");
            if let Some(u) = user {
                s.push_str(&u);
                s.push('@');
            }
            s.push_str(&host);
            if let Some(p) = port {
                s.push_str(&format!(":{p}"));
            }
            for p in params {
                s.push_str(&p);
            }
            s
        })
}

fn any_uri() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => sip_uri(),
        1 => ("[0-9]{3,10}", prop::option::of("[a-z]{2,8}\\.com"))
            .prop_map(|(n, ctx)| match ctx {
                Some(c) => format!("tel:{n};phone-context={c}"),
                None => format!("tel:+{n}"),
            }),
    ]
}

fn via_value() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["UDP", "TCP", "TLS", "SCTP", "WS", "WSS"]),
        host(),
        prop::option::of(1u16..=65535),
        "[A-Za-z0-9.!%*_+`'~-]{1,12}",
        prop::option::of(prop::option::of(1u16..=65535)),
        prop::option::of(host()),
    )
        .prop_map(|(t, h, port, branch, rport, received)| {
            let mut s = format!("SIP/2.0/{t} {h}");
            if let Some(p) = port {
                s.push_str(&format!(":{p}"));
            }
            s.push_str(&format!(";branch=z9hG4bK{branch}"));
            match rport {
                Some(Some(p)) => s.push_str(&format!(";rport={p}")),
                Some(None) => s.push_str(";rport"),
                None => {}
            }
            if let Some(r) = received {
                s.push_str(&format!(";received={}", r.trim_matches(['[', ']'])));
            }
            s
        })
}

fn display_name() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        "[A-Za-z][A-Za-z0-9 .]{0,10}".prop_map(|s| Some(format!("\"{s}\""))),
        "[A-Za-z ,;<>@:]{0,6}".prop_map(|s| Some(format!("\"{s} \\\"q\\\\\""))),
        "[A-Za-z][A-Za-z0-9]{0,8}".prop_map(Some),
    ]
}

/// A name-addr; `tag` adds `;tag=`. Without brackets only when there is no display name.
fn name_addr(tag: Option<String>) -> impl Strategy<Value = String> {
    (display_name(), sip_uri(), any::<bool>(), any::<bool>()).prop_map(
        move |(dn, uri, brackets, space)| {
            let mut s = String::new();
            let bracket = brackets || dn.is_some() || uri.contains(';');
            if let Some(d) = &dn {
                s.push_str(d);
                if space {
                    s.push(' ');
                }
            }
            if bracket {
                s.push('<');
                s.push_str(&uri);
                s.push('>');
            } else {
                s.push_str(&uri);
            }
            if let Some(t) = &tag {
                s.push_str(";tag=");
                s.push_str(t);
            }
            s
        },
    )
}

fn sep() -> impl Strategy<Value = String> {
    prop::sample::select(vec![": ", ":", " : ", ":\t", ":  ", ":\r\n "]).prop_map(String::from)
}

fn joiner() -> impl Strategy<Value = String> {
    prop::sample::select(vec![", ", ",", " , ", ",\r\n ", ",\t"]).prop_map(String::from)
}

fn trail() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["", "", "", " ", "\t"]).prop_map(String::from)
}

/// Lines for a list header: `values` spread over lines, several per line when asked.
fn list_lines(
    names: Vec<&'static str>,
    kind: HeaderName,
    values: impl Strategy<Value = String> + 'static,
    count: std::ops::Range<usize>,
) -> impl Strategy<Value = Vec<Line>> {
    prop::collection::vec(
        (
            prop::sample::select(names),
            sep(),
            prop::collection::vec(values, 1..3),
            prop::collection::vec(joiner(), 2),
            trail(),
        ),
        count,
    )
    .prop_map(move |ls| {
        ls.into_iter()
            .map(|(name, sep, values, joiners, trail)| Line {
                name: name.to_string(),
                kind,
                sep,
                values,
                joiners,
                trail,
            })
            .collect()
    })
}

fn line(name: &str, kind: HeaderName, sep: String, value: String) -> Line {
    Line {
        name: name.to_string(),
        kind,
        sep,
        values: vec![value],
        joiners: vec![],
        trail: String::new(),
    }
}

/// Unknown headers with odd values: commas, quotes, brackets, UTF-8, inner folds, empty.
fn unknown_lines() -> impl Strategy<Value = Vec<Line>> {
    prop::collection::vec(
        (
            "X-[A-Za-z0-9-]{1,10}",
            sep(),
            prop_oneof![
                Just(String::new()),
                "[ -~]{0,20}".prop_map(|s| s.trim_matches([' ', '\t']).to_string()),
                "[a-z]{1,5}(, ?[a-z<>\"@;=]{1,5}){0,3}",
                "[a-zé€]{1,6}\r\n[ \t][a-z,]{1,6}",
            ],
            trail(),
        ),
        0..4,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(n, s, val, t)| Line {
                name: n,
                kind: HeaderName::Other,
                // An empty value with a fold separator would fold into nothing: fine too.
                sep: s,
                values: vec![val],
                joiners: vec![],
                trail: t,
            })
            .collect()
    })
}

fn message() -> impl Strategy<Value = Gen> {
    let start = (
        any::<bool>(),
        method(),
        any_uri(),
        100u16..=699,
        "[A-Za-z ]{0,16}",
    );
    let ids = (
        "[A-Za-z0-9.!%*_+~-]{1,16}(@[a-z0-9.]{1,10})?",
        0u32..=u32::MAX,
        token(),
        prop::option::of(token()),
        prop::option::of(any::<u8>()),
    );
    let lists = (
        list_lines(vec!["Via", "v", "VIA"], HeaderName::Via, via_value(), 1..4),
        list_lines(
            vec!["Contact", "m"],
            HeaderName::Contact,
            name_addr(None).prop_map(|s| {
                if s.starts_with('<') || s.starts_with('"') {
                    format!("{s};expires=60")
                } else {
                    s
                }
            }),
            0..2,
        ),
        list_lines(
            vec!["Route", "route"],
            HeaderName::Route,
            sip_uri().prop_map(|u| format!("<{u};lr>")),
            0..3,
        ),
        list_lines(
            vec!["Record-Route"],
            HeaderName::RecordRoute,
            sip_uri().prop_map(|u| format!("<{u};lr>")),
            0..2,
        ),
        unknown_lines(),
    );
    let names = (
        prop::sample::select(vec!["From", "f", "fRoM"]),
        prop::sample::select(vec!["To", "t"]),
        prop::sample::select(vec!["Call-ID", "i", "call-id"]),
        prop::sample::select(vec!["Content-Length", "l"]),
        sep(),
        sep(),
    );
    let body = (
        prop::collection::vec(any::<u8>(), 0..64),
        any::<bool>(),
        any::<bool>(),
    );
    (start, ids, lists, names, body)
        .prop_flat_map(|(start, ids, lists, names, body)| {
            let (request, method, ruri, status, reason) = start;
            let (call_id, cseq, from_tag, to_tag, max_forwards) = ids;
            let (vias, contacts, routes, rrs, unknown) = lists;
            let (from_n, to_n, cid_n, cl_n, sep1, sep2) = names;
            let (body, with_cl, compact_cseq_space) = body;
            let from_s = name_addr(Some(from_tag.clone()));
            let to_s = name_addr(to_tag.clone());
            (from_s, to_s).prop_flat_map(move |(from, to)| {
                let mut lines = Vec::new();
                lines.extend(vias.clone());
                lines.push(line(from_n, HeaderName::From, sep1.clone(), from.clone()));
                lines.push(line(to_n, HeaderName::To, sep2.clone(), to.clone()));
                lines.push(line(
                    cid_n,
                    HeaderName::CallId,
                    ": ".into(),
                    call_id.clone(),
                ));
                let cseq_v = if compact_cseq_space {
                    format!("{cseq}\r\n  {method}")
                } else {
                    format!("{cseq} {method}")
                };
                lines.push(line("CSeq", HeaderName::CSeq, ": ".into(), cseq_v));
                if let Some(mf) = max_forwards {
                    lines.push(line(
                        "Max-Forwards",
                        HeaderName::MaxForwards,
                        ": ".into(),
                        mf.to_string(),
                    ));
                }
                lines.extend(contacts.clone());
                lines.extend(routes.clone());
                lines.extend(rrs.clone());
                lines.extend(unknown.clone());
                if !body.is_empty() {
                    lines.push(line(
                        "Content-Type",
                        HeaderName::ContentType,
                        ": ".into(),
                        "application/octet-stream".into(),
                    ));
                }
                // Without Content-Length the body is the rest of the datagram.
                let content_length = (with_cl || body.is_empty()).then_some(body.len() as u32);
                if let Some(cl) = content_length {
                    lines.push(line(
                        cl_n,
                        HeaderName::ContentLength,
                        ":".into(),
                        cl.to_string(),
                    ));
                }
                let start_line = if request {
                    format!("{method} {ruri} SIP/2.0")
                } else {
                    format!("SIP/2.0 {status} {reason}")
                };
                let g = Gen {
                    start: start_line,
                    request,
                    method: method.clone(),
                    ruri: ruri.clone(),
                    status,
                    lines: vec![],
                    call_id: call_id.clone(),
                    cseq,
                    from_tag: from_tag.clone(),
                    to_tag: to_tag.clone(),
                    max_forwards,
                    body: body.clone(),
                    content_length,
                };
                (Just(g), Just(lines).prop_shuffle())
            })
        })
        .prop_map(|(mut g, lines)| {
            g.lines = lines;
            g
        })
}

fn parse(b: &[u8]) -> SipMessage {
    SipMessage::parse(Bytes::copy_from_slice(b)).unwrap_or_else(|e| {
        panic!(
            "{e}: {:?}",
            String::from_utf8_lossy(&b[..b.len().min(2000)])
        )
    })
}

fn fields_of(m: &SipMessage) -> Vec<(HeaderName, String, String)> {
    (0..m.fields().len())
        .map(|i| {
            (
                m.fields()[i].name,
                m.name_of(i).to_string(),
                m.value(i).to_string(),
            )
        })
        .collect()
}

fn check_against_model(g: &Gen, m: &SipMessage) {
    assert_eq!(m.is_request(), g.request);
    if g.request {
        assert_eq!(m.method_str(), g.method);
        assert_eq!(m.request_uri_str(), g.ruri);
        assert!(m.request_uri().is_some());
    } else {
        assert_eq!(m.status(), g.status);
    }
    assert_eq!(m.cseq().method_str, g.method);
    assert_eq!(m.call_id(), g.call_id);
    assert_eq!(m.cseq().seq, g.cseq);
    assert_eq!(m.from_tag(), Some(g.from_tag.as_str()));
    assert_eq!(m.to_tag(), g.to_tag.as_deref());
    assert_eq!(m.via_count(), g.via_count());
    assert_eq!(m.max_forwards(), g.max_forwards);
    assert_eq!(m.content_length(), g.content_length);
    assert_eq!(m.body().as_ref(), &g.body[..]);
    assert_eq!(fields_of(m), g.fields());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    /// (a) exact print, (b) reparse gives the same fields, and both match the model; the
    /// strict parser accepts every generated message.
    #[test]
    fn print_is_exact_and_reparses(g in message()) {
        let bytes = g.bytes();
        let m = parse(&bytes);
        check_against_model(&g, &m);
        prop_assert_eq!(&m.to_vec(), &bytes);
        prop_assert_eq!(&m.wire()[..], &bytes[..]);
        prop_assert_eq!(&Editor::new(&m).to_vec(), &bytes);
        let again = parse(&m.to_vec());
        sip_message::fuzzing::assert_same_message(&m, &again);
        check_against_model(&g, &again);
        let strict = parse_strict(Bytes::from(bytes.clone()));
        prop_assert!(strict.is_ok(), "{:?}", strict.err());
    }

    /// (c) a proxy's edits show up exactly, and nothing else changes.
    #[test]
    fn edits_show_exactly(g in message(), new_ruri in sip_uri(), mf in any::<u8>(),
                          body in prop::collection::vec(any::<u8>(), 0..40)) {
        let bytes = g.bytes();
        let m = parse(&bytes);
        let mut ed = Editor::new(&m);
        let fields = m.fields();
        let first_via = fields.iter().position(|f| f.name == HeaderName::Via).unwrap();
        let first_route = fields.iter().position(|f| f.name == HeaderName::Route);
        let first_rr = fields.iter().position(|f| f.name == HeaderName::RecordRoute);
        let new_via = "SIP/2.0/TCP proxy.example.net:5060;branch=z9hG4bKnew;rport";
        ed.push_front(HeaderName::Via, format_args!("{new_via}"));
        ed.remove(first_via);
        if let Some(r) = first_route {
            ed.remove(r);
        }
        ed.push_front(HeaderName::RecordRoute, format_args!("<sip:proxy.example.net;lr>"));
        ed.set_max_forwards(mf);
        if g.request {
            ed.set_request_uri(format_args!("{new_ruri}"));
        }
        ed.set_body(Some("application/x-new"), &body);
        let out = ed.to_vec();
        // Printing twice gives the same bytes (the editor is reusable).
        prop_assert_eq!(&ed.to_vec(), &out);
        let e = parse(&out);

        // The expected field list, built from the original one.
        let orig = fields_of(&m);
        let mut want: Vec<(HeaderName, String, String)> = Vec::new();
        let rr_anchor = first_rr.unwrap_or(0);
        for (i, f) in orig.iter().enumerate() {
            if i == first_via {
                want.push((HeaderName::Via, "Via".into(), new_via.into()));
            }
            if i == rr_anchor {
                want.push((HeaderName::RecordRoute, "Record-Route".into(),
                           "<sip:proxy.example.net;lr>".into()));
            }
            if i == first_via || Some(i) == first_route {
                continue;
            }
            let mut f = f.clone();
            match f.0 {
                HeaderName::MaxForwards => f.2 = mf.to_string(),
                HeaderName::ContentType => f.2 = "application/x-new".into(),
                HeaderName::ContentLength => f.2 = body.len().to_string(),
                _ => {}
            }
            want.push(f);
        }
        if g.max_forwards.is_none() {
            want.push((HeaderName::MaxForwards, "Max-Forwards".into(), mf.to_string()));
        }
        if g.body.is_empty() {
            want.push((HeaderName::ContentType, "Content-Type".into(),
                       "application/x-new".into()));
        }
        if g.content_length.is_none() {
            want.push((HeaderName::ContentLength, "Content-Length".into(),
                       body.len().to_string()));
        }
        prop_assert_eq!(fields_of(&e), want);
        prop_assert_eq!(e.body().as_ref(), &body[..]);
        prop_assert_eq!(e.max_forwards(), Some(mf));
        prop_assert_eq!(e.branch(), Some("z9hG4bKnew"));
        prop_assert_eq!(e.via_count(), m.via_count());
        prop_assert_eq!(e.call_id(), m.call_id());
        prop_assert_eq!(e.cseq(), m.cseq());
        prop_assert_eq!(e.from_tag(), m.from_tag());
        prop_assert_eq!(e.to_tag(), m.to_tag());
        if g.request {
            prop_assert_eq!(e.request_uri_str(), new_ruri.as_str());
        } else {
            prop_assert_eq!(e.status(), m.status());
            prop_assert_eq!(e.reason(), m.reason());
        }
        // Lines that were not touched are byte-identical.
        for (i, f) in m.fields().iter().enumerate() {
            let touched = matches!(f.name, HeaderName::Via | HeaderName::Route
                | HeaderName::MaxForwards | HeaderName::ContentType | HeaderName::ContentLength);
            if !touched {
                let line = m.line_of(i);
                prop_assert!(e.head().contains(line), "line {:?} lost", line);
            }
        }
    }

    /// The parsers never panic on arbitrary bytes.
    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = SipMessage::parse(Bytes::from(data.clone()));
        let _ = parse_strict(Bytes::from(data.clone()));
        sip_message::fuzzing::message(&data);
        sip_message::fuzzing::uri(&data);
        sip_message::fuzzing::stream_framing(&data);
    }

    /// Nor on valid messages with a few bytes flipped, inserted or removed; and whatever
    /// still parses keeps every invariant the fuzz target checks.
    #[test]
    fn mutated_messages_never_panic(
        g in message(),
        muts in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..6),
    ) {
        let mut data = g.bytes();
        for (at, op, byte) in muts {
            let byte = match byte % 8 {
                0 => b'\r',
                1 => b'\n',
                2 => b',',
                3 => b';',
                4 => b' ',
                5 => b'"',
                _ => byte,
            };
            if data.is_empty() {
                data.push(byte);
                continue;
            }
            let i = at.index(data.len());
            match op {
                0 => data[i] = byte,
                1 => data.insert(i, byte),
                _ => {
                    data.remove(i);
                }
            }
        }
        let _ = parse_strict(Bytes::from(data.clone()));
        sip_message::fuzzing::message(&data);
    }

    /// Any split of a stream of several messages and keep-alives gives the frames of the
    /// stream fed in one piece, and those are the messages that were sent.
    #[test]
    fn framer_is_indifferent_to_splits(
        msgs in prop::collection::vec((message(), 0u8..4), 1..5),
        sizes in prop::collection::vec(1usize..200, 1..16),
    ) {
        let mut stream = Vec::new();
        let mut want = Vec::new();
        for (g, ka) in &msgs {
            match ka {
                1 => { stream.extend_from_slice(b"\r\n\r\n"); want.push(Frame::Ping); }
                2 => { stream.extend_from_slice(b"\r\n"); want.push(Frame::Pong); }
                _ => {}
            }
            let mut g = g.clone();
            if g.content_length.is_none() {
                // A stream message must carry Content-Length.
                g.lines.push(line("Content-Length", HeaderName::ContentLength, ": ".into(),
                                  g.body.len().to_string()));
            }
            let b = g.bytes();
            want.push(Frame::Message(Bytes::from(b.clone())));
            stream.extend_from_slice(&b);
        }
        let limits = (65_536, 65_536);
        let whole = frames_whole(&stream, limits);
        let got: Vec<Frame> = whole.iter().cloned().map(Result::unwrap).collect();
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(&frames_chunked(&stream, &sizes, limits), &whole);
        prop_assert_eq!(&frames_chunked(&stream, &[1], limits), &whole);
        for f in &got {
            if let Frame::Message(b) = f {
                sip_message::fuzzing::message(b);
            }
        }
    }
}
