//! The conference bridge end to end on the real binary, through the proxy, with the media
//! decoded: three phones (testkit's SIP phone and RTP peer) dial `conf-tones`, `800`
//! reaches its own room (an alias `850` stays alice's), each sends its own tone (500, 1000, 1500 Hz) and hears the other
//! two and never its own (Goertzel on the RTP it receives); `switchboard conference
//! list` shows the room; a fourth phone joins by an RFC 3911 `Join` naming bob's dialog
//! with the bridge, sent to bob's address (RFC 5359 §2.11), and is heard; a fifth gets 486
//! (`max_participants = 4`); a `Join` naming no bridge call goes to the phone it is
//! addressed to (carol's desk phone); carol hangs up and the others stop hearing her; alice
//! REFERs carol's desk phone to the room and carol dials in (RFC 5359 §2.10, the referred
//! party dialling in; NOTIFY sipfrag back through the proxy); SIPp dials the room and the
//! tone it plays from a pcap is heard; a room with a PIN lets
//! in only who keys it.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use testkit::audio;
use testkit::rtp_peer::RtpPeer;
use testkit::server::{Options, Server, DOMAIN};
use testkit::sip_phone::{Received, SipPhone};
use testkit::udp::RawUdp;
use testkit::wait::{wait_until, HANG_GUARD};

/// The server binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// One participant: its signalling, its RTP, and where the bridge takes its audio.
struct Phone {
    sip: SipPhone,
    rtp: Option<RtpPeer>,
    media: SocketAddr,
    ok: Received,
}

fn dial(proxy: SocketAddr, user: &str, uri: &str, headers: &str) -> Phone {
    let rtp = RtpPeer::bind();
    let mut sip = SipPhone::new(proxy, user);
    let ok = sip.invite_with(uri, &SipPhone::pcmu_offer(rtp.addr()), headers);
    assert_eq!(ok.status(), 200, "{user} dialling {uri}: {}", ok.text);
    assert!(
        !ok.headers("Record-Route").is_empty(),
        "the 200 came through the proxy: {}",
        ok.text
    );
    let media = ok.sdp_rtp_addr().unwrap();
    Phone {
        sip,
        rtp: Some(rtp),
        media,
        ok,
    }
}

/// Everyone in `talkers` sends its tone for `ms` at once; returns, per phone, how many
/// samples it had heard before.
fn talk(talkers: &mut [(&mut Phone, f64)], ms: u32) -> Vec<usize> {
    let marks: Vec<usize> = talkers
        .iter()
        .map(|(p, _)| p.rtp.as_ref().unwrap().heard().samples.len())
        .collect();
    let threads: Vec<_> = talkers
        .iter_mut()
        .map(|(p, hz)| {
            let mut rtp = p.rtp.take().unwrap();
            let (to, hz) = (p.media, *hz);
            std::thread::spawn(move || {
                rtp.send_audio(to, &audio::tone(hz, ms, 8000.0));
                rtp
            })
        })
        .collect();
    for ((p, _), t) in talkers.iter_mut().zip(threads) {
        p.rtp = Some(t.join().unwrap());
    }
    marks
}

/// The share of `hz` in what `p` heard after `mark`, without the first and last 200 ms.
fn share(p: &Phone, mark: usize, hz: f64) -> f64 {
    let rtp = p.rtp.as_ref().unwrap();
    assert!(rtp.wait_samples(mark + 8000, HANG_GUARD));
    let heard = rtp.heard().samples;
    let end = heard.len().saturating_sub(1600);
    let window = &heard[(mark + 1600).min(end)..end];
    assert!(window.len() >= 4000, "only {} samples heard", window.len());
    audio::block_tone_share(window, hz)
}

fn assert_hears(p: &Phone, name: &str, mark: usize, hears: &[f64], not: &[f64]) {
    for &hz in hears {
        let s = share(p, mark, hz);
        assert!(s > 0.15, "{name} does not hear {hz} Hz: share {s}");
    }
    for &hz in not {
        let s = share(p, mark, hz);
        assert!(s < 0.02, "{name} hears {hz} Hz: share {s}");
    }
}

