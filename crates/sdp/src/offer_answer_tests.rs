//! Offer/answer ladders: each test is an offer from a peer and the answer RFC 3264 wants.

use std::net::{IpAddr, SocketAddr};

use crate::*;

fn local() -> LocalCapabilities {
    LocalCapabilities::new(IpAddr::from([127, 0, 0, 1]), 20000, 42)
}

fn sdp(media: &str) -> SessionDescription {
    let body = format!(
        "v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n{media}"
    );
    SessionDescription::parse(&body).unwrap()
}

const AUDIO: &str = "m=audio 49170 RTP/AVP 0 8 97\r\na=rtpmap:97 telephone-event/8000\r\n";

#[test]
fn audio_and_video_offer_gets_pcmu_with_the_offerers_event_number_and_video_refused() {
    let offer = sdp(&format!(
        "{AUDIO}m=video 51372 RTP/AVP 31\r\na=rtpmap:31 H261/90000\r\n"
    ));
    let n = negotiate(&offer, &local()).unwrap();
    assert_eq!(
        n.answer.to_string(),
        "v=0\r\no=switchboard 42 42 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio 20000 RTP/AVP 0 97\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:97 telephone-event/8000\r\n\
         a=fmtp:97 0-16\r\na=ptime:20\r\na=rtcp:20001\r\na=sendrecv\r\n\
         m=video 0 RTP/AVP 31\r\n"
    );
    let s = n.stream;
    assert_eq!(
        (s.media_index, s.codec, s.payload_type),
        (0, Codec::Pcmu, 0)
    );
    assert_eq!(s.telephone_event, Some(97));
    assert_eq!(s.remote, Some(SocketAddr::from(([192, 0, 2, 1], 49170))));
    assert_eq!(
        (s.direction, s.held, s.ptime),
        (Direction::SendRecv, false, 20)
    );
    assert_eq!(answer(&offer, &local()).unwrap(), n.answer);
}

#[test]
fn the_offerers_codec_order_wins_among_ours() {
    let n = negotiate(
        &sdp("m=audio 4000 RTP/AVP 18 8 0\r\na=ptime:30\r\n"),
        &local(),
    )
    .unwrap();
    assert_eq!((n.stream.codec, n.stream.payload_type), (Codec::Pcma, 8));
    assert_eq!((n.stream.telephone_event, n.stream.ptime), (None, 30));
    assert_eq!(n.answer.media[0].formats, ["8"]);
}

#[test]
fn a_dynamic_payload_type_mapped_to_pcmu_is_kept_and_a_remapped_static_one_is_not() {
    let offer =
        sdp("m=audio 4000 RTP/AVP 0 96\r\na=rtpmap:0 G722/8000\r\na=rtpmap:96 pcmu/8000\r\n");
    let n = negotiate(&offer, &local()).unwrap();
    assert_eq!((n.stream.codec, n.stream.payload_type), (Codec::Pcmu, 96));
    assert_eq!(n.answer.media[0].rtpmap(96).unwrap().encoding, "PCMU");
}

#[test]
fn no_common_codec_is_488_with_a_warning() {
    let e = answer(&sdp("m=audio 4000 RTP/AVP 18 9\r\n"), &local()).unwrap_err();
    assert_eq!(e, OfferAnswerError::NoCommonCodec);
    assert_eq!(
        (e.status(), e.reason_phrase()),
        (488, "Not Acceptable Here")
    );
    assert_eq!(e.warning(), Some((305, "Incompatible media format")));
    // Our codec list decides too: an A-law-only side refuses a mu-law-only offer.
    let mut alaw_only = local();
    alaw_only.codecs = vec![Codec::Pcma];
    let e = answer(&sdp("m=audio 4000 RTP/AVP 0\r\n"), &alaw_only).unwrap_err();
    assert_eq!(e.status(), 488);
    // Secure RTP and image streams are not ours either.
    let e = answer(
        &sdp("m=audio 4000 RTP/SAVP 0\r\nm=image 4002 udptl t38\r\n"),
        &local(),
    );
    assert_eq!(e, Err(OfferAnswerError::NoCommonCodec));
    let e = answer(&sdp(""), &local()).unwrap_err();
    assert_eq!((e.status(), e.warning().map(|w| w.0)), (488, Some(304)));
}

#[test]
fn unparseable_offers_are_400() {
    let e: OfferAnswerError = SessionDescription::parse("v=1").unwrap_err().into();
    assert_eq!((e.status(), e.reason_phrase()), (400, "Bad Request"));
}

#[test]
fn one_answer_line_per_offer_line_in_order_and_only_one_audio_accepted() {
    let offer = sdp(&format!(
        "m=audio 0 RTP/AVP 0\r\nm=audio 5000 RTP/AVP 18\r\n{AUDIO}m=audio 6000 RTP/AVP 8\r\n"
    ));
    let n = negotiate(&offer, &local()).unwrap();
    let ports: Vec<u16> = n.answer.media.iter().map(|m| m.port).collect();
    assert_eq!(ports, [0, 0, 20000, 0]);
    assert_eq!(n.answer.media[1].formats, ["18"]);
    assert_eq!(n.stream.media_index, 2);
}

