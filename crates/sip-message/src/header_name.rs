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
        // Lowercase into a stack buffer, then one `match` on the bytes: the compiler turns it
        // into a length switch and a few comparisons.
        if b.len() > 24 {
            return HeaderName::Other;
        }
        let mut buf = [0u8; 24];
        for (d, s) in buf.iter_mut().zip(b) {
            *d = s.to_ascii_lowercase();
        }
        match &buf[..b.len()] {
            b"via" => HeaderName::Via,
            b"from" => HeaderName::From,
            b"to" => HeaderName::To,
            b"call-id" => HeaderName::CallId,
            b"cseq" => HeaderName::CSeq,
            b"contact" => HeaderName::Contact,
            b"max-forwards" => HeaderName::MaxForwards,
            b"content-length" => HeaderName::ContentLength,
            b"content-type" => HeaderName::ContentType,
            b"route" => HeaderName::Route,
            b"record-route" => HeaderName::RecordRoute,
            b"expires" => HeaderName::Expires,
            b"authorization" => HeaderName::Authorization,
            b"proxy-authorization" => HeaderName::ProxyAuthorization,
            b"www-authenticate" => HeaderName::WwwAuthenticate,
            b"proxy-authenticate" => HeaderName::ProxyAuthenticate,
            b"user-agent" => HeaderName::UserAgent,
            b"allow" => HeaderName::Allow,
            b"supported" => HeaderName::Supported,
            b"require" => HeaderName::Require,
            b"proxy-require" => HeaderName::ProxyRequire,
            b"unsupported" => HeaderName::Unsupported,
            b"event" => HeaderName::Event,
            b"allow-events" => HeaderName::AllowEvents,
            b"subscription-state" => HeaderName::SubscriptionState,
            b"refer-to" => HeaderName::ReferTo,
            b"referred-by" => HeaderName::ReferredBy,
            b"replaces" => HeaderName::Replaces,
            b"join" => HeaderName::Join,
            b"error-info" => HeaderName::ErrorInfo,
            b"path" => HeaderName::Path,
            b"min-expires" => HeaderName::MinExpires,
            b"retry-after" => HeaderName::RetryAfter,
            b"server" => HeaderName::Server,
            b"accept" => HeaderName::Accept,
            b"accept-encoding" => HeaderName::AcceptEncoding,
            b"accept-language" => HeaderName::AcceptLanguage,
            b"alert-info" => HeaderName::AlertInfo,
            b"authentication-info" => HeaderName::AuthenticationInfo,
            b"call-info" => HeaderName::CallInfo,
            b"content-disposition" => HeaderName::ContentDisposition,
            b"content-encoding" => HeaderName::ContentEncoding,
            b"content-language" => HeaderName::ContentLanguage,
            b"date" => HeaderName::Date,
            b"diversion" => HeaderName::Diversion,
            b"history-info" => HeaderName::HistoryInfo,
            b"in-reply-to" => HeaderName::InReplyTo,
            b"mime-version" => HeaderName::MimeVersion,
            b"organization" => HeaderName::Organization,
            b"p-asserted-identity" => HeaderName::PAssertedIdentity,
            b"priority" => HeaderName::Priority,
            b"rack" => HeaderName::RAck,
            b"reason" => HeaderName::Reason,
            b"reply-to" => HeaderName::ReplyTo,
            b"rseq" => HeaderName::RSeq,
            b"session-expires" => HeaderName::SessionExpires,
            b"subject" => HeaderName::Subject,
            b"timestamp" => HeaderName::Timestamp,
            b"warning" => HeaderName::Warning,
            _ => HeaderName::Other,
        }
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
    fn every_table_name_round_trips() {
        for (canon, hn) in TABLE {
            assert_eq!(HeaderName::parse(canon), *hn, "{canon}");
            assert_eq!(
                HeaderName::parse(&canon.to_ascii_uppercase()),
                *hn,
                "{canon}"
            );
            assert_eq!(hn.as_str(), *canon);
        }
    }

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
