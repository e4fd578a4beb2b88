//! Parse and print ladders: the RFC 4566 example, line ends, ordering and every error.

use super::*;
use crate::attribute::Rtpmap;

/// RFC 4566 §5's example, with the lines this crate keeps opaque.
const RFC4566: &str = "v=0\r\n\
o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\r\n\
s=SDP Seminar\r\n\
i=A Seminar on the session description protocol\r\n\
u=http://www.example.com/seminars/sdp.pdf\r\n\
e=j.doe@example.com (Jane Doe)\r\n\
p=+1 617 555-6011\r\n\
c=IN IP4 224.2.17.12/127\r\n\
b=CT:128\r\n\
t=2873397496 2873404696\r\n\
r=7d 1h 0 25h\r\n\
z=2882844526 -1h 2898848070 0\r\n\
k=prompt\r\n\
a=recvonly\r\n\
m=audio 49170 RTP/AVP 0\r\n\
i=the audio\r\n\
b=AS:64\r\n\
m=video 51372 RTP/AVP 99\r\n\
a=rtpmap:99 h263-1998/90000\r\n";

#[test]
fn rfc4566_example_prints_back_byte_for_byte() {
    let sd = SessionDescription::parse(RFC4566).unwrap();
    assert_eq!(sd.origin.session_version, 2890842807);
    assert_eq!(sd.session_name, "SDP Seminar");
    assert_eq!(sd.timings[0].repeats, ["7d 1h 0 25h"]);
    assert_eq!(sd.direction(), Some(Direction::RecvOnly));
    assert_eq!(sd.media.len(), 2);
    assert_eq!(sd.media_direction(0), Direction::RecvOnly);
    assert_eq!(
        sd.media_connection(1).map(|c| c.address.as_str()),
        Some("224.2.17.12/127")
    );
    assert_eq!(
        sd.media[1].rtpmap(99),
        Some(&Rtpmap {
            payload_type: 99,
            encoding: "h263-1998".into(),
            clock_rate: 90000,
            channels: None
        })
    );
    assert_eq!(sd.to_string(), RFC4566);
}

#[test]
fn lf_line_ends_and_blank_lines_are_accepted() {
    let lf = RFC4566.replace("\r\n", "\n") + "\n";
    let sd = SessionDescription::parse(&lf).unwrap();
    assert_eq!(sd.to_string(), RFC4566);
    assert_eq!(SessionDescription::parse_bytes(lf.as_bytes()).unwrap(), sd);
}

fn error(body: &str) -> (usize, ParseErrorKind) {
    let e = SessionDescription::parse(body).unwrap_err();
    (e.line_number, e.kind)
}

#[test]
fn out_of_order_lines_are_put_in_rfc_order() {
    let body = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nk=prompt\r\ne=late@example.com\r\n\
                m=audio 1 RTP/AVP 0\r\nb=AS:64\r\ni=title\r\n";
    let sd = SessionDescription::parse(body).unwrap();
    let printed = sd.to_string();
    assert_eq!(
        printed,
        "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\ne=late@example.com\r\nt=0 0\r\nk=prompt\r\n\
         m=audio 1 RTP/AVP 0\r\ni=title\r\nb=AS:64\r\n"
    );
    assert_eq!(SessionDescription::parse(&printed).unwrap(), sd);
}

#[test]
fn errors_name_the_line() {
    use ParseErrorKind::*;
    let head = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n";
    assert_eq!(error("v=1\r\n"), (1, BadVersion));
    assert_eq!(error("o=- 1 1 IN IP4 h\r\n"), (1, BadVersion));
    assert_eq!(error(""), (0, BadVersion));
    assert_eq!(error("v=0\r\no=- 1 x IN IP4 h\r\n"), (2, BadOrigin));
    assert_eq!(
        error("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\n"),
        (0, Required('t'))
    );
    assert_eq!(
        error("v=0\r\ns=-\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\n"),
        (4, Required('o'))
    );
    assert_eq!(
        error(&format!("{head}m=audio x RTP/AVP 0\r\n")),
        (5, BadMedia)
    );
    assert_eq!(
        error(&format!("{head}m=audio 1 RTP/AVP 0\r\nc=IN\r\n")),
        (6, BadConnection)
    );
    assert_eq!(
        error(&format!("{head}m=audio 1 RTP/AVP 0\r\nt=0 0\r\n")),
        (6, OutOfPlace)
    );
    assert_eq!(error(&format!("{head}a=rtpmap:x\r\n")), (5, BadRtpmap));
    assert_eq!(error(&format!("{head}t=now 0\r\n")), (5, BadTiming));
    assert_eq!(error(&format!("{head}junk\r\n")), (5, NotTypeValue));
    assert_eq!(error(&format!("{head}A=x\r\n")), (5, NotTypeValue));
    assert_eq!(error(&format!("{head}a=x\ry\r\n")), (5, ControlCharacter));
    assert_eq!(error(&format!("{head}s=again\r\n")), (5, Required('s')));
    assert_eq!(
        SessionDescription::parse_bytes(b"v=0\xff")
            .unwrap_err()
            .kind,
        NotUtf8
    );
    let many = head.to_owned() + &"a=x\r\n".repeat(SessionDescription::MAX_LINES);
    assert_eq!(error(&many).1, TooManyLines);
    let e = SessionDescription::parse(&format!("{head}m=audio x RTP/AVP 0\r\n")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "SDP line 5 `m=audio x RTP/AVP 0`: bad media line (m=)"
    );
}
