//! Administration use cases: add and delete domains, users (with both digest HA1s) and
//! aliases, change passwords, set and clear a user's call-service settings (forwarding,
//! find-me, screening), set up voicemail (mailboxes, greetings converted to 8 kHz WAV),
//! PSTN gateways and routes, read call records ([`cdr`]: filters typed by people, CSV),
//! and list or purge instant messages stored for offline users.
//!
//! Every use case validates its input, checks the store's rules (a user and an alias never
//! share a name, targets exist or are external SIP URIs), writes through
//! [`model::Store`], and returns a typed result with the [`ChangeNotice`]s a running server
//! needs to update its in-memory directory incrementally. Errors are [`AdminError`]s that
//! name the field at fault; their text is what the CLI prints.
//!
//! Portal logins live here too: Argon2id-hashed portal accounts (admins, domain admins)
//! and the check of a SIP user's password against their HA1.
//!
//! This crate owns the rules of provisioning. It does not own SQL or any database driver
//! (the `storage` crate), argument parsing or printing (the CLI in `server`), the control
//! socket that carries notices (`server`), or the directory they update (`proxy`). Reading
//! lists (`domain list`, ...) is a plain store query and stays with the front ends.
#![warn(missing_docs)]

mod aliases;
pub mod cdr;
mod domains;
mod error;
mod greeting;
mod instant_messages;
mod notice;
mod pickup;
mod portal_accounts;
mod presence_rules;
mod pstn;
mod settings;
mod target;
mod user_list;
mod users;
pub mod utc;
mod voicemail;

pub use aliases::{add_alias, delete_alias};
pub use domains::{add_domain, check_domain, check_served, delete_domain};
pub use error::AdminError;
pub use greeting::{convert_greeting, MAX_AUDIO_SECS, PROMPT_RATE};
pub use instant_messages::{list_instant_messages, purge_instant_messages};
pub use notice::{Change, ChangeNotice};
pub use pickup::{
    add_to_pickup_group, check_pickup_group, delete_pickup_group, pickup_groups,
    MAX_PICKUP_GROUP_LEN,
};
pub use portal_accounts::{
    add_portal_account, check_account_name, check_portal_login, check_sip_login, generate_password,
    hash_portal_password,
};
pub use presence_rules::{delete_presence_rule, set_presence_rule};
pub use pstn::{
    add_dial_rule, add_gateway, add_route, add_trusted, delete_dial_rule, delete_gateway,
    delete_route, delete_trusted, set_caller_id, set_class, update_gateway, GatewayInput,
};
pub use settings::{
    add_screen_rule, clear_findme, clear_forwarding, delete_screen_rule, direction_name,
    set_findme, set_forwarding, ForwardKind, DEFAULT_NO_ANSWER_SECS, MAX_FINDME_ENTRIES,
};
pub use target::check_target_exists;
pub use user_list::{list_users, MAX_PAGE};
pub use users::{
    add_user, check_aor, check_password, delete_user, disable_user, disabled_reason, enable_user,
    set_password, subscriber_with_password, MAX_DISABLED_REASON,
};
pub use voicemail::{
    delete_voicemail_message, disable_voicemail, enable_voicemail, set_voicemail_greeting,
    VoicemailOptions,
};

/// What a use case did: its result and the notices a running server must apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done<T = ()> {
    /// The use case's own answer (e.g. the normalised domain name).
    pub result: T,
    /// What changed, entity by entity, in the order the changes were made.
    pub notices: Vec<ChangeNotice>,
}

impl<T> Done<T> {
    fn new(result: T, notices: Vec<ChangeNotice>) -> Self {
        Self { result, notices }
    }
}
