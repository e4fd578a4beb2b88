//! RFC 3665 section 2 (registration flows) against the real binary, with SIPp as Bob's
//! phone. Authentication is off: the unsuccessful flows are the ones a registrar without
//! digest produces (404, 423, 400).

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use testkit::ports::free_port;
use testkit::server::{Options, Server};
use testkit::sipp::{header, headers, Sipp};

/// The server binary under test (only the server crate's tests know its path).
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn reg(server: &Server, name: &str, scenario: &str, user: &str) -> Sipp {
    Sipp::new(server, name, scenario, free_port())
        .remote(&server.addr())
        .service(user)
}

/// §2.1 Successful New Registration
///
/// ```text
/// Bob                    Switchboard
///  |  F1 REGISTER Contact  |
///  |---------------------->|
///  |  F2 200 OK Contact;expires
///  |<----------------------|
/// ```
#[test]
fn rfc3665_2_1_new_registration() {
    let server = Server::start(BIN, Options::default());
    let r = reg(&server, "2_1", "uac-register-new-expect-200.xml", "bob")
        .key("expires", 30)
        .run();
    r.assert_ok("§2.1");
    assert_eq!(r.ladder(), ["> REGISTER", "< 200"]);
    let ok = &r.find(false, "SIP/2.0 200")[0];
    let contacts = headers(ok, "Contact");
    assert_eq!(contacts.len(), 1, "{ok}");
    assert!(
        contacts[0].starts_with("<sip:bob@127.0.0.1:") && contacts[0].contains(";expires="),
        "{ok}"
    );
    let expires: u32 = contacts[0]
        .rsplit("expires=")
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&expires), "granted {expires}");
    // The binding is visible to the administrator.
    let list: serde_json::Value =
        serde_json::from_str(&server.cli(&["--json", "location", "list"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
}

/// §2.2 Update of Contact List: a second contact is added; the 200 lists both.
///
/// ```text
/// Bob                    Switchboard
///  |  F1 REGISTER Contact A|
///  |---------------------->|
///  |  F2 200 OK (A)        |
///  |<----------------------|
///  |  F3 REGISTER Contact B|
///  |---------------------->|
///  |  F4 200 OK (A, B)     |
///  |<----------------------|
/// ```
#[test]
fn rfc3665_2_2_update_contact_list() {
    let server = Server::start(BIN, Options::default());
    let r = reg(&server, "2_2", "uac-register-update-expect-200.xml", "bob").run();
    r.assert_ok("§2.2");
    assert_eq!(r.ladder(), ["> REGISTER", "< 200", "> REGISTER", "< 200"]);
    let oks = r.find(false, "SIP/2.0 200");
    assert_eq!(headers(&oks[0], "Contact").len(), 1, "{}", oks[0]);
    let both = headers(&oks[1], "Contact");
    assert_eq!(both.len(), 2, "{}", oks[1]);
    assert!(both.iter().all(|c| c.contains(";expires=")), "{both:?}");
}

/// §2.3 Request for Current Contact List: a REGISTER without Contact is a query.
///
/// ```text
/// Bob                    Switchboard
///  |  F1 REGISTER (A, B)   |
///  |---------------------->|
///  |  F2 200 OK            |
///  |<----------------------|
///  |  F3 REGISTER (no Contact)
///  |---------------------->|
///  |  F4 200 OK (A, B)     |
///  |<----------------------|
/// ```
#[test]
fn rfc3665_2_3_query_contact_list() {
    let server = Server::start(BIN, Options::default());
    let r = reg(&server, "2_3", "uac-register-query-expect-200.xml", "bob").run();
    r.assert_ok("§2.3");
    assert_eq!(r.ladder(), ["> REGISTER", "< 200", "> REGISTER", "< 200"]);
    let query = &r.find(true, "REGISTER")[1];
    assert!(header(query, "Contact").is_none(), "{query}");
    let oks = r.find(false, "SIP/2.0 200");
    assert_eq!(headers(&oks[1], "Contact").len(), 2, "{}", oks[1]);
}

/// §2.4 Cancellation of Registration: `expires=0` on one contact, then `Contact: *` with
/// `Expires: 0`.
///
/// ```text
/// Bob                    Switchboard
///  |  F1 REGISTER (A, B)   |
///  |---------------------->|
///  |  F2 200 OK (A, B)     |
///  |<----------------------|
///  |  F3 REGISTER B;expires=0
///  |---------------------->|
///  |  F4 200 OK (A)        |
///  |<----------------------|
///  |  F5 REGISTER * Expires: 0
///  |---------------------->|
///  |  F6 200 OK (none)     |
///  |<----------------------|
/// ```
#[test]
fn rfc3665_2_4_cancellation() {
    let server = Server::start(BIN, Options::default());
    let r = reg(&server, "2_4", "uac-register-cancel-expect-200.xml", "bob").run();
    r.assert_ok("§2.4");
    assert_eq!(
        r.ladder(),
        [
            "> REGISTER",
            "< 200",
            "> REGISTER",
            "< 200",
            "> REGISTER",
            "< 200"
        ]
    );
    let oks = r.find(false, "SIP/2.0 200");
    assert_eq!(headers(&oks[0], "Contact").len(), 2, "{}", oks[0]);
    assert_eq!(headers(&oks[1], "Contact").len(), 1, "{}", oks[1]);
    assert!(headers(&oks[2], "Contact").is_empty(), "{}", oks[2]);
    let list: serde_json::Value =
        serde_json::from_str(&server.cli(&["--json", "location", "list"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 0, "{list}");
}

/// §2.5 Unsuccessful Registration, without authentication: the failures a registrar
/// answers on its own.
///
/// ```text
/// Dave (unknown)         Switchboard
///  |  REGISTER             |
///  |---------------------->|
///  |  404 Not Found        |
///  |<----------------------|
/// Bob
///  |  REGISTER Expires: 3  |
///  |---------------------->|
///  |  423 Min-Expires: 10  |
///  |<----------------------|
///  |  REGISTER * Expires: 60
///  |---------------------->|
///  |  400 Bad Request      |
///  |<----------------------|
/// ```
#[test]
fn rfc3665_2_5_unsuccessful_registration() {
    let server = Server::start(BIN, Options::default());

    let r = reg(
        &server,
        "2_5_404",
        "uac-register-unknown-expect-404.xml",
        "dave",
    )
    .run();
    r.assert_ok("§2.5 unknown user");
    assert_eq!(r.ladder(), ["> REGISTER", "< 404"]);

    let r = reg(
        &server,
        "2_5_423",
        "uac-register-brief-expect-423.xml",
        "bob",
    )
    .key("expires", 3)
    .run();
    r.assert_ok("§2.5 interval too brief");
    assert_eq!(r.ladder(), ["> REGISTER", "< 423"]);
    let resp = &r.find(false, "SIP/2.0 423")[0];
    assert_eq!(header(resp, "Min-Expires"), Some("10"), "{resp}");

    let r = reg(
        &server,
        "2_5_400",
        "uac-register-wildcard-expect-400.xml",
        "bob",
    )
    .run();
    r.assert_ok("§2.5 wildcard without Expires: 0");
    assert_eq!(r.ladder(), ["> REGISTER", "< 400"]);

    // None of them left a binding.
    let list: serde_json::Value =
        serde_json::from_str(&server.cli(&["--json", "location", "list"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 0, "{list}");
}
