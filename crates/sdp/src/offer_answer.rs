//! The offer/answer model (RFC 3264) for one G.711 audio stream: answering an offer,
//! making an offer, reading the answer to our offer, and re-offers for hold and resume.
//!
//! One offered audio stream is accepted (the first with a codec in common); every other
//! m-line is answered with port 0, in order, as §6 requires. The chosen codec is the
//! first of the offerer's formats that we support, and telephone-event keeps the
//! offerer's payload type. Hold is recognised in both forms: a direction attribute
//! (sendonly, inactive) and the RFC 2543 `c=0.0.0.0` (§8.4).

use std::net::SocketAddr;

use thiserror::Error;

use crate::attribute::{Attribute, Fmtp, Rtpmap};
use crate::capabilities::{Codec, LocalCapabilities};
use crate::connection::Connection;
use crate::direction::Direction;
use crate::error::ParseError;
use crate::media_description::MediaDescription;
use crate::origin::Origin;
use crate::session_description::{SessionDescription, Timing};

/// Why an offer (or an answer to our offer) cannot be used. Each knows its SIP answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OfferAnswerError {
    /// No audio stream offers a codec we have.
    #[error("no common codec")]
    NoCommonCodec,
    /// The description has no media at all.
    #[error("no media stream")]
    NoMedia,
    /// An answer does not have one m-line per offered m-line (RFC 3264 §6).
    #[error("answer has {answered} m-lines for {offered} offered")]
    MediaCountMismatch {
        /// m-lines in our offer.
        offered: usize,
        /// m-lines in the answer.
        answered: usize,
    },
    /// The body is not a session description.
    #[error(transparent)]
    Parse(#[from] ParseError),
}

impl OfferAnswerError {
    /// The SIP status to refuse the offer with: 488 when the media cannot be used, 400
    /// when the body does not parse. (For a bad answer in a 2xx the caller ACKs and
    /// sends BYE instead.)
    pub fn status(&self) -> u16 {
        match self {
            OfferAnswerError::Parse(_) => 400,
            OfferAnswerError::NoCommonCodec
            | OfferAnswerError::NoMedia
            | OfferAnswerError::MediaCountMismatch { .. } => 488,
        }
    }

    /// The reason phrase for [`Self::status`].
    pub fn reason_phrase(&self) -> &'static str {
        match self.status() {
            400 => "Bad Request",
            _ => "Not Acceptable Here",
        }
    }

    /// The Warning header code and text (RFC 3261 §20.43) that tells the peer why.
    pub fn warning(&self) -> Option<(u16, &'static str)> {
        match self {
            OfferAnswerError::NoCommonCodec => Some((305, "Incompatible media format")),
            OfferAnswerError::NoMedia => Some((304, "Media type not available")),
            OfferAnswerError::MediaCountMismatch { .. } | OfferAnswerError::Parse(_) => None,
        }
    }
}

/// What was agreed for the audio stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedStream {
    /// Which m-line (0-based).
    pub media_index: usize,
    /// Where to send RTP; `None` when the peer gave the hold address or a host name.
    pub remote: Option<SocketAddr>,
    /// The codec.
    pub codec: Codec,
    /// Its payload type on the wire.
    pub payload_type: u8,
    /// The telephone-event payload type, when agreed.
    pub telephone_event: Option<u8>,
    /// Our direction.
    pub direction: Direction,
    /// The peer does not want our media (it put us on hold).
    pub held: bool,
    /// The peer's packet time, 20 ms when not given.
    pub ptime: u32,
}

/// An answer and what it agreed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiation {
    /// The answer to send.
    pub answer: SessionDescription,
    /// The accepted audio stream.
    pub stream: NegotiatedStream,
}

/// Answers an offer (RFC 3264 §6): see [`negotiate`].
pub fn answer(
    offer: &SessionDescription,
    local: &LocalCapabilities,
) -> Result<SessionDescription, OfferAnswerError> {
    negotiate(offer, local).map(|n| n.answer)
}