/// `Join: call-id;to-tag=BRIDGE;from-tag=PHONE` for a phone's dialog with the bridge,
/// read from the bridge's 200.
fn join_header(ok: &Received) -> String {
    let tag = |h: &str| testkit::sipp::tag(ok.header(h).unwrap());
    format!(
        "Join: {};to-tag={};from-tag={}\r\n",
        ok.header("Call-ID").unwrap(),
        tag("To"),
        tag("From")
    )
}

fn rooms(server: &Server) -> serde_json::Value {
    serde_json::from_str(&server.cli(&["--json", "conference", "list"])).unwrap()
}

#[test]
fn three_phones_hear_each_other_and_a_fourth_joins() {
    let services_port = testkit::ports::free_port();
    let rtp = 26000 + (std::process::id() % 300) as u16 * 20;
    let opts = Options {
        extra: format!(
            "[media]\nenabled = true\nservice_listen = \"127.0.0.1:{services_port}\"\n\
             bind_address = \"127.0.0.1\"\nrtp_ports = \"{rtp}-{}\"\n\n\
             [conference]\nmax_participants = 4\n\n[conference.pins]\nsecret = \"4321\"\n",
            rtp + 19,
        ),
        ..Options::default()
    };
    let server = Server::start(BIN, opts);
    let proxy = server.socket_addr();
    let room = format!("sip:conf-tones@{DOMAIN}");

    // 1. Three phones in one room: each hears the other two, never itself.
    let mut alice = dial(proxy, "alice", &room, "");
    let mut bob = dial(proxy, "bob", &room, "");
    let mut carol = dial(proxy, "carol", &room, "");
    let marks = talk(
        &mut [
            (&mut alice, 500.0),
            (&mut bob, 1000.0),
            (&mut carol, 1500.0),
        ],
        2000,
    );
    assert_hears(&alice, "alice", marks[0], &[1000.0, 1500.0], &[500.0]);
    assert_hears(&bob, "bob", marks[1], &[500.0, 1500.0], &[1000.0]);
    assert_hears(&carol, "carol", marks[2], &[500.0, 1000.0], &[1500.0]);

    // The room by number is another room.
    let mut numbered = dial(proxy, "bob", &format!("sip:800@{DOMAIN}"), "");
    let list = rooms(&server);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["room"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["800@example.com", "tones@example.com"], "{list}");
    let tones = &list[1]["participants"];
    assert_eq!(tones.as_array().unwrap().len(), 3, "{list}");
    assert_eq!(tones[0]["caller"], format!("sip:alice@{DOMAIN}"), "{list}");
    assert_eq!(tones[2]["in_room"], true, "{list}");
    assert_eq!(numbered.sip.bye(), 200);
    drop(numbered);
    // A number of the range that is an alias stays the alias's (alice: no phone, 480).
    server.cli(&[
        "alias",
        "add",
        &format!("850@{DOMAIN}"),
        &format!("alice@{DOMAIN}"),
    ]);
    let peer = RtpPeer::bind();
    let mut to_alias = SipPhone::new(proxy, "bob");
    let r = to_alias.invite(
        &format!("sip:850@{DOMAIN}"),
        &SipPhone::pcmu_offer(peer.addr()),
    );
    assert_eq!(
        r.status(),
        480,
        "850 is alice's alias, not a room: {}",
        r.text
    );

    // 2. RFC 5359 §2.11: dave sends an INVITE to bob with Join naming bob's dialog with
    // the bridge; the proxy sends it to the bridge, and dave is in the room.
    let join = join_header(&bob.ok);
    let mut dave = dial(proxy, "carol", &format!("sip:bob@{DOMAIN}"), &join);
    let bob_mark = bob.rtp.as_ref().unwrap().heard().samples.len();
    let marks = talk(&mut [(&mut alice, 500.0), (&mut dave, 2000.0)], 1500);
    assert_hears(&bob, "bob", bob_mark, &[500.0, 2000.0], &[1000.0]);
    assert_hears(&alice, "alice", marks[0], &[2000.0], &[500.0]);
    assert_hears(&dave, "dave", marks[1], &[500.0], &[2000.0]);
    assert_eq!(
        rooms(&server)[0]["participants"].as_array().unwrap().len(),
        4
    );

    // The room is full: 486 with the reason.
    let peer = RtpPeer::bind();
    let mut fifth = SipPhone::new(proxy, "alice");
    let busy = fifth.invite(&room, &SipPhone::pcmu_offer(peer.addr()));
    assert_eq!(busy.status(), 486, "{}", busy.text);
    assert!(
        busy.header("Warning").unwrap().contains("full"),
        "{}",
        busy.text
    );

    // A Join that names no call with the bridge is an ordinary call to the phone named:
    // carol's desk phone gets it (and answers 486 here).
    let port = testkit::ports::free_port();
    testkit::open::register(&server, "carol", port, 60);
    let desk = RawUdp::bind(SocketAddr::from(([127, 0, 0, 1], port)));
    let caller = std::thread::spawn(move || {
        let peer = RtpPeer::bind();
        let mut p = SipPhone::new(proxy, "alice");
        p.invite_with(
            &format!("sip:carol@{DOMAIN}"),
            &SipPhone::pcmu_offer(peer.addr()),
            "Join: elsewhere-1;to-tag=a;from-tag=b\r\n",
        )
        .status()
    });
    let invite = wait_for_invite(&desk, proxy);
    assert!(
        invite.starts_with(&format!("INVITE sip:carol@127.0.0.1:{port}")),
        "{invite}"
    );
    assert!(
        invite.contains("Join: elsewhere-1;to-tag=a;from-tag=b"),
        "{invite}"
    );
    assert_eq!(caller.join().unwrap(), 486);

    // 3. Carol hangs up: the others stop hearing 1500 Hz.
    assert_eq!(carol.sip.bye(), 200);
    wait_until("carol out of the room", HANG_GUARD, || {
        rooms(&server)[0]["participants"].as_array().unwrap().len() == 3
    });
    let marks = talk(
        &mut [(&mut alice, 500.0), (&mut bob, 1000.0), (&mut dave, 2000.0)],
        1500,
    );
    assert_hears(
        &alice,
        "alice",
        marks[0],
        &[1000.0, 2000.0],
        &[1500.0, 500.0],
    );
    assert_hears(&bob, "bob", marks[1], &[500.0, 2000.0], &[1500.0, 1000.0]);

    // 4. RFC 5359 §2.10, the referred party dials in: alice (on another line) calls
    // carol's desk phone, REFERs it to the room; the desk phone accepts (202), carol dials
    // the Refer-To URI, is heard in the room, and the desk phone NOTIFYs the outcome
    // (sipfrag 200). Every request goes through the proxy.
    let mut line2 = SipPhone::new(proxy, "alice");
    let peer2 = RtpPeer::bind();
    let ringing = std::thread::spawn(move || {
        let ok = line2.invite(
            &format!("sip:carol@{DOMAIN}"),
            &SipPhone::pcmu_offer(peer2.addr()),
        );
        (line2, ok.status())
    });
    let invite = answer_invite(&desk, proxy, port);
    let (mut line2, status) = ringing.join().unwrap();
    assert_eq!(status, 200);
    let refer_headers = format!("Refer-To: <{room}>\r\nReferred-By: <sip:alice@{DOMAIN}>\r\n");
    let referring = std::thread::spawn(move || {
        let r = line2.request_with("REFER", "", "", &refer_headers);
        (line2, r)
    });
    let refer = answer_request(&desk, proxy, "REFER", 202);
    let (line2, accepted) = referring.join().unwrap();
    assert_eq!(accepted.status(), 202, "{}", accepted.text);
    let refer_to = refer
        .lines()
        .find_map(|l| l.strip_prefix("Refer-To: "))
        .unwrap()
        .trim_matches(|c| c == '<' || c == '>')
        .to_string();
    assert_eq!(refer_to, room);
    let mut carol = dial(proxy, "carol", &refer_to, "");
    notify_sipfrag(&desk, proxy, port, &invite, "SIP/2.0 200 OK");
    let notify = line2.expect_request("NOTIFY", HANG_GUARD).unwrap();
    assert!(notify.body().starts_with("SIP/2.0 200"), "{}", notify.text);
    let marks = talk(&mut [(&mut alice, 500.0), (&mut carol, 2500.0)], 1500);
    assert_hears(&alice, "alice", marks[0], &[2500.0], &[500.0]);
    assert_hears(&carol, "carol", marks[1], &[500.0], &[2500.0]);
    assert_eq!(carol.sip.bye(), 200);

    // 5. A real SIP peer: SIPp dials the room through the proxy and plays 3 s of 3 kHz
    // (PCMU RTP from a pcap); alice and bob hear it.
    let sipp = testkit::sipp::Sipp::new(
        &server,
        "conference-pcap",
        "uac-invite-voicemail-pcap-expect-200.xml",
        testkit::ports::free_port(),
    )
    .remote(&server.addr())
    .key("service_uri", &room)
    .arg("-mp")
    .arg(&testkit::ports::free_port().to_string());
    audio::write_rtp_pcap(
        &sipp.workdir.join("tone.pcap"),
        &audio::tone(3000.0, 3000, 8000.0),
    );
    let marks: Vec<usize> = [&alice, &bob]
        .iter()
        .map(|p| p.rtp.as_ref().unwrap().heard().samples.len())
        .collect();
    sipp.run().assert_ok("SIPp in the conference");
    for (p, (name, mark)) in [&alice, &bob]
        .iter()
        .zip([("alice", marks[0]), ("bob", marks[1])])
    {
        let heard = p.rtp.as_ref().unwrap().heard().samples;
        let secs = audio::tone_seconds(&heard[mark..], 3000.0);
        assert!(secs >= 2.5, "{name} heard {secs} s of SIPp's 3 kHz");
    }

    let log = server.log_text();
    assert!(log.contains("conference participant joined"), "{log}");
    assert!(log.contains("conference participant left"), "{log}");
    for p in [&mut alice, &mut bob, &mut dave] {
        assert_eq!(p.sip.bye(), 200);
    }
    wait_until("the room closed", HANG_GUARD, || {
        rooms(&server).as_array().unwrap().is_empty()
    });

    // 6. A room with a PIN: the wrong PIN is refused (log line), the right one lets in.
    let secret = format!("sip:conf-secret@{DOMAIN}");
    let mut hana = dial(proxy, "alice", &secret, "");
    let hana_rtp = hana.rtp.as_mut().unwrap();
    for d in ['9', '9', '#'] {
        hana_rtp.send_digit(hana.media, d, 101);
    }
    wait_until("the wrong PIN logged", HANG_GUARD, || {
        server.log_text().contains("conference: wrong PIN")
    });
    assert_eq!(
        rooms(&server)[0]["participants"][0]["in_room"],
        false,
        "still at the PIN prompt"
    );
    for d in ['4', '3', '2', '1', '#'] {
        hana_rtp.send_digit(hana.media, d, 101);
    }
    wait_until("hana in the room", HANG_GUARD, || {
        rooms(&server)[0]["participants"][0]["in_room"] == true
    });
    assert_eq!(hana.sip.bye(), 200);
}

