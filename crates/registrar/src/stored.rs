//! A binding as the location table keeps it: its strings in one allocation, its
//! address-of-record only once (as the table's key, [`AorKey`]: user and domain in one
//! allocation too), its path list only when it has one. A `model::Binding` is seven
//! `String`s and a `Vec` (two of the strings are the AOR, already the key): about 480
//! bytes per phone in the table against ~220 this way (issue 13: memory per contact).
//! Conversions happen at the table's edges (`location.rs`); nothing else sees these types.

use std::hash::{Hash, Hasher};

use hashbrown::Equivalent;
use model::{AddressOfRecord, Binding};

/// An address-of-record as the table's key: `user` then `domain` in one allocation.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct AorKey {
    text: Box<str>,
    user_len: u32,
}

impl AorKey {
    pub(crate) fn new(aor: &AddressOfRecord) -> AorKey {
        let mut text = String::with_capacity(aor.user.len() + aor.domain.len());
        text.push_str(&aor.user);
        text.push_str(&aor.domain);
        AorKey {
            text: text.into_boxed_str(),
            // A user part is far below 4 GB.
            user_len: u32::try_from(aor.user.len()).unwrap_or(u32::MAX),
        }
    }

    fn user(&self) -> &str {
        self.text.get(..self.user_len as usize).unwrap_or("")
    }

    fn domain(&self) -> &str {
        self.text.get(self.user_len as usize..).unwrap_or("")
    }

    pub(crate) fn to_aor(&self) -> AddressOfRecord {
        AddressOfRecord {
            user: self.user().to_owned(),
            domain: self.domain().to_owned(),
        }
    }
}

/// Hashes as `AddressOfRecord` does (user, then domain), so [`AorRef`] finds it.
impl Hash for AorKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.user().hash(state);
        self.domain().hash(state);
    }
}

/// An `AddressOfRecord` looking up an [`AorKey`] without building one.
pub(crate) struct AorRef<'a>(pub(crate) &'a AddressOfRecord);

impl Hash for AorRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl Equivalent<AorKey> for AorRef<'_> {
    fn equivalent(&self, key: &AorKey) -> bool {
        key.user() == self.0.user && key.domain() == self.0.domain
    }
}

/// One binding of an address-of-record.
#[derive(Debug)]
pub(crate) struct Stored {
    /// `contact`, `call_id`, `source`, `user_agent`, `node` and `flow` (empty: none),
    /// back to back.
    text: Box<str>,
    /// Where `contact`, `call_id`, `source`, `user_agent` and `node` end in `text`.
    ends: [u32; 5],
    /// The Path header values (empty: no allocation).
    path: Box<[Box<str>]>,
    expires_at: u64,
    cseq: u32,
    q: u16,
}

impl Stored {
    /// The stored form of `b` (its `aor` is the table's key, not kept here).
    pub(crate) fn new(b: &Binding) -> Stored {
        let parts = [
            b.contact.as_str(),
            &b.call_id,
            &b.source,
            &b.user_agent,
            &b.node,
            b.flow.as_deref().unwrap_or(""),
        ];
        let mut text = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        let mut ends = [0u32; 5];
        for (i, p) in parts.iter().enumerate() {
            text.push_str(p);
            if let Some(e) = ends.get_mut(i) {
                // A SIP message is far below 4 GB: the offsets fit.
                *e = u32::try_from(text.len()).unwrap_or(u32::MAX);
            }
        }
        Stored {
            text: text.into_boxed_str(),
            ends,
            path: b.path.iter().map(|p| p.as_str().into()).collect(),
            expires_at: b.expires_at,
            cseq: b.cseq,
            q: b.q,
        }
    }

    /// Part `i` of `text` (0 contact, 1 call_id, 2 source, 3 user_agent, 4 node, 5 flow).
    fn part(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        let end = self.ends.get(i).map_or(self.text.len(), |&e| e as usize);
        self.text.get(start..end).unwrap_or("")
    }

    /// The Contact URI.
    pub(crate) fn contact(&self) -> &str {
        self.part(0)
    }

    /// Expiry, in seconds since the Unix epoch.
    pub(crate) fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// Preference (q times 1000).
    pub(crate) fn q(&self) -> u16 {
        self.q
    }

    /// The binding, as the rest of the program knows it.
    pub(crate) fn to_binding(&self, aor: &AddressOfRecord) -> Binding {
        Binding {
            aor: aor.clone(),
            contact: self.part(0).to_owned(),
            q: self.q,
            expires_at: self.expires_at,
            call_id: self.part(1).to_owned(),
            cseq: self.cseq,
            source: self.part(2).to_owned(),
            path: self.path.iter().map(|p| p.to_string()).collect(),
            user_agent: self.part(3).to_owned(),
            node: self.part(4).to_owned(),
            flow: Some(self.part(5))
                .filter(|f| !f.is_empty())
                .map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(path: Vec<String>, user_agent: &str) -> Binding {
        Binding {
            aor: AddressOfRecord {
                user: "alice".into(),
                domain: "example.com".into(),
            },
            contact: "sip:alice@192.0.2.7:5060;ob".into(),
            q: 500,
            expires_at: 1_800_000_000,
            call_id: "c1@x".into(),
            cseq: 7,
            source: "udp:192.0.2.7:5060".into(),
            path,
            user_agent: user_agent.into(),
            node: "node-a".into(),
            flow: None,
        }
    }

    #[test]
    fn keys_hash_and_compare_as_addresses_of_record() {
        use std::hash::BuildHasher;
        let s = std::collections::hash_map::RandomState::new();
        let a = AddressOfRecord {
            user: "ab".into(),
            domain: "c.example".into(),
        };
        let b = AddressOfRecord {
            user: "a".into(),
            domain: "bc.example".into(),
        };
        let k = AorKey::new(&a);
        assert_eq!(k.to_aor(), a);
        assert_eq!(s.hash_one(&k), s.hash_one(&a));
        assert_eq!(s.hash_one(&k), s.hash_one(AorRef(&a)));
        assert!(AorRef(&a).equivalent(&k));
        assert!(!AorRef(&b).equivalent(&k));
        assert_ne!(s.hash_one(AorKey::new(&b)), s.hash_one(&k));
    }

    #[test]
    fn a_binding_comes_back_as_it_went_in() {
        for b in [
            binding(vec![], ""),
            binding(vec!["<sip:p1>".into(), "<sip:p2;lr>".into()], "Phone 1.0"),
        ] {
            let s = Stored::new(&b);
            assert_eq!(s.contact(), b.contact);
            assert_eq!((s.q(), s.expires_at()), (b.q, b.expires_at));
            assert_eq!(s.to_binding(&b.aor), b);
        }
        let mut outbound = binding(vec![], "");
        outbound.flow = Some("\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";1".into());
        assert_eq!(Stored::new(&outbound).to_binding(&outbound.aor), outbound);
        let mut empty = binding(vec![], "");
        empty.contact.clear();
        empty.node.clear();
        assert_eq!(Stored::new(&empty).to_binding(&empty.aor), empty);
    }
}
