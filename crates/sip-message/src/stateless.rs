//! Answers to requests that did not parse: built from the raw bytes, best effort.

use std::io::Write as _;

/// Builds a response (e.g. `400 Bad CSeq header`) to a request that failed to parse, by
/// copying its Via, From, To, Call-ID and CSeq lines as received. Returns `None` when the
/// bytes are not a request or carry no Via (there is nowhere to send an answer), so the
/// caller drops the message. The To tag is added when `to_tag` is given and To has none.
pub fn error_response(
    raw: &[u8],
    status: u16,
    reason: &str,
    to_tag: Option<&str>,
) -> Option<Vec<u8>> {
    let start = raw.iter().position(|&b| b != b'\r' && b != b'\n')?;
    let raw = &raw[start..];
    if raw.len() >= 4 && raw[..4].eq_ignore_ascii_case(b"SIP/") {
        return None; // never answer a response
    }
    let end = memchr::memmem::find(raw, b"\r\n\r\n")
        .map(|e| e + 2)
        .unwrap_or(raw.len());
    let head = &raw[..end];
    let mut out = Vec::with_capacity(512);
    let reason: String = reason.chars().filter(|c| !c.is_control()).collect();
    let _ = write!(out, "SIP/2.0 {status} {reason}\r\n");
    let mut have_via = false;
    let mut lines = head.split(|&b| b == b'\n').skip(1).peekable();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        // Unfold continuation lines into this one.
        let mut full = line.to_vec();
        while let Some(next) = lines.peek() {
            if next.first().is_some_and(|&b| b == b' ' || b == b'\t') {
                full.push(b' ');
                let n = lines.next().unwrap_or_default();
                full.extend_from_slice(n.strip_suffix(b"\r").unwrap_or(n));
            } else {
                break;
            }
        }
        let Some(colon) = memchr::memchr(b':', &full) else {
            continue;
        };
        let name = std::str::from_utf8(&full[..colon]).unwrap_or("").trim();
        let hn = crate::HeaderName::parse(name);
        use crate::HeaderName as H;
        if matches!(hn, H::Via | H::From | H::To | H::CallId | H::CSeq) {
            if hn == H::Via {
                have_via = true;
            }
            out.extend_from_slice(&full);
            if hn == H::To {
                if let Some(tag) = to_tag {
                    if !full.windows(4).any(|w| w.eq_ignore_ascii_case(b"tag=")) {
                        let _ = write!(out, ";tag={tag}");
                    }
                }
            }
            out.extend_from_slice(b"\r\n");
        }
    }
    if !have_via {
        return None;
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_what_it_can() {
        let raw = b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\nFrom: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 99999999999 INVITE\r\n\r\n";
        let r = error_response(raw, 400, "Bad CSeq header", Some("t1")).unwrap();
        let s = String::from_utf8(r).unwrap();
        assert!(s.starts_with("SIP/2.0 400 Bad CSeq header\r\n"));
        assert!(s.contains("To: <sip:a@b>;tag=t1\r\n"));
        assert!(s.contains("CSeq: 99999999999 INVITE\r\n"));
        assert!(error_response(b"SIP/2.0 200 OK\r\n\r\n", 400, "x", None).is_none());
        assert!(
            error_response(b"INVITE sip:a@b SIP/2.0\r\nTo: x\r\n\r\n", 400, "x", None).is_none()
        );
    }
}
