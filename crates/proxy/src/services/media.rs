//! Media services reached by name or number, the pure part: which user parts of a local
//! domain name a service of the service host ([`MediaService`]), as a table of
//! (user-part matcher → service) built from the settings, and the Request-URI the host
//! receives for each. A new service (a conference bridge, a park server) is a variant of
//! [`MediaService`] and one row of [`MediaServicesConfig::table`].
//!
//! The glue into the request route is `core/media_services.rs`.

/// A service of the service host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaService {
    /// Music on hold: the host's `sip:moh@DOMAIN`.
    MusicOnHold,
    /// An announcement: the host's `sip:announce-NAME@DOMAIN` (the user part as dialled).
    Announcement,
    /// Call park: the host's `sip:park@DOMAIN` (local callers only).
    Park,
    /// Retrieval of a parked call by its orbit: `sip:park@DOMAIN;orbit=N` (local callers
    /// only).
    ParkRetrieve,
}

impl MediaService {
    /// Only authenticated local callers may use it.
    pub fn local_only(self) -> bool {
        matches!(self, MediaService::Park | MediaService::ParkRetrieve)
    }
}

/// How a row of the table matches a Request-URI's user part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserMatch<'a> {
    /// This user part exactly (ASCII case-insensitive).
    Exact(&'a str),
    /// User parts that start with this and have at least one character more.
    Prefix(&'a str),
    /// Decimal numbers from `first` to `last`, both included (e.g. park orbits).
    Numbers {
        /// The first number.
        first: u32,
        /// The last number.
        last: u32,
    },
}

impl UserMatch<'_> {
    /// Does `user` match?
    pub fn matches(&self, user: &str) -> bool {
        match self {
            UserMatch::Exact(name) => user.eq_ignore_ascii_case(name),
            UserMatch::Prefix(p) => {
                user.len() > p.len()
                    && user
                        .get(..p.len())
                        .is_some_and(|head| head.eq_ignore_ascii_case(p))
            }
            UserMatch::Numbers { first, last } => {
                !user.is_empty()
                    && user.len() <= 9
                    && user.bytes().all(|b| b.is_ascii_digit())
                    && user
                        .parse::<u32>()
                        .is_ok_and(|n| (*first..=*last).contains(&n))
            }
        }
    }
}

/// Media-service settings of the proxy (`[moh]`, `[announcements]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaServicesConfig {
    /// The user part that reaches music on hold (`[moh] name`, default `moh`).
    pub moh_name: String,
    /// The prefix of announcement user parts (`announce-`; `announce-NAME` plays
    /// `NAME.wav`).
    pub announce_prefix: String,
    /// Failures preceded by early media, the proxy's own (`404` no such user, `480` no
    /// phone registered) and the phones' (`486`): the call goes to the host's
    /// `announce-STATUS` with `;early=STATUS` (`[announcements] early_media`).
    pub early_media: Vec<u16>,
    /// The user part of the park service (`[park] name`, default `park`).
    pub park_name: String,
    /// The feature code that parks (`[park] code`, default `*85`).
    pub park_code: String,
    /// The orbits, first and last (`[park] orbits`, default 701-720): dialling one
    /// retrieves the call parked there.
    pub park_orbits: (u32, u32),
}

impl Default for MediaServicesConfig {
    fn default() -> Self {
        MediaServicesConfig {
            moh_name: "moh".into(),
            announce_prefix: "announce-".into(),
            early_media: Vec::new(),
            park_name: "park".into(),
            park_code: "*85".into(),
            park_orbits: (701, 720),
        }
    }
}

