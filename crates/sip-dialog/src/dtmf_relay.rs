//! The bodies of SIP INFO digits: `application/dtmf-relay` (`Signal=5\r\nDuration=160`, as
//! Cisco and most phones send it) and `application/dtmf` (the digit alone).

/// One digit from an INFO body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfRelay {
    /// `0`-`9`, `*`, `#`, `A`-`D` (upper case).
    pub digit: char,
    /// Milliseconds, 0 when absent.
    pub duration_ms: u32,
}

fn digit_of(s: &str) -> Option<char> {
    let s = s.trim();
    match s {
        "10" => return Some('*'),
        "11" => return Some('#'),
        _ => {}
    }
    let mut chars = s.chars();
    let c = chars.next()?.to_ascii_uppercase();
    if chars.next().is_some() {
        return None;
    }
    matches!(c, '0'..='9' | '*' | '#' | 'A'..='D').then_some(c)
}

/// Reads an `application/dtmf-relay` body; `None` when it names no digit.
pub fn parse_dtmf_relay(body: &str) -> Option<DtmfRelay> {
    let mut digit = None;
    let mut duration_ms = 0;
    for line in body.lines() {
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "signal" => digit = digit_of(value),
            "duration" => duration_ms = value.trim().parse().unwrap_or(0),
            _ => {}
        }
    }
    digit.map(|digit| DtmfRelay { digit, duration_ms })
}

/// Reads an `application/dtmf` body (the digit alone).
pub(crate) fn parse_dtmf(body: &str) -> Option<DtmfRelay> {
    digit_of(body).map(|digit| DtmfRelay {
        digit,
        duration_ms: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_bodies() {
        assert_eq!(
            parse_dtmf_relay("Signal=5\r\nDuration=160\r\n"),
            Some(DtmfRelay {
                digit: '5',
                duration_ms: 160
            })
        );
        assert_eq!(
            parse_dtmf_relay("signal= #\nduration=x").map(|d| d.digit),
            Some('#')
        );
        assert_eq!(parse_dtmf_relay("Signal=11").map(|d| d.digit), Some('#'));
        assert_eq!(parse_dtmf_relay("Signal=12"), None);
        assert_eq!(parse_dtmf_relay("Duration=100"), None);
        assert_eq!(parse_dtmf("*\r\n").map(|d| d.digit), Some('*'));
        assert_eq!(parse_dtmf("55"), None);
    }
}
