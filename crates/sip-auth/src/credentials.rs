//! Digest credentials: the value of `Authorization` / `Proxy-Authorization`.

use std::borrow::Cow;
use std::fmt;

use crate::params::{
    own, parse_bool, parse_digest, required, set_once, write_quoted_param, Param, VecWriter,
};
use crate::{Algorithm, AuthParseError, Qop};

/// Parsed or to-be-printed `Digest` credentials (RFC 7616 §3.4, RFC 3261 §22.4).
///
/// String fields borrow from the parsed input where possible. `username*`
/// (RFC 7616 §3.4.4 extended notation) is not decoded: it is kept in
/// [`Credentials::extra`] and `username` is still required.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Credentials<'a> {
    /// `username`, or the user hash when [`Credentials::userhash`] is set.
    pub username: Cow<'a, str>,
    /// `realm`.
    pub realm: Cow<'a, str>,
    /// `nonce` from the challenge being answered.
    pub nonce: Cow<'a, str>,
    /// `uri`: the digest-uri the response was computed over.
    pub uri: Cow<'a, str>,
    /// `response`: the request digest in hex.
    pub response: Cow<'a, str>,
    /// `algorithm`; `None` means it was absent, which means MD5.
    pub algorithm: Option<Algorithm>,
    /// `cnonce`: required when `qop` is present.
    pub cnonce: Option<Cow<'a, str>>,
    /// `opaque`, echoed from the challenge.
    pub opaque: Option<Cow<'a, str>>,
    /// `qop` chosen by the client; `None` means RFC 2069 compatibility mode.
    pub qop: Option<Qop>,
    /// `nc`: the nonce count, required when `qop` is present.
    pub nc: Option<u32>,
    /// `userhash=true`: `username` is `H(username ":" realm)`.
    pub userhash: bool,
    /// Parameters this crate does not interpret, in order.
    pub extra: Vec<Param<'a>>,
}

impl<'a> Credentials<'a> {
    /// Parses a credentials header value, e.g. `Digest username="bob", ...`.
    ///
    /// Requires `username`, `realm`, `nonce`, `uri` and `response`; when
    /// `qop` is present also `cnonce` and `nc`.
    pub fn parse(input: &'a str) -> Result<Self, AuthParseError> {
        let mut username = None;
        let mut realm = None;
        let mut nonce = None;
        let mut uri = None;
        let mut response = None;
        let mut algorithm = None;
        let mut cnonce = None;
        let mut opaque = None;
        let mut qop = None;
        let mut nc = None;
        let mut userhash = None;
        let mut extra = Vec::new();
        for param in parse_digest(input)? {
            let name: &str = &param.name;
            let v = param.value;
            if name.eq_ignore_ascii_case("username") {
                set_once(&mut username, v, "username")?;
            } else if name.eq_ignore_ascii_case("realm") {
                set_once(&mut realm, v, "realm")?;
            } else if name.eq_ignore_ascii_case("nonce") {
                set_once(&mut nonce, v, "nonce")?;
            } else if name.eq_ignore_ascii_case("uri") {
                set_once(&mut uri, v, "uri")?;
            } else if name.eq_ignore_ascii_case("response") {
                set_once(&mut response, v, "response")?;
            } else if name.eq_ignore_ascii_case("algorithm") {
                set_once(&mut algorithm, v.parse()?, "algorithm")?;
            } else if name.eq_ignore_ascii_case("cnonce") {
                set_once(&mut cnonce, v, "cnonce")?;
            } else if name.eq_ignore_ascii_case("opaque") {
                set_once(&mut opaque, v, "opaque")?;
            } else if name.eq_ignore_ascii_case("qop") {
                set_once(&mut qop, v.parse()?, "qop")?;
            } else if name.eq_ignore_ascii_case("nc") {
                set_once(&mut nc, parse_nc(&v)?, "nc")?;
            } else if name.eq_ignore_ascii_case("userhash") {
                set_once(&mut userhash, parse_bool(&v, "userhash")?, "userhash")?;
            } else {
                extra.push(Param {
                    name: param.name,
                    value: v,
                    quoted: param.quoted,
                });
            }
        }
        if qop.is_some() {
            if cnonce.is_none() {
                return Err(AuthParseError::MissingParameter("cnonce"));
            }
            if nc.is_none() {
                return Err(AuthParseError::MissingParameter("nc"));
            }
        }
        Ok(Credentials {
            username: required(username, "username")?,
            realm: required(realm, "realm")?,
            nonce: required(nonce, "nonce")?,
            uri: required(uri, "uri")?,
            response: required(response, "response")?,
            algorithm,
            cnonce,
            opaque,
            qop,
            nc,
            userhash: userhash.unwrap_or(false),
            extra,
        })
    }

    /// Parses credentials from bytes (must be UTF-8).
    pub fn parse_bytes(input: &'a [u8]) -> Result<Self, AuthParseError> {
        Self::parse(crate::params::as_str(input)?)
    }

    /// The algorithm in effect: the explicit one, or MD5 when absent.
    pub fn effective_algorithm(&self) -> Algorithm {
        self.algorithm.unwrap_or(Algorithm::Md5)
    }

