//! Incoming and outgoing call screening (RFC 5359 §2.13, §2.14): who a party is, and
//! whether a user's rules block it.

use model::{ScreenDirection, ScreenPattern, ScreenRule};
use sip_message::{Method, SipMessage, Uri};

/// The party a rule is matched against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Party {
    /// User part (or number), when any.
    pub user: Option<String>,
    /// Host, lowercase.
    pub host: String,
    /// The party hides its identity.
    pub anonymous: bool,
}

impl Party {
    /// The party a URI names.
    pub fn of_uri(uri: &Uri<'_>) -> Party {
        let host = uri.host_unbracketed().to_ascii_lowercase();
        let user = uri.user.map(str::to_string);
        let anonymous = host == "anonymous.invalid"
            || user
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case("anonymous"));
        Party {
            user,
            host,
            anonymous,
        }
    }

    /// The caller of a request: its From URI, anonymous also when it asks for identity
    /// privacy (`Privacy: id` or `header`, RFC 3323/3325).
    pub fn caller(req: &SipMessage) -> Option<Party> {
        let from = req.from()?;
        let mut p = Party::of_uri(&from.uri);
        if privacy_requested(req) {
            p.anonymous = true;
        }
        Some(p)
    }
}

/// True when the request carries `Privacy: id` or `Privacy: header`.
pub(crate) fn privacy_requested(req: &SipMessage) -> bool {
    (0..req.fields().len())
        .filter(|&i| req.name_of(i).eq_ignore_ascii_case("Privacy"))
        .flat_map(|i| req.value(i).split([';', ',']))
        .any(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("id") || v.eq_ignore_ascii_case("header")
        })
}

/// Methods screened: requests that start something with the user.
pub(crate) fn screened_method(m: Method) -> bool {
    matches!(
        m,
        Method::Invite | Method::Message | Method::Subscribe | Method::Refer
    )
}

/// The first rule of `direction` blocking `party`.
pub(crate) fn blocking<'r>(
    rules: &'r [ScreenRule],
    direction: ScreenDirection,
    party: &Party,
) -> Option<&'r ScreenPattern> {
    rules
        .iter()
        .filter(|r| r.direction == direction)
        .map(|r| &r.pattern)
        .find(|p| p.matches(party.user.as_deref(), &party.host, party.anonymous))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn req(from: &str, extra: &str) -> SipMessage {
        SipMessage::parse(Bytes::from(format!(
            "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <{from}>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n{extra}Content-Length: 0\r\n\r\n"
        )))
        .unwrap()
    }

    #[test]
    fn anonymous_callers() {
        let a = Party::caller(&req("sip:anonymous@anonymous.invalid", "")).unwrap();
        assert!(a.anonymous);
        let p = Party::caller(&req("sip:carol@example.net", "Privacy: id\r\n")).unwrap();
        assert!(p.anonymous);
        let n = Party::caller(&req("sip:carol@example.net", "")).unwrap();
        assert!(!n.anonymous);
        let rules = vec![
            ScreenRule {
                direction: ScreenDirection::Incoming,
                pattern: ScreenPattern::Anonymous,
            },
            ScreenRule {
                direction: ScreenDirection::Outgoing,
                pattern: ScreenPattern::Domain("example.net".into()),
            },
        ];
        assert!(blocking(&rules, ScreenDirection::Incoming, &a).is_some());
        assert!(blocking(&rules, ScreenDirection::Incoming, &n).is_none());
        assert!(blocking(&rules, ScreenDirection::Outgoing, &n).is_some());
    }
}
