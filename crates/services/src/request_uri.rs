//! What a call to the host asks for, read from its Request-URI (the contract with the
//! proxy): `sip:voicemail@DOMAIN;mode=deposit;mailbox=USER`,
//! `sip:voicemail@DOMAIN;mode=retrieve;mailbox=USER[;home]` and
//! `sip:voicemail@DOMAIN;mode=retrieve`; and the conference bridge's
//! `sip:conference@DOMAIN;room=ROOM` (or without `room` when a `Join` header names the
//! room's dialog).
//! `sip:voicemail@DOMAIN;mode=retrieve`; music on hold `sip:moh@DOMAIN` and announcements
//! `sip:announce-NAME@DOMAIN` (the proxy maps the names users dial to these).

use sip_message::Uri;
use thiserror::Error;

use crate::mailbox::MailboxId;

/// Voicemail's two modes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoicemailMode {
    /// Leave a message in `mailbox`.
    Deposit {
        /// The callee's mailbox.
        mailbox: MailboxId,
    },
    /// Listen to messages.
    Retrieve {
        /// The mailbox when the proxy knows it (`*98`), else asked by DTMF (`*99`).
        mailbox: Option<MailboxId>,
        /// The caller is the mailbox's owner on their own phone and the PIN is waived
        /// (`--no-pin-at-home`).
        home: bool,
    },
}

/// A service the host runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceRequest {
    /// Voicemail in the domain.
    Voicemail {
        /// The domain (the Request-URI's host).
        domain: String,
        /// Deposit or retrieval.
        mode: VoicemailMode,
    },
    /// The conference bridge.
    Conference {
        /// The domain (the Request-URI's host).
        domain: String,
        /// The room (`None`: the INVITE's `Join` header names it).
        room: Option<String>,
    },
    /// Music on hold: the playlist, looped, until the caller hangs up.
    MusicOnHold,
    /// Call park: `sip:park@DOMAIN` parks the call in a free orbit,
    /// `sip:park@DOMAIN;orbit=N` retrieves the call parked in orbit N.
    Park {
        /// The domain (orbits are per domain).
        domain: String,
        /// The orbit to retrieve; None: park.
        orbit: Option<u32>,
    },
    /// An announcement: `NAME.wav` played once, then BYE; with `;early=STATUS` (set by
    /// the proxy) as early media: `183` with our SDP, the clip, then the final `STATUS`.
    Announcement {
        /// The announcement's name (`[a-z0-9_-]`, at most 64 characters).
        name: String,
        /// Early media before this failure status (400-699).
        early: Option<u16>,
    },
}

/// The host's user part for call park.
pub const PARK_USER: &str = "park";
/// The host's user part for music on hold.
pub const MOH_USER: &str = "moh";
/// The prefix of announcement user parts (`announce-NAME`).
pub const ANNOUNCE_PREFIX: &str = "announce-";

/// True for a usable announcement name: 1 to 64 of `a-z`, `0-9`, `_`, `-` (it names a
/// file: no dots, no slashes).
pub fn is_announcement_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Why a Request-URI names no service; each knows its SIP answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RequestUriError {
    /// Not a SIP URI, or no user part.
    #[error("Request-URI is not sip:SERVICE@DOMAIN")]
    Malformed,
    /// A user that is not one of our services.
    #[error("no service {0:?} here")]
    UnknownService(String),
    /// `mode=` missing or unknown.
    #[error("voicemail needs mode=deposit or mode=retrieve")]
    BadMode,
    /// `mode=deposit` without `mailbox=`.
    #[error("mode=deposit needs mailbox=USER")]
    MissingMailbox,
    /// A room name with characters other than letters, digits, `.`, `_`, `-`, or longer
    /// than 64.
    #[error("room names are 1 to 64 letters, digits, '.', '_' or '-'")]
    BadRoom,
    /// `announce-NAME` with a NAME that cannot name a file.
    #[error("announcement name {0:?} must be 1 to 64 of a-z, 0-9, _ and -")]
    BadAnnouncementName(String),
    /// `orbit=` that is not a number.
    #[error("orbit={0:?} must be a number")]
    BadOrbit(String),
    /// `early=` that is not a failure status.
    #[error("early={0:?} must be a status from 400 to 699")]
    BadEarlyStatus(String),
}

impl RequestUriError {
    /// The status to answer the INVITE with.
    pub fn status(&self) -> u16 {
        match self {
            RequestUriError::UnknownService(_) => 404,
            RequestUriError::Malformed
            | RequestUriError::BadMode
            | RequestUriError::MissingMailbox
            | RequestUriError::BadRoom
            | RequestUriError::BadAnnouncementName(_)
            | RequestUriError::BadEarlyStatus(_)
            | RequestUriError::BadOrbit(_) => 400,
        }
    }
}

