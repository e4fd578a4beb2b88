//! RFC 4733 telephone-events: the 4-byte event payload (§2.3), the DTMF digits it names
//! (§3.2), and a receiver that turns a stream of event packets into one digit per event.
//!
//! A sender repeats an event's packets while the key is held (same RTP timestamp,
//! growing duration) and sends the end packet three times (§2.5.1.4); the receiver reports
//! the digit on the first packet of a new timestamp and ignores the rest, so a lost start
//! packet still gives the digit, and a late repeat of an older event gives nothing.

use crate::packet::RtpError;

/// One event block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// The event code (0-9, 10 `*`, 11 `#`, 12-15 A-D, 16 flash, ...).
    pub event: u8,
    /// The E bit: this is (a repeat of) the event's last packet.
    pub end: bool,
    /// Power level in -dBm0, 0 to 63.
    pub volume: u8,
    /// Duration so far, in timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    /// The payload's length.
    pub const LEN: usize = 4;

    /// Parses the first event block of a payload (later blocks are redundancy).
    pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, RtpError> {
        let b = payload.get(..Self::LEN).ok_or(RtpError::TooShort)?;
        Ok(TelephoneEvent {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3f,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }

    /// The payload (the reserved bit is zero, the volume is cut to 6 bits).
    pub fn to_bytes(&self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [
            self.event,
            u8::from(self.end) << 7 | (self.volume & 0x3f),
            d[0],
            d[1],
        ]
    }
}

/// A DTMF key (RFC 4733 §3.2, events 0-15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtmfDigit {
    /// A digit key, 0 to 9.
    Digit(u8),
    /// `*`, event 10.
    Star,
    /// `#`, event 11.
    Pound,
    /// A to D, events 12-15 (0 is A).
    Letter(u8),
}

impl DtmfDigit {
    /// The key an event code names, if it is one.
    pub fn from_event(event: u8) -> Option<DtmfDigit> {
        match event {
            0..=9 => Some(DtmfDigit::Digit(event)),
            10 => Some(DtmfDigit::Star),
            11 => Some(DtmfDigit::Pound),
            12..=15 => Some(DtmfDigit::Letter(event - 12)),
            _ => None,
        }
    }

    /// The event code.
    pub fn event(self) -> u8 {
        match self {
            DtmfDigit::Digit(d) => d.min(9),
            DtmfDigit::Star => 10,
            DtmfDigit::Pound => 11,
            DtmfDigit::Letter(l) => 12 + l.min(3),
        }
    }

    /// The key as a character: `0`-`9`, `*`, `#`, `A`-`D`.
    pub fn as_char(self) -> char {
        match self {
            DtmfDigit::Digit(d) => char::from(b'0' + d.min(9)),
            DtmfDigit::Star => '*',
            DtmfDigit::Pound => '#',
            DtmfDigit::Letter(l) => char::from(b'A' + l.min(3)),
        }
    }

    /// The key a character names (`a`-`d` too).
    pub fn from_char(c: char) -> Option<DtmfDigit> {
        match c {
            '0'..='9' => Some(DtmfDigit::Digit(c as u8 - b'0')),
            '*' => Some(DtmfDigit::Star),
            '#' => Some(DtmfDigit::Pound),
            'A'..='D' => Some(DtmfDigit::Letter(c as u8 - b'A')),
            'a'..='d' => Some(DtmfDigit::Letter(c as u8 - b'a')),
            _ => None,
        }
    }
}

/// Turns received telephone-event packets into one digit per event, deduplicated by RTP
/// timestamp. Constant memory: it keeps the newest event timestamp only.
#[derive(Debug, Clone, Default)]
pub struct TelephoneEventReceiver {
    newest: Option<u32>,
    duplicates: u64,
}

impl TelephoneEventReceiver {
    /// A receiver that has seen no event.
    pub fn new() -> TelephoneEventReceiver {
        TelephoneEventReceiver::default()
    }

