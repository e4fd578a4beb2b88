//! rtpengine's `ng` control protocol, sans IO: the dictionaries of the `offer`, `answer`,
//! `delete` and `ping` commands for a [`RelayRequest`], the datagram framing (`COOKIE
//! <bencode>`), and the reading of replies into SDP, [`CallStats`] or a [`RelayError`].
//!
//! The flags turn the SDP into what its receiver speaks ([`Profile`]):
//! - to a **browser**: `transport-protocol` `UDP/TLS/RTP/SAVPF`, `ICE` `force` (rtpengine
//!   runs ICE-lite with its own candidates), DTLS-SRTP (rtpengine's default for SAVPF),
//!   `rtcp-mux` `require`, no SDES keys;
//! - to a **plain RTP phone**: `transport-protocol` `RTP/AVP`, `ICE` `remove`, `DTLS`
//!   `off`, `rtcp-mux` `demux`.
//!
//! Every command says `replace` `origin` and `session-connection` (the SDP's o= and c=
//! name the relay), `received-from` the party's SIP source and the `SIP-source-address`
//! flag: rtpengine sends to the signalled address until the party's first packet shows
//! where its media really comes from (symmetric latching, rtpengine's default).
//!
//! Not here: sockets, cookies' uniqueness, retransmission (`client.rs`).

use super::bencode::{dict, DecodeError, Value};
use crate::{CallKey, CallStats, Profile, RelayError, RelayRequest};

/// The dictionary of an `offer` for `req` (to the callee).
pub fn offer(req: &RelayRequest) -> Value {
    command("offer", req)
}

/// The dictionary of an `answer` for `req` (to the caller); it names the callee's tag.
pub fn answer(req: &RelayRequest) -> Value {
    command("answer", req)
}

/// The dictionary of a `delete` of the whole call; `fatal`, so that rtpengine answers an
/// error for a call it does not know (by default it answers `ok` with a warning).
pub fn delete(call: &CallKey) -> Value {
    dict([
        ("command", Value::text("delete")),
        ("call-id", Value::text(&call.call_id)),
        ("from-tag", Value::text(&call.from_tag)),
        ("flags", Value::texts(&["fatal"])),
    ])
}

/// The dictionary of a `ping` (rtpengine answers `pong`).
pub fn ping() -> Value {
    dict([("command", Value::text("ping"))])
}

fn command(name: &str, req: &RelayRequest) -> Value {
    let family = if req.signalled_from.is_ipv4() {
        "IP4"
    } else {
        "IP6"
    };
    let mut pairs = vec![
        ("command", Value::text(name)),
        ("call-id", Value::text(&req.call.call_id)),
        ("from-tag", Value::text(&req.call.from_tag)),
        ("sdp", Value::text(&req.sdp)),
        ("replace", Value::texts(&["origin", "session-connection"])),
        (
            "received-from",
            Value::texts(&[family, &req.signalled_from.ip().to_string()]),
        ),
        ("flags", Value::texts(&["SIP-source-address"])),
    ];
    if let Some(tag) = &req.to_tag {
        pairs.push(("to-tag", Value::text(tag)));
    }
    match req.receiver {
        Profile::WebRtc => {
            pairs.push(("transport-protocol", Value::text("UDP/TLS/RTP/SAVPF")));
            pairs.push(("ICE", Value::text("force")));
            pairs.push(("rtcp-mux", Value::texts(&["require"])));
            pairs.push(("SDES", Value::texts(&["off"])));
        }
        Profile::Rtp => {
            pairs.push(("transport-protocol", Value::text("RTP/AVP")));
            pairs.push(("ICE", Value::text("remove")));
            pairs.push(("DTLS", Value::text("off")));
            pairs.push(("rtcp-mux", Value::texts(&["demux"])));
        }
    }
    dict(pairs)
}

/// One request datagram: the cookie, a space, the bencoded dictionary.
pub fn frame(cookie: &str, message: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(cookie.len() + 1 + 256);
    out.extend_from_slice(cookie.as_bytes());
    out.push(b' ');
    message.encode_into(&mut out);
    out
}