/// Answers an offer and says what was agreed. Fails with
/// [`OfferAnswerError::NoCommonCodec`] (488) when no audio stream has a codec in common.
pub fn negotiate(
    offer: &SessionDescription,
    local: &LocalCapabilities,
) -> Result<Negotiation, OfferAnswerError> {
    if offer.media.is_empty() {
        return Err(OfferAnswerError::NoMedia);
    }
    let mut stream = None;
    let mut media = Vec::with_capacity(offer.media.len());
    for (index, m) in offer.media.iter().enumerate() {
        let choice = stream
            .is_none()
            .then(|| choose(m, &local.codecs, local.telephone_event.is_some()))
            .flatten();
        let Some((codec, payload_type, telephone_event)) = choice else {
            media.push(rejected(m));
            continue;
        };
        let connection = offer.media_connection(index);
        let hold_address = connection.is_some_and(Connection::is_hold);
        let offered = offer.media_direction(index);
        // The 0.0.0.0 form says "do not send to me" whatever the attribute says.
        let offered = Direction::from_flags(offered.sends(), offered.receives() && !hold_address);
        let direction = offered.answer(local.direction);
        let remote = match (hold_address, connection.and_then(Connection::ip)) {
            (false, Some(ip)) => Some(SocketAddr::new(ip, m.port)),
            _ => None,
        };
        let section = audio_section(local, codec, payload_type, telephone_event, direction);
        media.push(section);
        stream = Some(NegotiatedStream {
            media_index: index,
            remote,
            codec,
            payload_type,
            telephone_event,
            direction,
            held: !offered.receives(),
            ptime: m.ptime().unwrap_or(20),
        });
    }
    let stream = stream.ok_or(OfferAnswerError::NoCommonCodec)?;
    let mut answer = session(local);
    answer.media = media;
    Ok(Negotiation { answer, stream })
}

/// Our offer: one audio stream with our codecs in order, telephone-event, ptime and
/// direction.
pub fn offer(local: &LocalCapabilities) -> SessionDescription {
    let mut sd = session(local);
    let mut m = MediaDescription::new("audio", local.rtp_port, "RTP/AVP", Vec::new());
    for c in &local.codecs {
        m.formats.push(c.payload_type().to_string());
        m.attributes
            .push(rtpmap(c.payload_type(), c.encoding_name()));
    }
    if let Some(te) = local.telephone_event {
        m.formats.push(te.to_string());
        m.attributes.push(rtpmap(te, "telephone-event"));
        m.attributes.push(events_fmtp(te));
    }
    m.attributes.push(Attribute::Ptime(local.ptime));
    m.attributes.push(rtcp(local.rtp_port));
    m.set_direction(local.direction);
    sd.media.push(m);
    sd
}

/// Reads the answer to our offer (RFC 3264 §7): the accepted audio stream and what was
/// agreed for it.
pub fn accept_answer(
    our_offer: &SessionDescription,
    answer: &SessionDescription,
) -> Result<NegotiatedStream, OfferAnswerError> {
    if answer.media.len() != our_offer.media.len() {
        return Err(OfferAnswerError::MediaCountMismatch {
            offered: our_offer.media.len(),
            answered: answer.media.len(),
        });
    }
    for (index, (ours, theirs)) in our_offer.media.iter().zip(&answer.media).enumerate() {
        if theirs.is_rejected() || ours.is_rejected() {
            continue;
        }
        let our_codecs: Vec<Codec> = ours
            .payload_types()
            .filter_map(|pt| codec_of(ours, pt))
            .collect();
        let Some((codec, payload_type, telephone_event)) = choose(theirs, &our_codecs, true) else {
            continue;
        };
        let connection = answer.media_connection(index);
        let hold_address = connection.is_some_and(Connection::is_hold);
        let answered = answer.media_direction(index);
        let answered =
            Direction::from_flags(answered.sends(), answered.receives() && !hold_address);
        let offered = our_offer.media_direction(index);
        let direction = Direction::from_flags(
            offered.sends() && answered.receives(),
            offered.receives() && answered.sends(),
        );
        let remote = match (hold_address, connection.and_then(Connection::ip)) {
            (false, Some(ip)) => Some(SocketAddr::new(ip, theirs.port)),
            _ => None,
        };
        let offered_te = ours.payload_types().any(|pt| Some(pt) == telephone_event);
        return Ok(NegotiatedStream {
            media_index: index,
            remote,
            codec,
            payload_type,
            telephone_event: telephone_event.filter(|_| offered_te),
            direction,
            held: !answered.receives(),
            ptime: theirs.ptime().unwrap_or(20),
        });
    }
    Err(OfferAnswerError::NoCommonCodec)
}