    /// Takes one telephone-event packet's timestamp and payload; returns the digit when
    /// this packet starts a new event.
    pub fn receive(&mut self, rtp_timestamp: u32, payload: &[u8]) -> Option<DtmfDigit> {
        let event = TelephoneEvent::parse(payload).ok()?;
        if let Some(newest) = self.newest {
            // Same timestamp: a repeat; earlier (in wrapping order): a late packet of an
            // event already reported.
            if (rtp_timestamp.wrapping_sub(newest) as i32) <= 0 {
                self.duplicates += 1;
                return None;
            }
        }
        self.newest = Some(rtp_timestamp);
        DtmfDigit::from_event(event.event)
    }

    /// Packets ignored as repeats or late packets of events already reported.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(event: u8, end: bool, duration: u16) -> [u8; 4] {
        TelephoneEvent {
            event,
            end,
            volume: 10,
            duration,
        }
        .to_bytes()
    }

    #[test]
    fn payload_round_trips() {
        let e = TelephoneEvent {
            event: 11,
            end: true,
            volume: 63,
            duration: 1600,
        };
        assert_eq!(e.to_bytes(), [11, 0xbf, 0x06, 0x40]);
        assert_eq!(TelephoneEvent::parse(&e.to_bytes()), Ok(e));
        // The reserved bit is ignored.
        assert_eq!(TelephoneEvent::parse(&[1, 0x40, 0, 0]).unwrap().volume, 0);
        assert_eq!(TelephoneEvent::parse(&[1, 2, 3]), Err(RtpError::TooShort));
    }

    #[test]
    fn one_digit_per_event_with_repeats_and_triple_end() {
        let mut rx = TelephoneEventReceiver::new();
        let mut digits = String::new();
        // "1#": each key held 3 packets then the end packet 3 times.
        for (ts, event) in [(8000u32, 1u8), (9600, 11)] {
            for d in [160, 320, 480] {
                digits.extend(
                    rx.receive(ts, &packet(event, false, d))
                        .map(DtmfDigit::as_char),
                );
            }
            for _ in 0..3 {
                digits.extend(
                    rx.receive(ts, &packet(event, true, 640))
                        .map(DtmfDigit::as_char),
                );
            }
        }
        assert_eq!(digits, "1#");
        assert_eq!(rx.duplicates(), 10);
    }

    #[test]
    fn a_lost_start_still_gives_the_digit_and_a_late_repeat_does_not() {
        let mut rx = TelephoneEventReceiver::new();
        assert_eq!(
            rx.receive(100, &packet(5, true, 800)),
            Some(DtmfDigit::Digit(5))
        );
        assert_eq!(
            rx.receive(900, &packet(12, false, 160)),
            Some(DtmfDigit::Letter(0))
        );
        assert_eq!(rx.receive(100, &packet(5, true, 800)), None);
        // Timestamps wrap.
        let mut rx = TelephoneEventReceiver::new();
        assert!(rx.receive(u32::MAX - 10, &packet(1, false, 160)).is_some());
        assert!(rx.receive(5, &packet(2, false, 160)).is_some());
        // Flash is an event but not a key; short payloads are ignored.
        assert_eq!(rx.receive(1000, &packet(16, false, 160)), None);
        assert_eq!(rx.receive(2000, &[1, 2]), None);
    }

    #[test]
    fn keys_and_characters() {
        for c in "0123456789*#ABCD".chars() {
            let d = DtmfDigit::from_char(c).unwrap();
            assert_eq!(d.as_char(), c);
            assert_eq!(DtmfDigit::from_event(d.event()), Some(d));
        }
        assert_eq!(DtmfDigit::from_char('b'), Some(DtmfDigit::Letter(1)));
        assert_eq!(DtmfDigit::from_char('e'), None);
        assert_eq!(DtmfDigit::from_event(16), None);
    }
}
