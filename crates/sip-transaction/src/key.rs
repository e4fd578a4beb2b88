//! Transaction keys: which transaction a message belongs to.
//!
//! Client side (RFC 3261 §17.1.3): the branch of the top Via and the CSeq method.
//! Server side (RFC 3261 §17.2.3): the branch and sent-by of the top Via and the method
//! (ACK counts as INVITE) when the branch starts with the magic cookie `z9hG4bK`; otherwise
//! the RFC 2543 fallback: Request-URI, To tag, From tag, Call-ID, CSeq and top Via.
//!
//! An RFC 2543 ACK carries the To tag of the final response while the INVITE usually had
//! none, so an ACK is looked up first with its own To tag and then with none
//! ([`ServerKey::ack_candidates`]). The ACK's To tag is not compared with the tag of the
//! response sent: the layer does not parse the responses it sends.
//!
//! An RFC 3261 server key is kept as a 128-bit hash of `METHOD sent-by branch` (two
//! SipHash-1-3 runs under per-process random keys), not as text: a busy registrar holds
//! tens of thousands of server transactions for Timer J, and the text (~45 bytes plus
//! its allocation) was stored for each. A client key is the same hash of `METHOD branch`:
//! matching each response then allocates nothing. Two live transactions with the same
//! 128-bit hash (odds about n²/2¹²⁹, 10⁻²⁷ for a million) would be taken for one; the keys
//! are secret, so nobody can aim for that.

use std::cell::RefCell;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::OnceLock;

use sip_message::via::MAGIC_COOKIE;
use sip_message::SipMessage;

/// The key of a client transaction: the 128-bit keyed hash of `METHOD branch`, like an
/// RFC 3261 server key (see the module docs), so that matching a response allocates
/// nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ClientKey {
    hash: [u64; 2],
}

impl ClientKey {
    /// The key of the client transaction that sent a request with this top Via branch and
    /// method.
    pub(crate) fn new(branch: &str, method: &str) -> ClientKey {
        ClientKey {
            hash: hash_text(|key| {
                key.push_str(method);
                key.push(' ');
                key.push_str(branch);
            }),
        }
    }

    /// The key of a request this element sends, or `None` when it has no branch.
    pub(crate) fn of_request(msg: &SipMessage) -> Option<ClientKey> {
        Some(ClientKey::new(msg.branch()?, msg.method_str()))
    }

    /// The key a response matches, or `None` when it has no branch.
    pub(crate) fn of_response(msg: &SipMessage) -> Option<ClientKey> {
        Some(ClientKey::new(msg.branch()?, msg.cseq().method_str))
    }
}

/// The key of a server transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ServerKey {
    /// RFC 3261: the branch has the magic cookie. `hash` is the 128-bit keyed hash of
    /// `METHOD sent-by branch` (none of the three holds a space; see the module docs).
    Branch { hash: [u64; 2] },
    /// RFC 2543 fallback (boxed: rare, and five times the size of `Branch`).
    Legacy(Box<LegacyKey>),
}

/// The RFC 2543 matching fields (RFC 3261 §17.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct LegacyKey {
    request_uri: Box<str>,
    to_tag: Option<Box<str>>,
    from_tag: Option<Box<str>>,
    call_id: Box<str>,
    cseq: u32,
    method: Box<str>,
    top_via: Box<str>,
}

thread_local! {
    /// Where a key's text is put together before it is hashed.
    static SCRATCH: RefCell<String> = RefCell::new(String::with_capacity(128));
}

/// The 128-bit keyed hash of the text `write` puts together (a client key's or an RFC 3261
/// server key's), written into a reused buffer rather than a new string.
fn hash_text(write: impl FnOnce(&mut String)) -> [u64; 2] {
    static KEYS: OnceLock<[RandomState; 2]> = OnceLock::new();
    let [a, b] = KEYS.get_or_init(|| [RandomState::new(), RandomState::new()]);
    SCRATCH.with(|key| {
        let mut key = key.borrow_mut();
        key.clear();
        write(&mut key);
        [a.hash_one(key.as_str()), b.hash_one(key.as_str())]
    })
}

/// True when `branch` is an RFC 3261 branch.
pub(crate) fn is_rfc3261_branch(branch: Option<&str>) -> bool {
    branch.is_some_and(|b| b.starts_with(MAGIC_COOKIE))
}

impl ServerKey {
    /// The key of the transaction `msg` belongs to, naming its method `method`.
    fn with_method(msg: &SipMessage, method: &str) -> ServerKey {
        let via = msg.top_via();
        match msg.branch() {
            Some(branch) if is_rfc3261_branch(Some(branch)) => ServerKey::Branch {
                hash: hash_text(|key| {
                    key.push_str(method);
                    key.push(' ');
                    if let Some(v) = via {
                        push_sent_by(key, v.host, v.port);
                    }
                    key.push(' ');
                    key.push_str(branch);
                }),
            },
            _ => ServerKey::Legacy(Box::new(LegacyKey {
                request_uri: msg.request_uri_str().into(),
                to_tag: msg.to_tag().map(Into::into),
                from_tag: msg.from_tag().map(Into::into),
                call_id: msg.call_id().into(),
                cseq: msg.cseq().seq,
                method: method.into(),
                top_via: match via {
                    Some(v) => format!(
                        "{}/{}{}",
                        v.transport.to_ascii_uppercase(),
                        sent_by(v.host, v.port),
                        v.params
                    )
                    .into(),
                    None => msg.value(msg.top_via_index()).trim().into(),
                },
            })),
        }
    }

