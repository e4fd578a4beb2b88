//! What a call to the host asks for, read from its Request-URI (the contract with the
//! proxy): `sip:voicemail@DOMAIN;mode=deposit;mailbox=USER`,
//! `sip:voicemail@DOMAIN;mode=retrieve;mailbox=USER[;home]` and
//! `sip:voicemail@DOMAIN;mode=retrieve`; and the conference bridge's
//! `sip:conference@DOMAIN;room=ROOM` (or without `room` when a `Join` header names the
//! room's dialog).

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
}

impl RequestUriError {
    /// The status to answer the INVITE with.
    pub fn status(&self) -> u16 {
        match self {
            RequestUriError::UnknownService(_) => 404,
            RequestUriError::Malformed
            | RequestUriError::BadMode
            | RequestUriError::MissingMailbox
            | RequestUriError::BadRoom => 400,
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
            ServiceRequest::parse("sip:park@example.com")
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
