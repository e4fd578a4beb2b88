//! `;name=value` parameter lists, for URIs and header values.
//!
//! The list is kept as the raw text starting at the first `;` and walked on demand, so a
//! message with ten parameters costs nothing until someone asks for one of them.

use crate::text::{is_lws, is_token, quoted_end};

/// One parameter. `value` is raw: a quoted-string keeps its quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// The parameter name as written.
    pub name: &'a str,
    /// The value as written, if there is an `=`.
    pub value: Option<&'a str>,
}

/// Walks a parameter list such as `;tag=1;lr;q=0.5`. Linear whitespace is allowed around `;`
/// and `=` (RFC 3261 SEMI and EQUAL). Yields an error for an empty or malformed parameter.
#[derive(Debug, Clone)]
pub struct Params<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Params<'a> {
    /// A walker over `s`, which must be empty or start (after optional LWS) with `;`.
    pub fn new(s: &'a str) -> Self {
        Params { s, pos: 0 }
    }

    /// Looks up a parameter by name, ignoring ASCII case. `Some(None)` for a flag
    /// parameter such as `lr`. Malformed lists give `None` past the error.
    pub fn get(s: &'a str, name: &str) -> Option<Option<&'a str>> {
        Params::new(s)
            .map_while(Result::ok)
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value)
    }

    /// Checks the whole list.
    pub fn validate(s: &str) -> Result<(), &'static str> {
        Params::validate_finding(s, "").map(|_| ())
    }

    /// Checks the whole list and, in the same walk, looks up `name` as [`Params::get`]
    /// does (the first one, ignoring ASCII case); an empty `name` finds nothing. The
    /// parser wants the tag of From and To and the branch of the top Via of every
    /// message: one walk instead of two.
    pub(crate) fn validate_finding(
        s: &'a str,
        name: &str,
    ) -> Result<Option<Option<&'a str>>, &'static str> {
        let mut found = None;
        for p in Params::new(s) {
            let p = p?;
            if found.is_none() && !name.is_empty() && p.name.eq_ignore_ascii_case(name) {
                found = Some(p.value);
            }
        }
        Ok(found)
    }
}

fn skip_lws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_lws(b[i]) {
        i += 1;
    }
    i
}

impl<'a> Iterator for Params<'a> {
    type Item = Result<Param<'a>, &'static str>;

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.s.as_bytes();
        let mut i = skip_lws(b, self.pos);
        if i >= b.len() {
            return None;
        }
        if b[i] != b';' {
            self.pos = b.len();
            return Some(Err("expected ';' before parameter"));
        }
        i = skip_lws(b, i + 1);
        let name_start = i;
        while i < b.len() && is_token(b[i]) {
            i += 1;
        }
        if i == name_start {
            self.pos = b.len();
            return Some(Err("empty parameter"));
        }
        let name = &self.s[name_start..i];
        let j = skip_lws(b, i);
        if j < b.len() && b[j] == b'=' {
            let mut k = skip_lws(b, j + 1);
            let vstart = k;
            if k < b.len() && b[k] == b'"' {
                match quoted_end(&b[k..]) {
                    Some(n) => k += n,
                    None => {
                        self.pos = b.len();
                        return Some(Err("unterminated quoted parameter value"));
                    }
                }
            } else {
                while k < b.len() && !is_lws(b[k]) && b[k] != b';' && b[k] != b',' && b[k] != b'"' {
                    k += 1;
                }
            }
            if k == vstart {
                self.pos = b.len();
                return Some(Err("empty parameter value"));
            }
            self.pos = k;
            Some(Ok(Param {
                name,
                value: Some(&self.s[vstart..k]),
            }))
        } else {
            self.pos = i;
            Some(Ok(Param { name, value: None }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_with_lws() {
        let v: Vec<_> = Params::new(" ;   tag    = 1918181833n ;lr")
            .map(|p| p.unwrap())
            .collect();
        assert_eq!(
            v[0],
            Param {
                name: "tag",
                value: Some("1918181833n")
            }
        );
        assert_eq!(
            v[1],
            Param {
                name: "lr",
                value: None
            }
        );
        assert_eq!(Params::get(";Branch=z9;x", "branch"), Some(Some("z9")));
        assert_eq!(Params::get(";a=\"x;y\";b", "b"), Some(None));
    }

    #[test]
    fn validating_finds_what_get_finds() {
        for (list, name) in [
            (";Branch=z9;x", "branch"),
            (";a=\"x;y\";b", "b"),
            (";tag=1;tag=2", "TAG"),
            (";lr", "tag"),
            ("", "tag"),
            (";tag=1", ""),
        ] {
            let want = if name.is_empty() {
                None
            } else {
                Params::get(list, name)
            };
            assert_eq!(
                Params::validate_finding(list, name),
                Ok(want),
                "{list} {name}"
            );
        }
        assert!(Params::validate_finding(";tag=1;;", "tag").is_err());
    }

    #[test]
    fn rejects_empty() {
        assert!(Params::validate(";;").is_err());
        assert!(Params::validate(";a=").is_err());
        assert!(Params::validate(";a=\"x").is_err());
        assert!(Params::validate("x").is_err());
        assert!(Params::validate("").is_ok());
    }
}