impl ServiceRequest {
    /// Reads a Request-URI.
    pub fn parse(request_uri: &str) -> Result<ServiceRequest, RequestUriError> {
        let uri = Uri::parse(request_uri).map_err(|_| RequestUriError::Malformed)?;
        let user = uri.user.ok_or(RequestUriError::Malformed)?;
        if !uri.is_sip() {
            return Err(RequestUriError::Malformed);
        }
        let domain = uri.host_unbracketed().to_ascii_lowercase();
        if user.eq_ignore_ascii_case(crate::conference::SERVICE_USER) {
            let room = match uri.param("room").flatten() {
                Some(r) if valid_room(r) => Some(r.to_ascii_lowercase()),
                Some(_) => return Err(RequestUriError::BadRoom),
                None => None,
            };
            return Ok(ServiceRequest::Conference { domain, room });
        }
        if user.eq_ignore_ascii_case(PARK_USER) {
            let orbit = match uri.param("orbit") {
                None => None,
                Some(v) => {
                    let v = v.unwrap_or("");
                    Some(
                        v.parse::<u32>()
                            .map_err(|_| RequestUriError::BadOrbit(v.to_string()))?,
                    )
                }
            };
            return Ok(ServiceRequest::Park {
                domain: uri.host_unbracketed().to_ascii_lowercase(),
                orbit,
            });
        }
        if user.eq_ignore_ascii_case(MOH_USER) {
            return Ok(ServiceRequest::MusicOnHold);
        }
        if let Some(name) = user.strip_prefix(ANNOUNCE_PREFIX) {
            if !is_announcement_name(name) {
                return Err(RequestUriError::BadAnnouncementName(name.to_string()));
            }
            let early = match uri.param("early") {
                None => None,
                Some(v) => {
                    let v = v.unwrap_or("");
                    match v.parse::<u16>() {
                        Ok(s) if (400..=699).contains(&s) => Some(s),
                        _ => return Err(RequestUriError::BadEarlyStatus(v.to_string())),
                    }
                }
            };
            return Ok(ServiceRequest::Announcement {
                name: name.to_string(),
                early,
            });
        }
        if !user.eq_ignore_ascii_case("voicemail") {
            return Err(RequestUriError::UnknownService(user.to_string()));
        }
        let mailbox = uri
            .param("mailbox")
            .flatten()
            .filter(|m| !m.is_empty())
            .map(|m| MailboxId::new(m, &domain));
        let mode = match uri.param("mode").flatten() {
            Some(m) if m.eq_ignore_ascii_case("deposit") => VoicemailMode::Deposit {
                mailbox: mailbox.ok_or(RequestUriError::MissingMailbox)?,
            },
            Some(m) if m.eq_ignore_ascii_case("retrieve") => VoicemailMode::Retrieve {
                home: mailbox.is_some() && uri.param("home").is_some(),
                mailbox,
            },
            _ => return Err(RequestUriError::BadMode),
        };
        Ok(ServiceRequest::Voicemail { domain, mode })
    }
}

/// A room name the bridge accepts: 1 to 64 of `[A-Za-z0-9._-]`.
pub fn valid_room(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_service_uris() {
        assert_eq!(
            ServiceRequest::parse("sip:moh@example.com"),
            Ok(ServiceRequest::MusicOnHold)
        );
        assert_eq!(
            ServiceRequest::parse("sip:announce-screened@example.com"),
            Ok(ServiceRequest::Announcement {
                name: "screened".into(),
                early: None
            })
        );
        assert_eq!(
            ServiceRequest::parse("sip:announce-480@example.com;early=480"),
            Ok(ServiceRequest::Announcement {
                name: "480".into(),
                early: Some(480)
            })
        );
        assert_eq!(
            ServiceRequest::parse("sip:park@Example.com;orbit=701"),
            Ok(ServiceRequest::Park {
                domain: "example.com".into(),
                orbit: Some(701)
            })
        );
        assert_eq!(
            ServiceRequest::parse("sip:park@example.com;orbit=x")
                .unwrap_err()
                .status(),
            400
        );
        for bad in ["early=200", "early", "early=x"] {
            let uri = format!("sip:announce-480@example.com;{bad}");
            assert_eq!(
                ServiceRequest::parse(&uri).unwrap_err().status(),
                400,
                "{bad}"
            );
        }
        for bad in [
            "sip:announce-@example.com",
            "sip:announce-..%2f@example.com",
        ] {
            assert_eq!(
                ServiceRequest::parse(bad).unwrap_err().status(),
                400,
                "{bad}"
            );
        }
    }

    #[test]
    fn contract_uris() {
        let d = ServiceRequest::parse("sip:voicemail@Example.com;mode=deposit;mailbox=alice");
        assert_eq!(
            d,
            Ok(ServiceRequest::Voicemail {
                domain: "example.com".into(),
                mode: VoicemailMode::Deposit {
                    mailbox: MailboxId::new("alice", "example.com")
                }
            })
        );
        let r = ServiceRequest::parse("sip:voicemail@example.com;mode=retrieve;mailbox=alice;home")
            .unwrap();
        assert!(matches!(
            r,
            ServiceRequest::Voicemail {
                mode: VoicemailMode::Retrieve {
                    home: true,
                    mailbox: Some(_)
                },
                ..
            }
        ));
        let any = ServiceRequest::parse("sip:voicemail@example.com;mode=retrieve;home").unwrap();
        assert!(matches!(
            any,
            ServiceRequest::Voicemail {
                mode: VoicemailMode::Retrieve {
                    home: false,
                    mailbox: None
                },
                ..
            }
        ));
        assert_eq!(
            ServiceRequest::parse("sip:voicemail@example.com;mode=deposit")
                .unwrap_err()
                .status(),
            400
        );
        assert_eq!(
            ServiceRequest::parse("sip:nothing@example.com")
                .unwrap_err()
                .status(),
            404
        );
        assert_eq!(
            ServiceRequest::parse("sip:voicemail@example.com").unwrap_err(),
            RequestUriError::BadMode
        );
        assert_eq!(
            ServiceRequest::parse("sip:conference@Example.com;room=Sales"),
            Ok(ServiceRequest::Conference {
                domain: "example.com".into(),
                room: Some("sales".into())
            })
        );
        assert_eq!(
            ServiceRequest::parse("sip:conference@example.com;room=a%2fb").unwrap_err(),
            RequestUriError::BadRoom
        );
    }
}
