//! Digest challenges: the value of `WWW-Authenticate` / `Proxy-Authenticate`.

use std::borrow::Cow;
use std::fmt;

use crate::params::{
    own, parse_bool, parse_digest, required, set_once, write_quoted_param, Param, VecWriter,
};
use crate::{Algorithm, AuthParseError, Qop};

/// A parsed or to-be-printed `Digest` challenge (RFC 7616 §3.3, RFC 3261 §22.4).
///
/// String fields borrow from the parsed input where possible.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Challenge<'a> {
    /// `realm` (required).
    pub realm: Cow<'a, str>,
    /// `domain`: space-separated URI list, kept verbatim.
    pub domain: Option<Cow<'a, str>>,
    /// `nonce` (required).
    pub nonce: Cow<'a, str>,
    /// `opaque`, echoed back by the client unchanged.
    pub opaque: Option<Cow<'a, str>>,
    /// `stale=true`: the nonce expired but the credentials were right.
    pub stale: bool,
    /// `algorithm`; `None` means it was absent, which means MD5.
    pub algorithm: Option<Algorithm>,
    /// `qop` options offered, in order, without duplicates. Unknown options
    /// are ignored as RFC 7616 requires. Empty means no `qop` (RFC 2069 mode).
    pub qop: Vec<Qop>,
    /// `userhash=true` (RFC 7616 §3.4.4).
    pub userhash: bool,
    /// Parameters this crate does not interpret (e.g. `charset`), in order.
    pub extra: Vec<Param<'a>>,
}

impl<'a> Challenge<'a> {
    /// Parses a challenge header value, e.g. `Digest realm="x", nonce="y"`.
    pub fn parse(input: &'a str) -> Result<Self, AuthParseError> {
        let mut realm = None;
        let mut domain = None;
        let mut nonce = None;
        let mut opaque = None;
        let mut stale = None;
        let mut algorithm = None;
        let mut qop = None;
        let mut userhash = None;
        let mut extra = Vec::new();
        for param in parse_digest(input)? {
            let name: &str = &param.name;
            if name.eq_ignore_ascii_case("realm") {
                set_once(&mut realm, param.value, "realm")?;
            } else if name.eq_ignore_ascii_case("domain") {
                set_once(&mut domain, param.value, "domain")?;
            } else if name.eq_ignore_ascii_case("nonce") {
                set_once(&mut nonce, param.value, "nonce")?;
            } else if name.eq_ignore_ascii_case("opaque") {
                set_once(&mut opaque, param.value, "opaque")?;
            } else if name.eq_ignore_ascii_case("stale") {
                // RFC 7616: anything other than "true" means false.
                let v = param.value.eq_ignore_ascii_case("true");
                set_once(&mut stale, v, "stale")?;
            } else if name.eq_ignore_ascii_case("algorithm") {
                set_once(&mut algorithm, param.value.parse()?, "algorithm")?;
            } else if name.eq_ignore_ascii_case("qop") {
                set_once(&mut qop, parse_qop_options(&param.value), "qop")?;
            } else if name.eq_ignore_ascii_case("userhash") {
                set_once(
                    &mut userhash,
                    parse_bool(&param.value, "userhash")?,
                    "userhash",
                )?;
            } else {
                extra.push(param);
            }
        }
        Ok(Challenge {
            realm: required(realm, "realm")?,
            domain,
            nonce: required(nonce, "nonce")?,
            opaque,
            stale: stale.unwrap_or(false),
            algorithm,
            qop: qop.unwrap_or_default(),
            userhash: userhash.unwrap_or(false),
            extra,
        })
    }

    /// Parses a challenge from bytes (must be UTF-8).
    pub fn parse_bytes(input: &'a [u8]) -> Result<Self, AuthParseError> {
        Self::parse(crate::params::as_str(input)?)
    }

    /// The algorithm in effect: the explicit one, or MD5 when absent.
    pub fn effective_algorithm(&self) -> Algorithm {
        self.algorithm.unwrap_or(Algorithm::Md5)
    }

    /// Copies all borrowed data so the challenge outlives its input.
    pub fn into_owned(self) -> Challenge<'static> {
        Challenge {
            realm: own(self.realm),
            domain: self.domain.map(own),
            nonce: own(self.nonce),
            opaque: self.opaque.map(own),
            stale: self.stale,
            algorithm: self.algorithm,
            qop: self.qop,
            userhash: self.userhash,
            extra: self.extra.into_iter().map(Param::into_owned).collect(),
        }
    }

    /// Appends the header value (without the header name) to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        // Writing into a Vec cannot fail.
        let _ = self.write_fmt_into(&mut VecWriter(out));
    }

    fn write_fmt_into<W: fmt::Write>(&self, w: &mut W) -> fmt::Result {
        write_quoted_param(w, "Digest realm=", Some(&self.realm))?;
        write_quoted_param(w, ", domain=", self.domain.as_deref())?;
        write_quoted_param(w, ", nonce=", Some(&self.nonce))?;
        write_quoted_param(w, ", opaque=", self.opaque.as_deref())?;
        if self.stale {
            w.write_str(", stale=true")?;
        }
        if let Some(alg) = self.algorithm {
            w.write_str(", algorithm=")?;
            w.write_str(alg.as_str())?;
        }
        if !self.qop.is_empty() {
            w.write_str(", qop=\"")?;
            for (i, q) in self.qop.iter().enumerate() {
                if i > 0 {
                    w.write_char(',')?;
                }
                w.write_str(q.as_str())?;
            }
            w.write_char('"')?;
        }
        if self.userhash {
            w.write_str(", userhash=true")?;
        }
        for param in &self.extra {
            w.write_str(", ")?;
            param.write(w)?;
        }
        Ok(())
    }
}

