//! Digest algorithms (RFC 7616 §6.1, RFC 8760) and quality-of-protection values.

use std::fmt;
use std::str::FromStr;

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::AuthParseError;

/// A digest algorithm as named in the `algorithm` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `MD5` (the default when the parameter is absent).
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA-256` (RFC 7616, RFC 8760).
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
}

impl Algorithm {
    /// All supported algorithms, strongest first.
    pub const ALL: [Algorithm; 4] = [
        Algorithm::Sha256,
        Algorithm::Sha256Sess,
        Algorithm::Md5,
        Algorithm::Md5Sess,
    ];

    /// The canonical name, e.g. `"SHA-256-sess"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    /// Whether this is a `-sess` variant (HA1 bound to nonce and cnonce).
    pub fn is_session(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }

    /// Length in hex characters of this algorithm's digests.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => 32,
            Algorithm::Sha256 | Algorithm::Sha256Sess => 64,
        }
    }

    /// `H(parts[0] || parts[1] || ...)` as lowercase hex.
    pub(crate) fn hash_hex(self, parts: &[&[u8]]) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => digest_hex::<Md5>(parts),
            Algorithm::Sha256 | Algorithm::Sha256Sess => digest_hex::<Sha256>(parts),
        }
    }
}

fn digest_hex<D: Digest>(parts: &[&[u8]]) -> String {
    let mut hasher = D::new();
    for part in parts {
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = AuthParseError;

    /// Case-insensitive parse of an algorithm name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| AuthParseError::UnknownAlgorithm(s.to_owned()))
    }
}

/// Quality of protection (`qop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Qop {
    /// `auth`: authentication only.
    Auth,
    /// `auth-int`: authentication with integrity protection of the body.
    AuthInt,
}

impl Qop {
    /// The wire name, `"auth"` or `"auth-int"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }
}

impl fmt::Display for Qop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Qop {
    type Err = AuthParseError;

    /// Case-insensitive parse of a qop value.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("auth") {
            Ok(Qop::Auth)
        } else if s.eq_ignore_ascii_case("auth-int") {
            Ok(Qop::AuthInt)
        } else {
            Err(AuthParseError::UnknownQop(s.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_round_trip_case_insensitively() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.as_str().parse::<Algorithm>().unwrap(), alg);
            assert_eq!(
                alg.as_str().to_lowercase().parse::<Algorithm>().unwrap(),
                alg
            );
            assert_eq!(
                alg.as_str().to_uppercase().parse::<Algorithm>().unwrap(),
                alg
            );
            assert_eq!(alg.to_string(), alg.as_str());
        }
        assert_eq!(
            "SHA-512-256".parse::<Algorithm>(),
            Err(AuthParseError::UnknownAlgorithm("SHA-512-256".into()))
        );
    }

    #[test]
    fn qop_parse() {
        assert_eq!("AUTH".parse::<Qop>().unwrap(), Qop::Auth);
        assert_eq!("auth-int".parse::<Qop>().unwrap(), Qop::AuthInt);
        assert!("auth-conf".parse::<Qop>().is_err());
    }

    #[test]
    fn hash_lengths() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.hash_hex(&[b"x"]).len(), alg.hex_len());
        }
        assert_eq!(
            Algorithm::Md5.hash_hex(&[b""]),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
    }
}