/// The next INVITE at carol's desk phone (a raw socket), answered 486.
fn wait_for_invite(desk: &RawUdp, proxy: SocketAddr) -> String {
    let mut invite = None;
    wait_until("the INVITE at carol's desk phone", HANG_GUARD, || {
        invite = desk
            .recv(Duration::from_millis(200))
            .filter(|m| m.starts_with("INVITE "));
        invite.is_some()
    });
    let invite = invite.unwrap();
    let mut busy = String::from("SIP/2.0 486 Busy Here\r\n");
    let head = invite.split("\r\n\r\n").next().unwrap_or("");
    for line in head.lines().skip(1) {
        let name = line.split(':').next().unwrap_or("").trim();
        if ["Via", "From", "Call-ID", "CSeq"]
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name))
        {
            busy.push_str(line);
            busy.push_str("\r\n");
        }
        if name.eq_ignore_ascii_case("To") {
            busy.push_str(&format!("{line};tag=desk\r\n"));
        }
    }
    busy.push_str("Content-Length: 0\r\n\r\n");
    desk.send(proxy, busy.as_bytes());
    invite
}

/// Copies the headers a response repeats from a request (To with `to_tag` when given).
fn response_to(request: &str, status: &str, to_tag: Option<&str>) -> String {
    let mut r = format!("SIP/2.0 {status}\r\n");
    let head = request.split("\r\n\r\n").next().unwrap_or("");
    for line in head.lines().skip(1) {
        let name = line.split(':').next().unwrap_or("").trim();
        if ["Via", "From", "Call-ID", "CSeq", "Record-Route"]
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name))
        {
            r.push_str(line);
            r.push_str("\r\n");
        }
        if name.eq_ignore_ascii_case("To") {
            match to_tag {
                Some(t) if !line.contains(";tag=") => r.push_str(&format!("{line};tag={t}\r\n")),
                _ => r.push_str(&format!("{line}\r\n")),
            }
        }
    }
    r
}