/// Splits a reply datagram into its cookie and its dictionary.
pub fn unframe(datagram: &[u8]) -> Result<(String, Value), DecodeError> {
    let space = datagram
        .iter()
        .position(|&b| b == b' ')
        .ok_or(DecodeError::Truncated)?;
    let cookie = std::str::from_utf8(&datagram[..space])
        .map_err(|_| DecodeError::Bad(0))?
        .to_string();
    let value = Value::decode(&datagram[space + 1..])?;
    Ok((cookie, value))
}

/// The reply's `result` checked: `ok` (or `pong`) passes, an error becomes the
/// [`RelayError`] its reason names.
pub fn check(reply: &Value) -> Result<(), RelayError> {
    match reply.get("result").and_then(Value::as_str) {
        Some("ok") | Some("pong") => Ok(()),
        Some(result) => {
            let reason = reply
                .get("error-reason")
                .and_then(Value::as_str)
                .unwrap_or(result);
            Err(error_for(reason))
        }
        None => Err(RelayError::Unavailable(
            "rtpengine reply without a result".into(),
        )),
    }
}

/// What an rtpengine `error-reason` means for the SIP side.
fn error_for(reason: &str) -> RelayError {
    let lower = reason.to_ascii_lowercase();
    if lower.contains("unknown call") || lower.contains("call-id not found") {
        RelayError::UnknownCall
    } else if lower.contains("sdp") {
        RelayError::BadSdp(format!("rtpengine: {reason}"))
    } else if lower.contains("ports") {
        RelayError::NoPorts
    } else {
        RelayError::Unavailable(format!("rtpengine: {reason}"))
    }
}

/// The rewritten SDP of an `offer` or `answer` reply.
pub fn reply_sdp(reply: &Value) -> Result<String, RelayError> {
    check(reply)?;
    reply
        .get("sdp")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| RelayError::Unavailable("rtpengine reply without SDP".into()))
}

/// The counters of a `delete` reply: the RTP packets rtpengine received from the
/// caller's tag (`from_tag`) were relayed to the callee, those from any other tag to the
/// caller. RTCP streams are not counted. rtpengine's delete reply carries no loss count
/// per call, so `packets_lost` stays 0.
pub fn reply_stats(reply: &Value, from_tag: &str) -> Result<CallStats, RelayError> {
    check(reply)?;
    let mut stats = CallStats::default();
    let Some(tags) = reply.get("tags") else {
        return Ok(stats);
    };
    for (tag, monologue) in tags.entries() {
        let streams: Vec<&Value> = monologue
            .get("medias")
            .map(Value::items)
            .unwrap_or_default()
            .iter()
            .flat_map(|m| m.get("streams").map(Value::items).unwrap_or_default())
            .filter(|s| !is_rtcp(s))
            .collect();
        let total = |key: &str| -> u64 {
            streams
                .iter()
                .filter_map(|s| s.get("stats")?.get(key)?.as_int())
                .map(|n| u64::try_from(n).unwrap_or(0))
                .sum()
        };
        let (packets, bytes) = (total("packets"), total("bytes"));
        if tag == from_tag.as_bytes() {
            stats.packets_to_callee += packets;
            stats.bytes_to_callee += bytes;
        } else {
            stats.packets_to_caller += packets;
            stats.bytes_to_caller += bytes;
        }
    }
    Ok(stats)
}

