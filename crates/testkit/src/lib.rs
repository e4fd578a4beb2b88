//! The one test harness of Switchboard, for every end-to-end and in-process test.
//!
//! Owns: launching a real `switchboard` on free ports with a config built from
//! [`server::Options`] ([`server`]), its command line ([`cli`]), SIPp phones ([`sipp`]) and the flows built of them
//! ([`open`], [`digest`], [`location`], [`forwarding`]), baresip softphones ([`softphone`]),
//! a second host in a network namespace ([`netns`]), home networks behind NAT ([`nat`]), raw UDP ([`udp`]), a hand-written SIP
//! phone ([`sip_phone`]), an RTP phone and audio checks (tone power by Goertzel, a prompt
//! found in received audio) ([`rtp_peer`], [`audio`]), bounded waits ([`wait`]), the portal
//! over plain HTTP ([`http`]) and in headless Chromium ([`browser`], feature `browser`), a
//! static page site for the browser phones ([`static_site`]), test certificates ([`certs`]), a real rtpengine ([`rtpengine`]),
//! throw-away databases ([`database`], feature `databases`) and the proxy on a virtual clock
//! ([`proxy_net`], feature `proxy-net`).
//!
//! Does not own: the tests themselves, the SIPp scenarios (`tests/sipp/` at the repository
//! root), or the binary: `env!("CARGO_BIN_EXE_switchboard")` exists only inside the server
//! crate's tests, so they pass it to [`server::Server::start`].
//!
//! A harness fails a test by panicking, so `unwrap` is allowed here (a dev-dependency only).

#![allow(clippy::unwrap_used)]
#![warn(missing_docs)]

pub mod audio;
#[cfg(target_os = "linux")]
pub mod bench_phones;
#[cfg(feature = "browser")]
pub mod browser;
#[cfg(feature = "browser")]
pub mod browser_phone;
pub mod certs;
pub mod cli;
#[cfg(feature = "databases")]
pub mod database;
pub mod digest;
pub mod forwarding;
pub mod http;
pub mod location;
pub mod nat;
pub mod netns;
pub mod open;
pub mod ports;
#[cfg(feature = "proxy-net")]
pub mod proxy_net;
pub mod rtp_peer;
pub mod rtpengine;
pub mod server;
pub mod sip_phone;
pub mod sipp;
pub mod sipp_trace;
pub mod softphone;
pub mod static_site;
pub mod udp;
pub mod wait;
