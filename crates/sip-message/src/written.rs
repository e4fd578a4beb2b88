//! A request this element wrote itself and keeps for later: parsed only if asked.
//!
//! A proxy builds each branch's request from a received request it already parsed and
//! checked, plus the few fields it writes (Request-URI, Via, Record-Route, Max-Forwards).
//! The branch's client transaction keeps that request for the rare cases that read it
//! again: the ACK of a 3xx-6xx answer and a CANCEL. An answered call needs neither, so
//! parsing every branch's request up front (a sixth of the parsing a call did) bought
//! nothing. [`WrittenMessage`] keeps the bytes and parses them the first time a field is
//! wanted, once.

use std::sync::OnceLock;

use bytes::Bytes;

use crate::message::SipMessage;

/// The bytes of a message this element wrote, with their parse made on first use.
#[derive(Debug, Clone)]
pub struct WrittenMessage {
    wire: Bytes,
    parsed: OnceLock<Option<SipMessage>>,
}

impl WrittenMessage {
    /// Bytes to be parsed only when a field is asked for.
    pub fn new(wire: Bytes) -> Self {
        WrittenMessage {
            wire,
            parsed: OnceLock::new(),
        }
    }

    /// A message already parsed.
    pub fn parsed(msg: SipMessage) -> Self {
        let parsed = OnceLock::new();
        let wire = msg.wire();
        let _ = parsed.set(Some(msg));
        WrittenMessage { wire, parsed }
    }

    /// The bytes as sent.
    pub fn wire(&self) -> &Bytes {
        &self.wire
    }

    /// The message, parsed the first time it is asked for; `None` if the bytes do not
    /// parse (the answer is kept: they are not parsed twice).
    pub fn get(&self) -> Option<&SipMessage> {
        self.parsed
            .get_or_init(|| SipMessage::parse(self.wire.clone()).ok())
            .as_ref()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const REQ: &str = "OPTIONS sip:b@example.com SIP/2.0\r\n\
        Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKw1\r\n\
        From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n\
        Call-ID: w1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn parses_on_first_use_as_the_parser_does() {
        let w = WrittenMessage::new(Bytes::from_static(REQ.as_bytes()));
        assert_eq!(w.wire().as_ref(), REQ.as_bytes());
        let m = w.get().unwrap();
        assert_eq!(m.branch(), Some("z9hG4bKw1"));
        assert_eq!(m.call_id(), "w1");
        // The same parse, not a second one.
        assert!(std::ptr::eq(m, w.get().unwrap()));
        let again = WrittenMessage::parsed(SipMessage::parse(w.wire().clone()).unwrap());
        assert_eq!(again.get().unwrap().from_tag(), m.from_tag());
        assert_eq!(again.wire(), w.wire());
    }

    #[test]
    fn bytes_that_do_not_parse_give_none_every_time() {
        let w = WrittenMessage::new(Bytes::from_static(b"OPTIONS nothing\r\n\r\n"));
        assert!(w.get().is_none());
        assert!(w.get().is_none());
        assert_eq!(w.wire().as_ref(), b"OPTIONS nothing\r\n\r\n");
    }
}
