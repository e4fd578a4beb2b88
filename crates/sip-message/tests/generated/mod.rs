//! The message generator shared by the property tests: requests and responses with every
//! header spelling, separator, fold and list layout the parser must accept, together with
//! what each must parse to (the model).
#![allow(clippy::unwrap_used)]
// Each test file uses only some of these.
#![allow(dead_code)]

use proptest::prelude::*;
use sip_message::{HeaderName, Method};

/// One header line of a generated message.
#[derive(Debug, Clone)]
pub struct Line {
    /// The name as written (long, compact or odd case).
    pub name: String,
    /// What the parser must recognise it as.
    pub kind: HeaderName,
    /// Between the name and the first value: `:`, ` : `, `:\t`, a fold...
    pub sep: String,
    /// The values (several only for list headers), trimmed.
    pub values: Vec<String>,
    /// Between consecutive values: `,`, `, `, `,\r\n `...
    pub joiners: Vec<String>,
    /// Whitespace before the CRLF.
    pub trail: String,
}

impl Line {
    pub fn render(&self, out: &mut String) {
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
pub struct Gen {
    pub start: String,
    pub request: bool,
    pub method: String,
    pub ruri: String,
    pub status: u16,
    pub lines: Vec<Line>,
    pub call_id: String,
    pub cseq: u32,
    pub from_tag: String,
    pub to_tag: Option<String>,
    pub max_forwards: Option<u8>,
    pub body: Vec<u8>,
    pub content_length: Option<u32>,
}

impl Gen {
    pub fn bytes(&self) -> Vec<u8> {
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
    pub fn fields(&self) -> Vec<(HeaderName, String, String)> {
        let mut v = Vec::new();
        for l in &self.lines {
            for val in &l.values {
                v.push((l.kind, l.name.clone(), val.clone()));
            }
        }
        v
    }

    pub fn via_count(&self) -> usize {
        self.fields()
            .iter()
            .filter(|f| f.0 == HeaderName::Via)
            .count()
    }
}

pub fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9.!%*_+`'~-]{0,9}"
}

pub fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(
            Method::KNOWN
                .iter()
                .filter_map(|m| m.as_str())
                .collect::<Vec<_>>()
        )
        .prop_map(String::from),
        "[A-Za-z][A-Za-z0-9.!%*_+`'~-]{0,11}",
    ]
}

pub fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,8}(\\.[a-z][a-z0-9]{0,6}){0,2}",
        (1u8..=254, 0u8..=255, 0u8..=255, 1u8..=254)
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        Just("[2001:db8::1]".to_string()),
        Just("[::ffff:192.0.2.1]".to_string()),
    ]
}

pub fn uri_param() -> impl Strategy<Value = String> {
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

pub fn sip_uri() -> impl Strategy<Value = String> {
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

pub fn any_uri() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => sip_uri(),
        1 => ("[0-9]{3,10}", prop::option::of("[a-z]{2,8}\\.com"))
            .prop_map(|(n, ctx)| match ctx {
                Some(c) => format!("tel:{n};phone-context={c}"),
                None => format!("tel:+{n}"),
            }),
    ]
}

pub fn via_value() -> impl Strategy<Value = String> {
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

pub fn display_name() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        "[A-Za-z][A-Za-z0-9 .]{0,10}".prop_map(|s| Some(format!("\"{s}\""))),
        "[A-Za-z ,;<>@:]{0,6}".prop_map(|s| Some(format!("\"{s} \\\"q\\\\\""))),
        "[A-Za-z][A-Za-z0-9]{0,8}".prop_map(Some),
    ]
}

/// A name-addr; `tag` adds `;tag=`. Without brackets only when there is no display name.
pub fn name_addr(tag: Option<String>) -> impl Strategy<Value = String> {
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

pub fn sep() -> impl Strategy<Value = String> {
    prop::sample::select(vec![": ", ":", " : ", ":\t", ":  ", ":\r\n "]).prop_map(String::from)
}

pub fn joiner() -> impl Strategy<Value = String> {
    prop::sample::select(vec![", ", ",", " , ", ",\r\n ", ",\t"]).prop_map(String::from)
}

pub fn trail() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["", "", "", " ", "\t"]).prop_map(String::from)
}

/// Lines for a list header: `values` spread over lines, several per line when asked.
pub fn list_lines(
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

pub fn line(name: &str, kind: HeaderName, sep: String, value: String) -> Line {
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
pub fn unknown_lines() -> impl Strategy<Value = Vec<Line>> {
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

pub fn message() -> impl Strategy<Value = Gen> {
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
