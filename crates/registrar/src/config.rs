//! Registrar settings.

/// Expiry bounds and table limits (see docs/configuration.md, section `[registrar]`).
#[derive(Debug, Clone)]
pub struct RegistrarConfig {
    /// Shortest registration accepted; shorter ones get 423 with Min-Expires.
    pub min_expires: u32,
    /// Longest registration granted; longer requests are cut to this.
    pub max_expires: u32,
    /// Expiry when the phone asks for none.
    pub default_expires: u32,
    /// Most contacts one address-of-record may have; more get 503.
    pub max_contacts_per_aor: usize,
    /// Most bindings in the whole table; more get 503 with Retry-After.
    pub max_bindings: usize,
    /// This node's name, recorded in each binding.
    pub node: String,
    /// RFC 5626 §4.4.1: the keep-alive interval, in seconds, the 200 of a flow over UDP
    /// asks for (`Flow-Timer`); 0 sends no Flow-Timer (the phone's default, 95-120 s).
    pub flow_timer_secs: u32,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        RegistrarConfig {
            min_expires: 60,
            max_expires: 3600,
            default_expires: 3600,
            max_contacts_per_aor: 10,
            max_bindings: 1_000_000,
            node: String::from("switchboard"),
            flow_timer_secs: 25,
        }
    }
}