/// An RTCP-only stream: flagged `RTCP` and not `RTP` (with rtcp-mux, as towards a
/// browser, one stream carries both and is flagged both).
fn is_rtcp(stream: &Value) -> bool {
    let flags = stream.get("flags").map(Value::items).unwrap_or_default();
    let has = |name: &str| flags.iter().any(|f| f.as_str() == Some(name));
    has("RTCP") && !has("RTP")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(receiver: Profile, to_tag: Option<&str>) -> RelayRequest {
        RelayRequest {
            call: CallKey {
                call_id: "c1".into(),
                from_tag: "f1".into(),
            },
            to_tag: to_tag.map(str::to_string),
            sdp: "v=0\r\n".into(),
            signalled_from: "192.0.2.7:5060".parse().unwrap(),
            receiver,
        }
    }

    fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
        v.get(key).and_then(Value::as_str)
    }

    fn list(v: &Value, key: &str) -> Vec<String> {
        v.get(key)
            .map(Value::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect()
    }

    #[test]
    fn an_offer_to_a_browser_asks_for_dtls_srtp_with_ice() {
        let v = offer(&request(Profile::WebRtc, None));
        assert_eq!(text(&v, "command"), Some("offer"));
        assert_eq!(text(&v, "call-id"), Some("c1"));
        assert_eq!(text(&v, "from-tag"), Some("f1"));
        assert_eq!(text(&v, "to-tag"), None);
        assert_eq!(text(&v, "sdp"), Some("v=0\r\n"));
        assert_eq!(text(&v, "transport-protocol"), Some("UDP/TLS/RTP/SAVPF"));
        assert_eq!(text(&v, "ICE"), Some("force"));
        assert_eq!(list(&v, "rtcp-mux"), ["require"]);
        assert_eq!(list(&v, "SDES"), ["off"]);
        assert_eq!(list(&v, "replace"), ["origin", "session-connection"]);
        assert_eq!(list(&v, "received-from"), ["IP4", "192.0.2.7"]);
        assert_eq!(list(&v, "flags"), ["SIP-source-address"]);
    }

    #[test]
    fn an_answer_to_a_phone_asks_for_plain_rtp_without_ice() {
        let v = answer(&request(Profile::Rtp, Some("t1")));
        assert_eq!(text(&v, "command"), Some("answer"));
        assert_eq!(text(&v, "to-tag"), Some("t1"));
        assert_eq!(text(&v, "transport-protocol"), Some("RTP/AVP"));
        assert_eq!(text(&v, "ICE"), Some("remove"));
        assert_eq!(text(&v, "DTLS"), Some("off"));
        assert_eq!(list(&v, "rtcp-mux"), ["demux"]);
    }

    #[test]
    fn frames_carry_the_cookie_before_the_dictionary() {
        let wire = frame("ck-1", &ping());
        assert_eq!(wire, b"ck-1 d7:command4:pinge".to_vec());
        let (cookie, v) = unframe(b"ck-1 d6:result4:ponge").unwrap();
        assert_eq!(cookie, "ck-1");
        assert_eq!(check(&v), Ok(()));
        assert!(unframe(b"nospace").is_err());
        assert!(unframe(b"ck d6:result").is_err());
    }

    #[test]
    fn errors_map_to_their_sip_meaning() {
        let err = |reason: &str| {
            check(&dict([
                ("result", Value::text("error")),
                ("error-reason", Value::text(reason)),
            ]))
            .unwrap_err()
        };
        assert_eq!(err("Unknown call-id"), RelayError::UnknownCall);
        assert_eq!(
            err("Call-ID not found or tags didn't match"),
            RelayError::UnknownCall
        );
        assert_eq!(err("Failed to parse SDP").status(), 488);
        assert_eq!(err("Ran out of ports"), RelayError::NoPorts);
        assert_eq!(err("Incomplete message").status(), 503);
        let load = dict([("result", Value::text("load limit"))]);
        assert_eq!(check(&load).unwrap_err().status(), 503);
        assert_eq!(check(&dict([])).unwrap_err().status(), 503);
    }

    #[test]
    fn delete_counts_rtp_per_direction_without_rtcp() {
        let stream = |packets: i64, flags: &[&str]| {
            dict([
                (
                    "stats",
                    dict([
                        ("packets", Value::Int(packets)),
                        ("bytes", Value::Int(packets * 172)),
                    ]),
                ),
                ("flags", Value::texts(flags)),
            ])
        };
        let monologue = |rtp: i64| {
            dict([(
                "medias",
                Value::List(vec![dict([(
                    "streams",
                    Value::List(vec![stream(rtp, &["RTP"]), stream(7, &["RTCP"])]),
                )])]),
            )])
        };
        let reply = dict([
            ("result", Value::text("ok")),
            (
                "tags",
                dict([("f1", monologue(250)), ("t1", monologue(240))]),
            ),
        ]);
        let stats = reply_stats(&reply, "f1").unwrap();
        assert_eq!(stats.packets_to_callee, 250);
        assert_eq!(stats.packets_to_caller, 240);
        assert_eq!(stats.bytes_to_callee, 250 * 172);
        assert_eq!(stats.bytes_to_caller, 240 * 172);
        assert_eq!(stats.packets_lost, 0);
    }
}
