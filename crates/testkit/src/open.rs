//! Flows on a server without authentication ([`crate::server::Options::default`]).

use crate::server::Server;
use crate::sipp::{Sipp, SippResult};

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