    /// Copies all borrowed data so the credentials outlive their input.
    pub fn into_owned(self) -> Credentials<'static> {
        Credentials {
            username: own(self.username),
            realm: own(self.realm),
            nonce: own(self.nonce),
            uri: own(self.uri),
            response: own(self.response),
            algorithm: self.algorithm,
            cnonce: self.cnonce.map(own),
            opaque: self.opaque.map(own),
            qop: self.qop,
            nc: self.nc,
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
        write_quoted_param(w, "Digest username=", Some(&self.username))?;
        write_quoted_param(w, ", realm=", Some(&self.realm))?;
        write_quoted_param(w, ", nonce=", Some(&self.nonce))?;
        write_quoted_param(w, ", uri=", Some(&self.uri))?;
        write_quoted_param(w, ", response=", Some(&self.response))?;
        if let Some(alg) = self.algorithm {
            write!(w, ", algorithm={alg}")?;
        }
        write_quoted_param(w, ", cnonce=", self.cnonce.as_deref())?;
        write_quoted_param(w, ", opaque=", self.opaque.as_deref())?;
        if let Some(qop) = self.qop {
            write!(w, ", qop={qop}")?;
        }
        if let Some(nc) = self.nc {
            write!(w, ", nc={nc:08x}")?;
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

impl fmt::Display for Credentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_fmt_into(f)
    }
}

/// Parses `nc-value = 8LHEX`. Upper-case hex digits are tolerated.
fn parse_nc(v: &str) -> Result<u32, AuthParseError> {
    if v.len() != 8 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AuthParseError::BadNonceCount(v.to_owned()));
    }
    u32::from_str_radix(v, 16).map_err(|_| AuthParseError::BadNonceCount(v.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC7616_SHA256: &str = "Digest username=\"Mufasa\",\r\n    realm=\"http-auth@example.org\",\r\n    uri=\"/dir/index.html\",\r\n    algorithm=SHA-256,\r\n    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n    nc=00000001,\r\n    cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\",\r\n    qop=auth,\r\n    response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\",\r\n    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";

    fn round_trip(c: &Credentials<'_>) {
        let printed = c.to_string();
        let mut bytes = Vec::new();
        c.write_to(&mut bytes);
        assert_eq!(bytes, printed.as_bytes());
        assert_eq!(&Credentials::parse(&printed).unwrap(), c, "{printed}");
    }

    #[test]
    fn rfc7616_credentials() {
        let c = Credentials::parse(RFC7616_SHA256).unwrap();
        assert_eq!(c.username, "Mufasa");
        assert_eq!(c.uri, "/dir/index.html");
        assert_eq!(c.algorithm, Some(Algorithm::Sha256));
        assert_eq!(c.nc, Some(1));
        assert_eq!(c.qop, Some(Qop::Auth));
        assert_eq!(
            c.cnonce.as_deref(),
            Some("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
        );
        assert!(matches!(c.response, Cow::Borrowed(_)));
        round_trip(&c);
    }

    #[test]
    fn sip_credentials_print_exactly() {
        let input = r#"Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", qop=auth, nc=0000000A, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41""#;
        let c = Credentials::parse(input).unwrap();
        assert_eq!(c.nc, Some(10));
        assert_eq!(
            c.to_string(),
            r#"Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", response="6629fae49393a05397450978507c4ef1", cnonce="0a4f113b", opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=0000000a"#
        );
        round_trip(&c);
    }

    #[test]
    fn rfc2069_mode_and_extras() {
        let input = r#"Digest username="a\\b", realm="r", nonce="n", uri=sip:x@y, response="00", username*=UTF-8''J%C3%A4s, userhash=false"#;
        let c = Credentials::parse(input).unwrap();
        assert_eq!(c.username, "a\\b");
        assert_eq!(c.uri, "sip:x@y");
        assert!(c.qop.is_none() && c.nc.is_none());
        assert_eq!(c.extra[0].name, "username*");
        round_trip(&c);
        round_trip(&c.clone().into_owned());
    }

    #[test]
    fn malformed_credentials() {
        use AuthParseError as E;
        let base = r#"Digest username="u", realm="r", nonce="n", uri="sip:a", response="x""#;
        assert!(Credentials::parse(base).is_ok());
        assert_eq!(
            Credentials::parse(&format!("{base}, qop=auth, nc=00000001")),
            Err(E::MissingParameter("cnonce"))
        );
        assert_eq!(
            Credentials::parse(&format!("{base}, qop=auth, cnonce=\"c\"")),
            Err(E::MissingParameter("nc"))
        );
        for bad in ["1", "0000000g", "+0000001", "000000001", ""] {
            let input = format!("{base}, qop=auth, cnonce=c, nc=\"{bad}\"");
            assert_eq!(
                Credentials::parse(&input),
                Err(E::BadNonceCount(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(
            Credentials::parse(&format!("{base}, qop=auth-conf")),
            Err(E::UnknownQop("auth-conf".into()))
        );
        assert_eq!(
            Credentials::parse(&format!("{base}, nonce=m")),
            Err(E::DuplicateParameter("nonce"))
        );
        assert_eq!(
            Credentials::parse(r#"Digest realm="r", nonce="n", uri="u", response="x""#),
            Err(E::MissingParameter("username"))
        );
        assert_eq!(
            Credentials::parse(r#"Digest username="u", realm="r", nonce="n", response="x""#),
            Err(E::MissingParameter("uri"))
        );
    }
}