impl MediaServicesConfig {
    /// The routing table, first match wins (borrowed: it is read for every call).
    pub fn table(&self) -> [(UserMatch<'_>, MediaService); 5] {
        [
            (UserMatch::Exact(&self.moh_name), MediaService::MusicOnHold),
            (
                UserMatch::Prefix(&self.announce_prefix),
                MediaService::Announcement,
            ),
            (UserMatch::Exact(&self.park_name), MediaService::Park),
            (UserMatch::Exact(&self.park_code), MediaService::Park),
            (
                UserMatch::Numbers {
                    first: self.park_orbits.0,
                    last: self.park_orbits.1,
                },
                MediaService::ParkRetrieve,
            ),
        ]
    }

    /// The service a user part names, if any.
    pub fn service_for(&self, user: &str) -> Option<MediaService> {
        self.table()
            .into_iter()
            .find(|(m, _)| m.matches(user))
            .map(|(_, s)| s)
    }

    /// The Request-URI the service host receives for a call to `user@domain` that
    /// `service` serves; None when the user part cannot name one (an announcement
    /// name the host would refuse).
    pub fn host_request_uri(
        &self,
        service: MediaService,
        user: &str,
        domain: &str,
    ) -> Option<String> {
        match service {
            MediaService::MusicOnHold => Some(format!("sip:moh@{domain}")),
            MediaService::Park => Some(format!("sip:park@{domain}")),
            MediaService::ParkRetrieve => {
                let orbit: u32 = user.parse().ok()?;
                Some(format!("sip:park@{domain};orbit={orbit}"))
            }
            MediaService::Announcement => {
                let name = user.get(self.announce_prefix.len()..)?.to_ascii_lowercase();
                let ok = name.len() <= 64
                    && name.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-".contains(&b)
                    });
                ok.then(|| format!("sip:announce-{name}@{domain}"))
            }
        }
    }
}

impl MediaServicesConfig {
    /// The host's Request-URI for early media before `status` in `domain`, when the
    /// operator chose it for that status.
    pub fn early_media_uri(&self, status: u16, domain: &str) -> Option<String> {
        self.early_media
            .contains(&status)
            .then(|| format!("sip:announce-{status}@{domain};early={status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_routes_names_and_numbers() {
        let c = MediaServicesConfig {
            moh_name: "hold-music".into(),
            ..MediaServicesConfig::default()
        };
        assert_eq!(c.service_for("Hold-Music"), Some(MediaService::MusicOnHold));
        assert_eq!(c.service_for("moh"), None);
        assert_eq!(
            c.service_for("announce-screened"),
            Some(MediaService::Announcement)
        );
        assert_eq!(c.service_for("announce-"), None);
        assert_eq!(c.service_for("alice"), None);
        assert_eq!(
            c.host_request_uri(MediaService::MusicOnHold, "hold-music", "example.com")
                .as_deref(),
            Some("sip:moh@example.com")
        );
        assert_eq!(
            c.host_request_uri(MediaService::Announcement, "announce-Closed", "example.com")
                .as_deref(),
            Some("sip:announce-closed@example.com")
        );
        assert_eq!(
            c.host_request_uri(MediaService::Announcement, "announce-a.b", "example.com"),
            None
        );
        let orbits = UserMatch::Numbers {
            first: 701,
            last: 720,
        };
        assert!(orbits.matches("701") && orbits.matches("720"));
        assert!(!orbits.matches("721") && !orbits.matches("70a") && !orbits.matches(""));
        let d = MediaServicesConfig::default();
        assert_eq!(d.service_for("*85"), Some(MediaService::Park));
        assert_eq!(d.service_for("710"), Some(MediaService::ParkRetrieve));
        assert_eq!(
            d.host_request_uri(MediaService::ParkRetrieve, "0710", "example.com")
                .as_deref(),
            Some("sip:park@example.com;orbit=710")
        );
        assert!(MediaService::Park.local_only() && !MediaService::MusicOnHold.local_only());
        let early = MediaServicesConfig {
            early_media: vec![404, 480],
            ..MediaServicesConfig::default()
        };
        assert_eq!(
            early.early_media_uri(480, "example.com").as_deref(),
            Some("sip:announce-480@example.com;early=480")
        );
        assert_eq!(early.early_media_uri(486, "example.com"), None);
    }
}
