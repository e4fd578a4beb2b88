//! The location service as the CLI shows it (`switchboard location list --json`), and
//! waits for the bindings the registrar writes a moment after its 200.

use std::time::{Duration, Instant};

use crate::server::{Server, DOMAIN};
use crate::wait::HANG_GUARD;

/// The registered contacts of `user` in the store (`switchboard location list --json`).
pub fn contacts(node: &Server, user: &str) -> Vec<String> {
    contacts_of(node, &format!("{user}@{DOMAIN}"))
}

/// The registered contacts of `aor` (USER@DOMAIN) in the store.
pub fn contacts_of(node: &Server, aor: &str) -> Vec<String> {
    let out = node.cli(&["--json", "location", "list", aor]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| b["contact"].as_str().unwrap().to_string())
        .collect()
}

/// Waits until the store lists exactly `expected` for `user` (bindings are written behind
/// the registrar, a moment after its 200).
pub fn wait_for_contacts(node: &Server, user: &str, expected: &[String]) {
    wait_for_contacts_of(node, &format!("{user}@{DOMAIN}"), expected);
}

/// [`wait_for_contacts`] for `aor` (USER@DOMAIN).
pub fn wait_for_contacts_of(node: &Server, aor: &str, expected: &[String]) {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        let now = contacts_of(node, aor);
        if now == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{aor}'s contacts: {now:?}, expected {expected:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
