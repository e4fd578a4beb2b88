//! Flows on a server without authentication ([`crate::server::Options::default`]):
//! phones that register and then play a scenario, callers, a binding moved to another
//! port, and the check that a request came through the proxy.

use crate::ports::free_port;
use crate::server::Server;
use crate::sipp::{headers, Sipp, SippResult};

/// Registers `user` from 127.0.0.1:`port` (so the proxy reaches that port, where the UAS
/// will listen) with the RFC 3665 §2.1 scenario; expiry `expires` seconds.
pub fn register(server: &Server, user: &str, port: u16, expires: u32) -> SippResult {
    let r = Sipp::new(
        server,
        &format!("register-{user}-{port}"),
        "uac-register-new-expect-200.xml",
        port,
    )
    .remote(&server.addr())
    .service(user)
    .key("expires", expires)
    .run();
    r.assert_ok("REGISTER");
    r
}

/// A phone of `user` on a fresh port, registered there first, playing `scenario`.
pub fn phone(server: &Server, user: &str, scenario: &str) -> (u16, Sipp) {
    let port = free_port();
    register(server, user, port, 60);
    (
        port,
        Sipp::new(server, &format!("{user}-{port}"), scenario, port).service(user),
    )
}

/// A phone sending to the proxy from a fresh port; `-s target`.
pub fn caller(server: &Server, name: &str, scenario: &str, target: &str) -> Sipp {
    Sipp::new(server, name, scenario, free_port())
        .remote(&server.addr())
        .service(target)
}

/// The proxy's Via is on top of `msg` (a request it forwarded).
pub fn assert_via_proxy(server: &Server, msg: &str) {
    let vias = headers(msg, "Via");
    assert!(
        vias.first().is_some_and(
            |v| v.starts_with(&format!("SIP/2.0/UDP {};branch=z9hG4bK", server.addr()))
        ),
        "top Via is not the proxy's:\n{msg}"
    );
    assert!(vias.len() >= 2, "sender's Via missing:\n{msg}");
}

/// Moves `user`'s binding from `old` to a fresh port (one REGISTER: the old contact with
/// expires=0, the new one added) and returns the new port.
pub fn move_binding(server: &Server, user: &str, old: u16) -> u16 {
    let port = free_port();
    let r = Sipp::new(
        server,
        &format!("move-{user}-{port}"),
        "uac-register-move-expect-200.xml",
        port,
    )
    .remote(&server.addr())
    .service(user)
    .key("oldport", old)
    .run();
    r.assert_ok("REGISTER moving the binding");
    let ok = &r.find(false, "SIP/2.0 200")[0];
    assert_eq!(
        headers(ok, "Contact"),
        [format!("<sip:{user}@127.0.0.1:{port}>;expires=60")],
        "{ok}"
    );
    port
}
