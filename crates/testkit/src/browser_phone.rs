//! JsSIP browser phones for the WebRTC tests (issue 19): a server with a `wss:` listener
//! (a self-signed certificate for 127.0.0.1) that accepts WebSocket upgrades from the test
//! page's origin, a headless Chromium on the page (`phone.html` of the server's
//! `tests/fixtures/webrtc`) registered over it, and the page's event log (`sb.events`).
//!
//! Not here: the page itself, or Chromium's switches (`browser.rs`).

use std::path::Path;

use serde_json::Value;

use crate::browser::Browser;
use crate::certs::self_signed;
use crate::ports::free_port;
use crate::server::{password, Options, Server, DOMAIN};
use crate::static_site::StaticSite;

/// The server binary `bin` with a `wss:` listener that accepts WebSocket upgrades from
/// `origin` only, and `base`'s settings (its `extra` follows the `[tls]` section).
/// Returns it, the WSS port, and the directory holding the certificate (keep it).
pub fn wss_server(bin: &str, base: Options, origin: &str) -> (Server, u16, tempfile::TempDir) {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(certs.path(), "switchboard");
    let wss = free_port();
    let node = Server::start(
        bin,
        Options {
            extra_listen: vec![format!("wss:127.0.0.1:{wss}")],
            sip: format!("ws_origins = [{origin:?}]\n"),
            extra: format!(
                "[tls]\ncertificate = {cert:?}\nprivate_key = {key:?}\n{}",
                base.extra
            ),
            ..base
        },
    );
    (node, wss, certs)
}

/// A browser phone: Chromium on the page of `site`, its JsSIP user agent started for
/// `user` and registered over WSS on `wss`. `fake_audio`: a WAV file the fake microphone
/// plays (looped) instead of Chromium's beeps.
pub fn browser_phone(
    site: &StaticSite,
    wss: u16,
    user: &str,
    fake_audio: Option<&Path>,
) -> Browser {
    let b = match fake_audio {
        Some(wav) => Browser::phone_playing(&site.origin(), wav),
        None => Browser::phone(&site.origin()),
    };
    b.open("/phone.html");
    b.eval(&format!(
        "start({{wss: 'wss://127.0.0.1:{wss}', user: '{user}', password: '{}', domain: '{DOMAIN}'}}); return true;",
        password(user)
    ));
    b.wait_for(
        &format!("{user}'s registration over WSS"),
        "return sb.registered;",
    );
    b
}

/// How many times the page noted `event` (`confirmed`, `ended`, ...).
pub fn count(b: &Browser, event: &str) -> u64 {
    let v = b.eval(&format!(
        "return sb.events.filter(e => e === {event:?} || e.startsWith({event:?} + ' ')).length;"
    ));
    v.as_u64().unwrap()
}

/// Waits until the page has noted `event` `n` times.
pub fn wait_event(b: &Browser, event: &str, n: u64) {
    b.wait_for(
        &format!("{event} #{n}"),
        &format!(
            "return sb.events.filter(e => e === {event:?} || e.startsWith({event:?} + ' ')).length >= {n};"
        ),
    );
}

/// The page's event log.
pub fn events(b: &Browser) -> Value {
    b.eval("return sb.events;")
}
