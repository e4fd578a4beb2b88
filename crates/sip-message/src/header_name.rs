//! Header names: the ones SIP elements act on are recognised (with their compact forms,
//! case-insensitively); every other header is [`HeaderName::Other`] and kept byte-exact.

/// A recognised header name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum HeaderName {
    Accept,
    AcceptEncoding,
    AcceptLanguage,
    AlertInfo,
    Allow,
    AllowEvents,
    AuthenticationInfo,
    Authorization,
    CallId,
    CallInfo,
    Contact,
    ContentDisposition,
    ContentEncoding,
    ContentLanguage,
    ContentLength,
    ContentType,
    CSeq,
    Date,
    Diversion,
    ErrorInfo,
    Event,
    Expires,
    From,
    HistoryInfo,
    InReplyTo,
    Join,
    MaxForwards,
    MimeVersion,
    MinExpires,
    Organization,
    PAssertedIdentity,
    Path,
    Priority,
    ProxyAuthenticate,
    ProxyAuthorization,
    ProxyRequire,
    RAck,
    Reason,
    RecordRoute,
    ReferTo,
    ReferredBy,
    Replaces,
    ReplyTo,
    Require,
    RetryAfter,
    Route,
    RSeq,
    Server,
    SessionExpires,
    Subject,
    SubscriptionState,
    Supported,
    Timestamp,
    To,
    Unsupported,
    UserAgent,
    Via,
    Warning,
    WwwAuthenticate,
    /// Any other header; its name is read from the message.
    Other,
}

impl HeaderName {
    /// Recognises a header name, long or compact form, ignoring ASCII case.
    pub fn parse(name: &str) -> HeaderName {
        let b = name.as_bytes();
        if b.len() == 1 {
            return match b[0].to_ascii_lowercase() {
                b'i' => HeaderName::CallId,
                b'm' => HeaderName::Contact,
                b'e' => HeaderName::ContentEncoding,
                b'l' => HeaderName::ContentLength,
                b'c' => HeaderName::ContentType,
                b'f' => HeaderName::From,
                b's' => HeaderName::Subject,
                b'k' => HeaderName::Supported,
                b't' => HeaderName::To,
                b'v' => HeaderName::Via,
                b'o' => HeaderName::Event,
                b'r' => HeaderName::ReferTo,
                b'b' => HeaderName::ReferredBy,
                b'u' => HeaderName::AllowEvents,
                _ => HeaderName::Other,
            };
        }
        // Sorted roughly by frequency on the wire; a length check first keeps this cheap.
        for (canon, hn) in TABLE {
            if canon.len() == b.len() && canon.as_bytes().eq_ignore_ascii_case(b) {
                return *hn;
            }
        }
        HeaderName::Other
    }

    /// The canonical (long) name, as printed in new headers. `Other` gives "".
    pub fn as_str(&self) -> &'static str {
        for (canon, hn) in TABLE {
            if hn == self {
                return canon;
            }
        }
        ""
    }

    /// Headers whose values may be comma-separated lists that this crate splits into one
    /// [`crate::HeaderField`] per value, so a proxy can remove a single Via or Route.
    pub fn is_split_list(&self) -> bool {
        matches!(
            self,
            HeaderName::Via
                | HeaderName::Route
                | HeaderName::RecordRoute
                | HeaderName::Contact
                | HeaderName::Path
        )
    }
}

const TABLE: &[(&str, HeaderName)] = &[
    ("Via", HeaderName::Via),
    ("From", HeaderName::From),
    ("To", HeaderName::To),
    ("Call-ID", HeaderName::CallId),
    ("CSeq", HeaderName::CSeq),
    ("Contact", HeaderName::Contact),
    ("Max-Forwards", HeaderName::MaxForwards),
    ("Content-Length", HeaderName::ContentLength),
    ("Content-Type", HeaderName::ContentType),
    ("Route", HeaderName::Route),
    ("Record-Route", HeaderName::RecordRoute),
    ("Expires", HeaderName::Expires),
    ("Authorization", HeaderName::Authorization),
    ("Proxy-Authorization", HeaderName::ProxyAuthorization),
    ("WWW-Authenticate", HeaderName::WwwAuthenticate),
    ("Proxy-Authenticate", HeaderName::ProxyAuthenticate),
    ("User-Agent", HeaderName::UserAgent),
    ("Allow", HeaderName::Allow),
    ("Supported", HeaderName::Supported),
    ("Require", HeaderName::Require),
    ("Proxy-Require", HeaderName::ProxyRequire),
    ("Unsupported", HeaderName::Unsupported),
    ("Event", HeaderName::Event),
    ("Allow-Events", HeaderName::AllowEvents),
    ("Subscription-State", HeaderName::SubscriptionState),
    ("Refer-To", HeaderName::ReferTo),
    ("Referred-By", HeaderName::ReferredBy),
    ("Replaces", HeaderName::Replaces),
    ("Join", HeaderName::Join),
    ("Error-Info", HeaderName::ErrorInfo),
    ("Path", HeaderName::Path),
    ("Min-Expires", HeaderName::MinExpires),
    ("Retry-After", HeaderName::RetryAfter),
    ("Server", HeaderName::Server),
    ("Accept", HeaderName::Accept),
    ("Accept-Encoding", HeaderName::AcceptEncoding),
    ("Accept-Language", HeaderName::AcceptLanguage),
    ("Alert-Info", HeaderName::AlertInfo),
    ("Authentication-Info", HeaderName::AuthenticationInfo),
    ("Call-Info", HeaderName::CallInfo),
    ("Content-Disposition", HeaderName::ContentDisposition),
    ("Content-Encoding", HeaderName::ContentEncoding),
    ("Content-Language", HeaderName::ContentLanguage),
    ("Date", HeaderName::Date),
    ("Diversion", HeaderName::Diversion),
    ("History-Info", HeaderName::HistoryInfo),
    ("In-Reply-To", HeaderName::InReplyTo),
    ("MIME-Version", HeaderName::MimeVersion),
    ("Organization", HeaderName::Organization),
    ("P-Asserted-Identity", HeaderName::PAssertedIdentity),
    ("Priority", HeaderName::Priority),
    ("RAck", HeaderName::RAck),
    ("Reason", HeaderName::Reason),
    ("Reply-To", HeaderName::ReplyTo),
    ("RSeq", HeaderName::RSeq),
    ("Session-Expires", HeaderName::SessionExpires),
    ("Subject", HeaderName::Subject),
    ("Timestamp", HeaderName::Timestamp),
    ("Warning", HeaderName::Warning),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_compact_and_case() {
        assert_eq!(HeaderName::parse("via"), HeaderName::Via);
        assert_eq!(HeaderName::parse("v"), HeaderName::Via);
        assert_eq!(HeaderName::parse("MaX-fOrWaRdS"), HeaderName::MaxForwards);
        assert_eq!(HeaderName::parse("i"), HeaderName::CallId);
        assert_eq!(HeaderName::parse("C%6Fntact"), HeaderName::Other);
        assert_eq!(HeaderName::CallId.as_str(), "Call-ID");
        assert!(HeaderName::Route.is_split_list());
    }
}