fn header<'a>(msg: &'a str, name: &str) -> &'a str {
    msg.split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
        .unwrap_or_else(|| panic!("no {name} in {msg}"))
}

/// Carol's desk phone answers the next INVITE 200 with an SDP answer; returns the INVITE.
fn answer_invite(desk: &RawUdp, proxy: SocketAddr, port: u16) -> String {
    let invite = next_request(desk, "INVITE");
    let sdp = SipPhone::pcmu_offer(SocketAddr::from(([127, 0, 0, 1], port + 2)));
    let mut ok = response_to(&invite, "200 OK", Some("desk"));
    ok.push_str(&format!(
        "Contact: <sip:carol@127.0.0.1:{port}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    ));
    desk.send(proxy, ok.as_bytes());
    invite
}

/// Answers the next `method` request at the desk phone with `status`; returns it.
fn answer_request(desk: &RawUdp, proxy: SocketAddr, method: &str, status: u16) -> String {
    let req = next_request(desk, method);
    let mut r = response_to(&req, &format!("{status} Accepted"), None);
    r.push_str("Content-Length: 0\r\n\r\n");
    desk.send(proxy, r.as_bytes());
    req
}

/// The desk phone's NOTIFY (RFC 3515) in the dialog the INVITE made, through the proxy.
fn notify_sipfrag(desk: &RawUdp, proxy: SocketAddr, port: u16, invite: &str, frag: &str) {
    let contact = header(invite, "Contact");
    let target = contact
        .split('<')
        .nth(1)
        .and_then(|c| c.split('>').next())
        .unwrap_or(contact);
    let routes: String = invite
        .split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .lines()
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("Record-Route")
                .then(|| format!("Route: {}\r\n", v.trim()))
        })
        .collect();
    let body = format!("{frag}\r\n");
    let msg = format!(
        "NOTIFY {target} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-desk-notify\r\n\
         Max-Forwards: 70\r\n{routes}From: {};tag=desk\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: 1 NOTIFY\r\n\
         Contact: <sip:carol@127.0.0.1:{port}>\r\nEvent: refer\r\n\
         Subscription-State: terminated;reason=noresource\r\nContent-Type: message/sipfrag\r\n\
         Content-Length: {}\r\n\r\n{body}",
        header(invite, "To"),
        header(invite, "From"),
        header(invite, "Call-ID"),
        body.len()
    );
    desk.send(proxy, msg.as_bytes());
}

/// The next request `method` at the desk phone (others, e.g. the ACK, skipped).
fn next_request(desk: &RawUdp, method: &str) -> String {
    let mut got = None;
    wait_until(
        &format!("a {method} at carol's desk phone"),
        HANG_GUARD,
        || {
            got = desk
                .recv(Duration::from_millis(200))
                .filter(|m| m.starts_with(&format!("{method} ")));
            got.is_some()
        },
    );
    got.unwrap()
}