fn answered(media: &str) -> NegotiatedStream {
    negotiate(&sdp(media), &local()).unwrap().stream
}

#[test]
fn hold_directions_are_answered_per_rfc3264_section_6_1() {
    let s = answered("m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n");
    assert_eq!((s.direction, s.held), (Direction::RecvOnly, true));
    let s = answered("m=audio 4000 RTP/AVP 0\r\na=inactive\r\n");
    assert_eq!((s.direction, s.held), (Direction::Inactive, true));
    let s = answered("m=audio 4000 RTP/AVP 0\r\na=recvonly\r\n");
    assert_eq!((s.direction, s.held), (Direction::SendOnly, false));
    // Session-level direction applies to sections without their own.
    let offer = sdp("a=sendonly\r\nm=audio 4000 RTP/AVP 0\r\n");
    let offer = SessionDescription {
        attributes: offer.attributes.clone(),
        ..offer
    };
    let n = negotiate(&offer, &local()).unwrap();
    assert_eq!(n.answer.media[0].direction(), Some(Direction::RecvOnly));
}

#[test]
fn the_old_zero_address_hold_is_recognised() {
    let offer = "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n\
                 m=audio 4000 RTP/AVP 0\r\n";
    let n = negotiate(&SessionDescription::parse(offer).unwrap(), &local()).unwrap();
    assert_eq!(n.stream.remote, None);
    assert!(n.stream.held);
    assert_eq!(n.stream.direction, Direction::RecvOnly);
    assert_eq!(n.answer.media[0].direction(), Some(Direction::RecvOnly));
    // A media-level c=0.0.0.0 with inactive stays inactive.
    let s = answered("m=audio 4000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=inactive\r\n");
    assert_eq!((s.direction, s.remote), (Direction::Inactive, None));
}

#[test]
fn an_announcement_side_answers_sendonly() {
    let mut player = local();
    player.direction = Direction::SendOnly;
    let n = negotiate(&sdp(AUDIO), &player).unwrap();
    assert_eq!(n.stream.direction, Direction::SendOnly);
}

#[test]
fn our_offer_round_trips_through_a_peer_and_its_answer() {
    let mut ours = local();
    ours.codecs = vec![Codec::Pcma, Codec::Pcmu];
    let our_offer = offer(&ours);
    assert_eq!(
        our_offer.media[0].to_string(),
        "m=audio 20000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=rtcp:20001\r\na=sendrecv\r\n"
    );
    let on_the_wire = SessionDescription::parse(&our_offer.to_string()).unwrap();
    assert_eq!(on_the_wire, our_offer);
    let peer = LocalCapabilities::new(IpAddr::from([127, 0, 0, 2]), 30000, 7);
    let their_answer = answer(&on_the_wire, &peer).unwrap();
    let s = accept_answer(&our_offer, &their_answer).unwrap();
    assert_eq!(
        (s.codec, s.payload_type, s.telephone_event),
        (Codec::Pcma, 8, Some(101))
    );
    assert_eq!(s.remote, Some(SocketAddr::from(([127, 0, 0, 2], 30000))));
    assert_eq!(s.direction, Direction::SendRecv);

    // An answer with the wrong number of m-lines, or without our codec, is refused.
    let mut two = their_answer.clone();
    two.media.push(two.media[0].clone());
    assert_eq!(
        accept_answer(&our_offer, &two),
        Err(OfferAnswerError::MediaCountMismatch {
            offered: 1,
            answered: 2
        })
    );
    let mut g729 = their_answer.clone();
    g729.media[0].formats = vec!["18".into()];
    assert_eq!(
        accept_answer(&our_offer, &g729),
        Err(OfferAnswerError::NoCommonCodec)
    );
}

#[test]
fn hold_and_resume_reoffers_bump_the_version() {
    let first = offer(&local());
    let hold = first.reoffer_with_direction(Direction::SendOnly);
    assert_eq!(
        hold.origin.session_version,
        first.origin.session_version + 1
    );
    assert_eq!(hold.media_direction(0), Direction::SendOnly);
    let peer = LocalCapabilities::new(IpAddr::from([127, 0, 0, 2]), 30000, 7);
    let n = negotiate(&hold, &peer).unwrap();
    assert!(n.stream.held);
    assert_eq!(n.stream.direction, Direction::RecvOnly);
    let s = accept_answer(&hold, &n.answer).unwrap();
    assert_eq!(s.direction, Direction::SendOnly);
    let resume = hold.reoffer_with_direction(Direction::SendRecv);
    assert_eq!(
        resume.origin.session_version,
        first.origin.session_version + 2
    );
    let n = negotiate(&resume, &peer).unwrap();
    assert_eq!(
        (n.stream.held, n.stream.direction),
        (false, Direction::SendRecv)
    );
}
