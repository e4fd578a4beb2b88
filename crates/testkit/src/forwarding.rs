//! The RFC 5359 forwarding and find-me flows (open server, SIPp phones), written once
//! for one node (`tests/services.rs`: the phones' node and the caller's are the same
//! server) and for two nodes sharing a database (`tests/services_shared.rs`: phones on
//! node A, alice calls through node B). Each flow sets the callee's services through the
//! caller's node, checks alice's ladder, the callee's and the History-Info the target got.
//!
//! Not here: the ladder diagrams (each test draws its own) or the servers' setup.

use crate::location::contacts;
use crate::open;
use crate::server::Server;
use crate::sipp::{headers, Background, SippResult};
use crate::wait::{wait_until, HANG_GUARD};

/// A phone of `user` registered on `phones` playing `scenario`; when alice calls through
/// another node, once that node sees the binding in the shared store.
pub fn phone(phones: &Server, caller: &Server, user: &str, scenario: &str) -> Background {
    let shared = !std::ptr::eq(phones, caller);
    let before = if shared {
        contacts(caller, user).len()
    } else {
        0
    };
    let (_, sipp) = open::phone(phones, user, scenario);
    if shared {
        wait_until(
            &format!("{user}'s binding in the store"),
            HANG_GUARD,
            || contacts(caller, user).len() > before,
        );
    }
    sipp.spawn()
}

/// Alice calling `callee` through `node` with `scenario`.
pub fn alice(node: &Server, scenario: &str, callee: &str) -> SippResult {
    open::caller(node, "alice", scenario, callee).run()
}

/// The History-Info entries of the INVITE a forwarding target received.
pub fn history(invite: &str) -> Vec<String> {
    headers(invite, "History-Info")
        .iter()
        .flat_map(|v| v.split(", "))
        .map(str::to_string)
        .collect()
}

/// The caller's ladder: `head` up to the 200, then ACK, BYE and its 200.
pub fn ladder(head: &[&str]) -> Vec<String> {
    head.iter()
        .chain(["> ACK", "> BYE", "< 200"].iter())
        .map(|s| s.to_string())
        .collect()
}

/// RFC 5359 §2.8: bob (busy, 486) forwards to carol.
pub fn busy(phones: &Server, caller: &Server) {
    caller.cli(&[
        "forward",
        "set",
        "bob@example.com",
        "busy",
        "carol@example.com",
    ]);
    let bob = phone(phones, caller, "bob", "uas-answer-486.xml");
    let carol = phone(phones, caller, "carol", "uas-answer-200.xml");
    let a = alice(caller, "uac-invite-forwarded-expect-200.xml", "bob");
    a.assert_ok("caller");
    let bob = bob.wait();
    bob.assert_ok("busy callee");
    let carol = carol.wait();
    carol.assert_ok("forwarding target");
    assert_eq!(
        a.ladder(),
        ladder(&["> INVITE", "< 100", "< 181", "< 180", "< 200"])
    );
    assert!(
        a.find(false, "SIP/2.0 486").is_empty(),
        "the 486 was relayed"
    );
    assert_eq!(bob.ladder(), ["< INVITE", "> 486", "< ACK"]);
    let invite = &carol.find(false, "INVITE")[0];
    let h = history(invite);
    assert_eq!(h[0], "<sip:bob@example.com>;index=1", "{invite}");
    assert_eq!(
        h[1], "<sip:carol@example.com;cause=486>;index=1.1;mp=1",
        "{invite}"
    );
}

/// RFC 5359 §2.9: bob rings 2 s, then carol.
pub fn no_answer(phones: &Server, caller: &Server) {
    caller.cli(&[
        "forward",
        "set",
        "bob@example.com",
        "no-answer",
        "carol@example.com",
        "--after",
        "2",
    ]);
    let bob = phone(phones, caller, "bob", "uas-ring-cancel-487.xml");
    let carol = phone(phones, caller, "carol", "uas-answer-200.xml");
    let a = alice(caller, "uac-invite-forwarded-expect-200.xml", "bob");
    a.assert_ok("caller");
    let bob = bob.wait();
    bob.assert_ok("unanswered callee");
    let carol = carol.wait();
    carol.assert_ok("forwarding target");
    assert_eq!(
        a.ladder(),
        ladder(&["> INVITE", "< 100", "< 180", "< 181", "< 180", "< 200"])
    );
    assert!(a.find(false, "SIP/2.0 487").is_empty(), "a 487 was relayed");
    assert_eq!(
        bob.ladder(),
        ["< INVITE", "> 180", "< CANCEL", "> 200", "> 487", "< ACK"]
    );
    let h = history(&carol.find(false, "INVITE")[0]);
    assert_eq!(h[1], "<sip:carol@example.com;cause=408>;index=1.1;mp=1");
}

/// Unavailable forwarding: bob has no phone, carol gets the call.
pub fn unavailable(phones: &Server, caller: &Server) {
    caller.cli(&[
        "forward",
        "set",
        "bob@example.com",
        "unavailable",
        "carol@example.com",
    ]);
    let carol = phone(phones, caller, "carol", "uas-answer-200.xml");
    let a = alice(caller, "uac-invite-forwarded-expect-200.xml", "bob");
    a.assert_ok("caller");
    let carol = carol.wait();
    carol.assert_ok("forwarding target");
    assert_eq!(
        a.ladder(),
        ladder(&["> INVITE", "< 100", "< 181", "< 180", "< 200"])
    );
    let h = history(&carol.find(false, "INVITE")[0]);
    assert_eq!(h[1], "<sip:carol@example.com;cause=404>;index=1.1;mp=1");
}

/// RFC 5359 §2.12: bob's phone rings 2 s (the server's find-me contact ring time), then
/// carol, who answers.
pub fn find_me(phones: &Server, caller: &Server) {
    caller.cli(&["findme", "set", "bob@example.com", "carol@example.com:10"]);
    let bob = phone(phones, caller, "bob", "uas-ring-cancel-487.xml");
    let carol = phone(phones, caller, "carol", "uas-answer-200.xml");
    let a = alice(caller, "uac-invite-findme-expect-200.xml", "bob");
    a.assert_ok("caller");
    bob.wait().assert_ok("first target (times out)");
    carol.wait().assert_ok("second target");
    assert_eq!(
        a.ladder(),
        ladder(&["> INVITE", "< 100", "< 180", "< 180", "< 200"])
    );
}
