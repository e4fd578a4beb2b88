//! Bencode, the encoding of rtpengine's `ng` control protocol: byte strings
//! (`4:spam`), integers (`i42e`), lists (`l...e`) and dictionaries (`d...e`, keys sorted
//! when encoding, as the format requires).
//!
//! Owns the values and their wire form only; what the dictionaries mean is `ng.rs`'s.
//! Decoding is bounded: nesting deeper than [`MAX_DEPTH`] is refused, so a hostile or
//! broken reply cannot exhaust the stack.

use std::collections::BTreeMap;

/// Deepest nesting of lists and dictionaries a decoded value may have (rtpengine's
/// replies nest about six levels: tags, medias, streams, stats).
pub const MAX_DEPTH: usize = 32;

/// A bencoded value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A byte string (SDP bodies, flags, and most numbers in rtpengine's replies).
    Bytes(Vec<u8>),
    /// An integer.
    Int(i64),
    /// A list.
    List(Vec<Value>),
    /// A dictionary; a `BTreeMap` keeps keys in the sorted order bencode requires.
    Dict(BTreeMap<Vec<u8>, Value>),
}

/// Why a byte sequence is not bencode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended inside a value.
    #[error("truncated bencode")]
    Truncated,
    /// A byte that cannot start or continue a value at this point.
    #[error("bad bencode at byte {0}")]
    Bad(usize),
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("bencode nested too deep")]
    TooDeep,
    /// Bytes left after the value.
    #[error("trailing bytes after bencode value")]
    Trailing,
}

impl Value {
    /// A byte string from text.
    pub fn text(s: &str) -> Value {
        Value::Bytes(s.as_bytes().to_vec())
    }

    /// A list of byte strings from texts.
    pub fn texts(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| Value::text(s)).collect())
    }

    /// The value as UTF-8 text, if it is a byte string that is.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Bytes(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    /// The value as an integer: an integer, or a byte string of decimal digits (rtpengine
    /// writes some counters as strings).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bytes(_) => self.as_str()?.trim().parse().ok(),
            _ => None,
        }
    }

    /// The entry `key` of a dictionary.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Dict(d) => d.get(key.as_bytes()),
            _ => None,
        }
    }

    /// The entries of a dictionary (none for other values).
    pub fn entries(&self) -> impl Iterator<Item = (&[u8], &Value)> {
        let dict = match self {
            Value::Dict(d) => Some(d),
            _ => None,
        };
        dict.into_iter()
            .flat_map(|d| d.iter().map(|(k, v)| (k.as_slice(), v)))
    }

    /// The items of a list (none for other values).
    pub fn items(&self) -> &[Value] {
        match self {
            Value::List(l) => l,
            _ => &[],
        }
    }

    /// Appends the value's wire form to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Value::Bytes(b) => {
                out.extend_from_slice(b.len().to_string().as_bytes());
                out.push(b':');
                out.extend_from_slice(b);
            }
            Value::Int(i) => {
                out.push(b'i');
                out.extend_from_slice(i.to_string().as_bytes());
                out.push(b'e');
            }
            Value::List(l) => {
                out.push(b'l');
                for v in l {
                    v.encode_into(out);
                }
                out.push(b'e');
            }
            Value::Dict(d) => {
                out.push(b'd');
                for (k, v) in d {
                    Value::Bytes(k.clone()).encode_into(out);
                    v.encode_into(out);
                }
                out.push(b'e');
            }
        }
    }

    /// The value's wire form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Decodes exactly one value filling `input`.
    pub fn decode(input: &[u8]) -> Result<Value, DecodeError> {
        let mut pos = 0;
        let v = decode_at(input, &mut pos, 0)?;
        if pos != input.len() {
            return Err(DecodeError::Trailing);
        }
        Ok(v)
    }
}

/// A dictionary built from `(key, value)` pairs.
pub fn dict<'a>(pairs: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    Value::Dict(
        pairs
            .into_iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v))
            .collect(),
    )
}