impl SessionDescription {
    /// A re-offer of this (our previous) description with every active stream set to
    /// `direction` and the session version incremented: `SendOnly` puts the peer on hold,
    /// `SendRecv` resumes (RFC 3264 §8.4).
    pub fn reoffer_with_direction(&self, direction: Direction) -> SessionDescription {
        let mut sd = self.clone();
        sd.origin = self.origin.next_version();
        sd.attributes
            .retain(|a| !matches!(a, Attribute::Direction(_)));
        for m in sd.media.iter_mut().filter(|m| !m.is_rejected()) {
            m.set_direction(direction);
        }
        sd
    }
}

/// The codec a payload type of this section names, if it is one of ours.
fn codec_of(m: &MediaDescription, pt: u8) -> Option<Codec> {
    match m.rtpmap(pt) {
        // An rtpmap overrides the static assignment, even for payload types 0 and 8.
        Some(r) => Codec::from_encoding(&r.encoding, r.clock_rate)
            .filter(|_| r.channels.is_none_or(|c| c == 1)),
        None => [Codec::Pcmu, Codec::Pcma]
            .into_iter()
            .find(|c| c.payload_type() == pt),
    }
}

/// The first of the section's formats that is one of `codecs`, and its telephone-event
/// payload type, for an active RTP/AVP audio section.
fn choose(
    m: &MediaDescription,
    codecs: &[Codec],
    telephone_events: bool,
) -> Option<(Codec, u8, Option<u8>)> {
    if m.media != "audio" || !m.proto.eq_ignore_ascii_case("RTP/AVP") || m.port == 0 {
        return None;
    }
    let (codec, pt) = m.payload_types().find_map(|pt| {
        codec_of(m, pt)
            .filter(|c| codecs.contains(c))
            .map(|c| (c, pt))
    })?;
    let te = m
        .payload_types()
        .find(|&pt| m.rtpmap(pt).is_some_and(|r| r.is("telephone-event", 8000)))
        .filter(|_| telephone_events);
    Some((codec, pt, te))
}

fn rejected(m: &MediaDescription) -> MediaDescription {
    MediaDescription::new(&m.media, 0, &m.proto, m.formats.clone())
}

fn rtpmap(payload_type: u8, encoding: &str) -> Attribute {
    Attribute::Rtpmap(Rtpmap {
        payload_type,
        encoding: encoding.into(),
        clock_rate: 8000,
        channels: None,
    })
}

fn events_fmtp(payload_type: u8) -> Attribute {
    // DTMF digits 0-9, *, #, A-D and flash (RFC 4733 §3.2).
    Attribute::Fmtp(Fmtp {
        format: payload_type.to_string(),
        parameters: "0-16".into(),
    })
}

fn audio_section(
    local: &LocalCapabilities,
    codec: Codec,
    payload_type: u8,
    telephone_event: Option<u8>,
    direction: Direction,
) -> MediaDescription {
    let mut m = MediaDescription::new("audio", local.rtp_port, "RTP/AVP", Vec::new());
    m.formats.push(payload_type.to_string());
    m.attributes
        .push(rtpmap(payload_type, codec.encoding_name()));
    if let Some(te) = telephone_event {
        m.formats.push(te.to_string());
        m.attributes.push(rtpmap(te, "telephone-event"));
        m.attributes.push(events_fmtp(te));
    }
    m.attributes.push(Attribute::Ptime(local.ptime));
    m.attributes.push(rtcp(local.rtp_port));
    m.set_direction(direction);
    m
}

/// RFC 3605 `a=rtcp:PORT`: our RTCP is on the port above the RTP port. That is RFC 3550's
/// default, but saying so costs a line and spares a peer (or a NAT helper) the guess.
fn rtcp(rtp_port: u16) -> Attribute {
    Attribute::Other {
        name: "rtcp".into(),
        value: Some(rtp_port.wrapping_add(1).to_string()),
    }
}

fn session(local: &LocalCapabilities) -> SessionDescription {
    let connection = Connection::new(local.address);
    SessionDescription {
        origin: Origin {
            username: local.username.clone(),
            session_id: local.session_id.to_string(),
            session_version: local.session_version,
            net_type: connection.net_type.clone(),
            address_type: connection.address_type.clone(),
            address: connection.address.clone(),
        },
        session_name: "-".into(),
        connection: Some(connection),
        timings: vec![Timing::default()],
        attributes: Vec::new(),
        opaque: Vec::new(),
        media: Vec::new(),
    }
}