impl fmt::Display for Challenge<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_fmt_into(f)
    }
}

/// Splits `qop="auth, auth-int"`, keeping known options once each, in order.
fn parse_qop_options(value: &str) -> Vec<Qop> {
    let mut out = Vec::with_capacity(2);
    for item in value.split(',') {
        if let Ok(q) = item.trim_matches([' ', '\t']).parse::<Qop>() {
            if !out.contains(&q) {
                out.push(q);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(c: &Challenge<'_>) {
        let printed = c.to_string();
        let mut bytes = Vec::new();
        c.write_to(&mut bytes);
        assert_eq!(bytes, printed.as_bytes());
        let again = Challenge::parse(&printed).unwrap();
        assert_eq!(&again, c, "{printed}");
    }

    #[test]
    fn rfc7616_challenge() {
        let input = "Digest\r\n    realm=\"http-auth@example.org\",\r\n    qop=\"auth, auth-int\",\r\n    algorithm=SHA-256,\r\n    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
        let c = Challenge::parse(input).unwrap();
        assert_eq!(c.realm, "http-auth@example.org");
        assert_eq!(c.qop, vec![Qop::Auth, Qop::AuthInt]);
        assert_eq!(c.algorithm, Some(Algorithm::Sha256));
        assert_eq!(c.nonce, "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
        assert_eq!(
            c.opaque.as_deref(),
            Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
        );
        assert!(!c.stale);
        assert!(matches!(c.realm, Cow::Borrowed(_)));
        round_trip(&c);
    }

    #[test]
    fn sip_challenge_with_stale_and_extras() {
        let input = r#"DIGEST REALM="atlanta.com", domain="sip:ss1.carrier.com", qop="auth", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=TRUE, algorithm=md5-sess, charset=UTF-8, x-foo="a\"b""#;
        let c = Challenge::parse(input).unwrap();
        assert!(c.stale);
        assert_eq!(c.algorithm, Some(Algorithm::Md5Sess));
        assert_eq!(c.domain.as_deref(), Some("sip:ss1.carrier.com"));
        assert_eq!(c.opaque.as_deref(), Some(""));
        assert_eq!(c.extra.len(), 2);
        assert_eq!(c.extra[0].name, "charset");
        assert!(!c.extra[0].quoted);
        assert_eq!(c.extra[1].value, "a\"b");
        round_trip(&c);
        assert_eq!(
            c.to_string(),
            r#"Digest realm="atlanta.com", domain="sip:ss1.carrier.com", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=true, algorithm=MD5-sess, qop="auth", charset=UTF-8, x-foo="a\"b""#
        );
    }

    #[test]
    fn unknown_qop_options_ignored() {
        let c =
            Challenge::parse(r#"Digest realm="r", nonce="n", qop="auth-conf,auth,auth""#).unwrap();
        assert_eq!(c.qop, vec![Qop::Auth]);
        round_trip(&c);
    }

    #[test]
    fn minimal_challenge_defaults() {
        let c = Challenge::parse_bytes(b"Digest realm=r,nonce=n").unwrap();
        assert_eq!(c.effective_algorithm(), Algorithm::Md5);
        assert!(c.qop.is_empty());
        round_trip(&c);
        let owned = c.clone().into_owned();
        assert_eq!(owned, c);
    }

    #[test]
    fn malformed_challenges() {
        use AuthParseError as E;
        assert_eq!(
            Challenge::parse(r#"Digest nonce="n""#),
            Err(E::MissingParameter("realm"))
        );
        assert_eq!(
            Challenge::parse(r#"Digest realm="r""#),
            Err(E::MissingParameter("nonce"))
        );
        assert_eq!(
            Challenge::parse(r#"Digest realm="r", realm="s", nonce="n""#),
            Err(E::DuplicateParameter("realm"))
        );
        assert_eq!(
            Challenge::parse(r#"Digest realm="r", nonce="n", algorithm=SHA-512-256"#),
            Err(E::UnknownAlgorithm("SHA-512-256".into()))
        );
        assert_eq!(
            Challenge::parse(r#"Digest realm="r", nonce="n", userhash=maybe"#),
            Err(E::BadBoolean("userhash"))
        );
        assert_eq!(
            Challenge::parse_bytes(b"Digest realm=\"\xff\""),
            Err(E::InvalidUtf8)
        );
        assert_eq!(
            Challenge::parse(r#"Basic realm="r""#),
            Err(E::UnknownScheme("Basic".into()))
        );
    }

    #[test]
    fn printing_escapes_hostile_values() {
        let c = Challenge {
            realm: "evil\"\r\nVia: x".into(),
            nonce: "n\\".into(),
            ..Default::default()
        };
        let s = c.to_string();
        assert!(!s.contains('\r') && !s.contains('\n'));
        let back = Challenge::parse(&s).unwrap();
        assert_eq!(back.realm, "evil\"  Via: x");
        assert_eq!(back.nonce, "n\\");
    }
}