fn decode_at(input: &[u8], pos: &mut usize, depth: usize) -> Result<Value, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError::TooDeep);
    }
    let first = *input.get(*pos).ok_or(DecodeError::Truncated)?;
    match first {
        b'i' => {
            let start = *pos + 1;
            let end = find(input, start, b'e')?;
            let text =
                std::str::from_utf8(&input[start..end]).map_err(|_| DecodeError::Bad(start))?;
            let i = text.parse().map_err(|_| DecodeError::Bad(start))?;
            *pos = end + 1;
            Ok(Value::Int(i))
        }
        b'l' => {
            *pos += 1;
            let mut items = Vec::new();
            while *input.get(*pos).ok_or(DecodeError::Truncated)? != b'e' {
                items.push(decode_at(input, pos, depth + 1)?);
            }
            *pos += 1;
            Ok(Value::List(items))
        }
        b'd' => {
            *pos += 1;
            let mut map = BTreeMap::new();
            while *input.get(*pos).ok_or(DecodeError::Truncated)? != b'e' {
                let at = *pos;
                let Value::Bytes(key) = decode_at(input, pos, depth + 1)? else {
                    return Err(DecodeError::Bad(at));
                };
                let value = decode_at(input, pos, depth + 1)?;
                map.insert(key, value);
            }
            *pos += 1;
            Ok(Value::Dict(map))
        }
        b'0'..=b'9' => {
            let colon = find(input, *pos, b':')?;
            let len: usize = std::str::from_utf8(&input[*pos..colon])
                .ok()
                .and_then(|t| t.parse().ok())
                .ok_or(DecodeError::Bad(*pos))?;
            let start = colon + 1;
            let end = start.checked_add(len).ok_or(DecodeError::Bad(*pos))?;
            if end > input.len() {
                return Err(DecodeError::Truncated);
            }
            *pos = end;
            Ok(Value::Bytes(input[start..end].to_vec()))
        }
        _ => Err(DecodeError::Bad(*pos)),
    }
}

fn find(input: &[u8], from: usize, byte: u8) -> Result<usize, DecodeError> {
    input
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| b == byte))
        .map(|i| from + i)
        .ok_or(DecodeError::Truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionaries_encode_with_sorted_keys() {
        let v = dict([
            ("sdp", Value::text("v=0")),
            ("command", Value::text("offer")),
            ("flags", Value::texts(&["trust-address"])),
            ("n", Value::Int(-3)),
        ]);
        assert_eq!(
            v.encode(),
            b"d7:command5:offer5:flagsl13:trust-addresse1:ni-3e3:sdp3:v=0e".to_vec()
        );
    }

    #[test]
    fn a_reply_decodes_and_reencodes_unchanged() {
        let wire = b"d6:result2:ok3:sdp3:v=06:totalsd3:RTPd7:packetsi12eeee";
        let v = Value::decode(wire).unwrap();
        assert_eq!(v.get("result").and_then(Value::as_str), Some("ok"));
        assert_eq!(
            v.get("totals")
                .and_then(|t| t.get("RTP"))
                .and_then(|r| r.get("packets"))
                .and_then(Value::as_int),
            Some(12)
        );
        assert_eq!(v.encode(), wire.to_vec());
    }

    #[test]
    fn broken_input_is_refused_not_panicked_on() {
        assert_eq!(Value::decode(b"d6:result"), Err(DecodeError::Truncated));
        assert_eq!(Value::decode(b"5:ab"), Err(DecodeError::Truncated));
        assert_eq!(Value::decode(b"i12"), Err(DecodeError::Truncated));
        assert_eq!(Value::decode(b"ixe"), Err(DecodeError::Bad(1)));
        assert_eq!(Value::decode(b"di1e1:ae"), Err(DecodeError::Bad(1)));
        assert_eq!(Value::decode(b"x"), Err(DecodeError::Bad(0)));
        assert_eq!(Value::decode(b"i1ei2e"), Err(DecodeError::Trailing));
        assert_eq!(
            Value::decode(b"99999999999999999999999:a"),
            Err(DecodeError::Bad(0))
        );
        let deep = format!("{}{}", "l".repeat(100), "e".repeat(100));
        assert_eq!(Value::decode(deep.as_bytes()), Err(DecodeError::TooDeep));
    }

    #[test]
    fn numbers_written_as_strings_read_as_integers() {
        assert_eq!(Value::text("42").as_int(), Some(42));
        assert_eq!(Value::text("x").as_int(), None);
    }
}