    /// The key of a request (not an ACK): the transaction it creates or retransmits.
    pub(crate) fn of_request(msg: &SipMessage) -> ServerKey {
        ServerKey::with_method(msg, msg.method_str())
    }

    /// The key of the INVITE transaction a CANCEL cancels (RFC 3261 §9.2).
    pub(crate) fn invite_of_cancel(cancel: &SipMessage) -> ServerKey {
        ServerKey::with_method(cancel, "INVITE")
    }

    /// The keys of the INVITE transaction an ACK may belong to, in lookup order.
    pub(crate) fn ack_candidates(ack: &SipMessage) -> (ServerKey, Option<ServerKey>) {
        let key = ServerKey::with_method(ack, "INVITE");
        let fallback = match &key {
            ServerKey::Legacy(legacy) if legacy.to_tag.is_some() => {
                let mut k = legacy.clone();
                k.to_tag = None;
                Some(ServerKey::Legacy(k))
            }
            _ => None,
        };
        (key, fallback)
    }
}

/// `host:port` with the host lower-cased (host names compare case-insensitively).
fn sent_by(host: &str, port: Option<u16>) -> String {
    let mut s = String::with_capacity(host.len() + 6);
    push_sent_by(&mut s, host, port);
    s
}

fn push_sent_by(out: &mut String, host: &str, port: Option<u16>) {
    out.extend(host.chars().map(|c| c.to_ascii_lowercase()));
    if let Some(p) = port {
        use std::fmt::Write as _;
        let _ = write!(out, ":{p}");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use bytes::Bytes;

    fn parse(s: &str) -> SipMessage {
        SipMessage::parse(Bytes::from(s.replace("\r\n", "\n").replace('\n', "\r\n"))).unwrap()
    }

    fn req(method: &str, branch: &str, to_tag: &str, cseq_method: &str) -> SipMessage {
        parse(&format!(
            "{method} sip:bob@example.com SIP/2.0\n\
             Via: SIP/2.0/UDP PC33.example.com:5060;branch={branch}\n\
             Max-Forwards: 70\n\
             To: <sip:bob@example.com>{to_tag}\n\
             From: <sip:alice@example.com>;tag=1928301774\n\
             Call-ID: a84b4c76e66710\n\
             CSeq: 314159 {cseq_method}\n\
             Content-Length: 0\n\n"
        ))
    }

    #[test]
    fn rfc3261_keys() {
        let invite = req("INVITE", "z9hG4bK776asdhds", "", "INVITE");
        let ack = req("ACK", "z9hG4bK776asdhds", ";tag=x", "ACK");
        let cancel = req("CANCEL", "z9hG4bK776asdhds", "", "CANCEL");
        let k = ServerKey::of_request(&invite);
        assert_eq!(ServerKey::ack_candidates(&ack), (k.clone(), None));
        assert_eq!(ServerKey::invite_of_cancel(&cancel), k);
        assert_ne!(ServerKey::of_request(&cancel), k);
        // sent-by host compares case-insensitively
        let upper = parse(
            &invite
                .head()
                .replace("PC33.example.com", "pc33.EXAMPLE.com"),
        );
        assert_eq!(ServerKey::of_request(&upper), k);
        // a different port is a different transaction
        let other = parse(&invite.head().replace(":5060", ":5070"));
        assert_ne!(ServerKey::of_request(&other), k);
    }

    #[test]
    fn rfc2543_keys() {
        let invite = req("INVITE", "1234", "", "INVITE");
        let k = ServerKey::of_request(&invite);
        assert!(matches!(k, ServerKey::Legacy(_)));
        let ack = req("ACK", "1234", ";tag=x", "ACK");
        let (first, second) = ServerKey::ack_candidates(&ack);
        assert_ne!(first, k);
        assert_eq!(second, Some(k.clone()));
        let cancel = req("CANCEL", "1234", "", "CANCEL");
        assert_eq!(ServerKey::invite_of_cancel(&cancel), k);
        let other_call = parse(&invite.head().replace("a84b4c76e66710", "zzz"));
        assert_ne!(ServerKey::of_request(&other_call), k);
    }

    #[test]
    fn client_keys() {
        let invite = req("INVITE", "z9hG4bKabc", "", "INVITE");
        let resp = parse(
            "SIP/2.0 180 Ringing\n\
             Via: SIP/2.0/UDP PC33.example.com:5060;branch=z9hG4bKabc\n\
             To: <sip:bob@example.com>;tag=1\n\
             From: <sip:alice@example.com>;tag=1928301774\n\
             Call-ID: a84b4c76e66710\n\
             CSeq: 314159 INVITE\n\
             Content-Length: 0\n\n",
        );
        assert_eq!(
            ClientKey::of_request(&invite),
            ClientKey::of_response(&resp)
        );
        let cancel_resp = parse(&resp.head().replace("314159 INVITE", "314159 CANCEL"));
        assert_ne!(
            ClientKey::of_request(&invite),
            ClientKey::of_response(&cancel_resp)
        );
        let other_branch = parse(&resp.head().replace("z9hG4bKabc", "z9hG4bKabd"));
        assert_ne!(
            ClientKey::of_request(&invite),
            ClientKey::of_response(&other_branch)
        );
        assert_eq!(
            ClientKey::of_request(&invite),
            Some(ClientKey::new("z9hG4bKabc", "INVITE"))
        );
    }
}
