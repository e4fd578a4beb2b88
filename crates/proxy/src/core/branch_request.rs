//! The request of one branch of a fork (RFC 3261 §16.6), built from the received request
//! and a target: what the proxy changes in it and where it adds itself (Via, Record-Route).
//! The caller-facing Record-Route carries the flow token when the request came over an
//! outbound flow (RFC 5626 §5.3, `flow_route.rs`).
//! Not here: choosing targets, sending, or what the branches answer (`forking.rs`).

use sip_message::digits::push_decimal;
use sip_message::{Editor, HeaderName, Method};

use crate::destination::Transport;
use crate::fork::{Fork, Target};

/// The request of one branch (RFC 3261 §16.6): new Request-URI, our Route entries removed,
/// the target's Path as Route, Max-Forwards minus one, the received Via fixed, our Via on
/// top, and Record-Route on dialog-creating requests (twice across transports or across
/// interfaces). `host` is our address as the target reaches it.
pub(super) fn build_branch(
    cfg: &crate::config::ProxyConfig,
    fork: &Fork,
    t: &Target,
    branch: &str,
    host: &str,
) -> Vec<u8> {
    let req = &fork.request;
    let mut ed = Editor::new(req);
    if let Some(uri) = t.request_uri.as_deref().or(fork.new_request_uri.as_deref()) {
        ed.set_request_uri(uri);
    }
    for &r in &fork.remove_routes {
        ed.remove(r);
    }
    for r in t.routes.iter().rev() {
        ed.push_front(HeaderName::Route, r.as_str());
    }
    ed.set_max_forwards(req.max_forwards().map_or(70, |m| m.saturating_sub(1)));
    if let Some(v) = &fork.fixed_top_via {
        ed.replace_value(req.top_via_index(), v.as_str());
    }
    // Written without the formatter: this runs for every branch of every request.
    let mut via = String::with_capacity(96);
    via.push_str("SIP/2.0/");
    via.push_str(t.dest.transport.as_str());
    via.push(' ');
    via.push_str(host);
    via.push(':');
    push_decimal(&mut via, cfg.port_for(t.dest.transport));
    via.push_str(";branch=");
    via.push_str(branch);
    ed.insert_before(req.top_via_index(), "Via", via.as_str());
    let creates_dialog = matches!(
        req.method(),
        Method::Invite | Method::Subscribe | Method::Refer
    );
    if cfg.record_route && creates_dialog && req.to_tag().is_none() {
        // Double record-routing when the two sides use different transports or reach
        // different addresses of ours (RFC 5658): the callee-facing entry on top, the
        // caller-facing one below.
        let callee_side = (t.dest.transport, host);
        let caller_side = (fork.inbound, &*fork.inbound_host);
        let both = [callee_side, caller_side];
        let sides: &[(Transport, &str)] = if callee_side == caller_side {
            &both[..1]
        } else {
            &both[..]
        };
        // On top of an existing Record-Route list, else after the Via block.
        let fields = req.fields();
        let at = fields
            .iter()
            .position(|f| f.name == HeaderName::RecordRoute)
            .or_else(|| fields.iter().position(|f| f.name != HeaderName::Via))
            .unwrap_or(fields.len());
        let caller_entry = sides.len() - 1;
        for (i, (side, side_host)) in sides.iter().enumerate() {
            let transport = side.uri_param();
            // RFC 5626 §5.3: the entry facing a caller on an outbound flow names the flow.
            let (token, at_sign, ob) = match fork.flow_token.as_deref() {
                Some(token) if i == caller_entry => (token, "@", ";ob"),
                _ => ("", "", ""),
            };
            let mut value = String::with_capacity(64);
            for part in ["<sip:", token, at_sign, side_host, ":"] {
                value.push_str(part);
            }
            push_decimal(&mut value, cfg.port_for(*side));
            for part in [transport, ";lr", ob, ">"] {
                value.push_str(part);
            }
            if at < fields.len() {
                ed.insert_before(at, "Record-Route", value.as_str());
            } else {
                ed.append_header("Record-Route", value.as_str());
            }
        }
    }
    if let Some(direct) = fork.direct.as_deref().filter(|d| d.applies_to(&t.dest)) {
        // A partly bridged call: this target speaks the caller's profile (`relay.rs`).
        ed.set_body(Some("application/sdp"), direct.sdp.as_bytes());
    }
    ed.to_vec()
}
