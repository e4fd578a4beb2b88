//! The park server's dialog state (RFC 5359 §2.15 retrieval): a SUBSCRIBE with `Event:
//! dialog` to `sip:park@DOMAIN` is answered (by the agent, as a fetch) and NOTIFYed
//! once with an RFC 4235 `dialog-info` document listing the calls parked in the domain
//! (one `<dialog>` each: its orbit as id, Call-ID, the host's tag as local tag, the
//! parked party's as remote tag, the party's identity); an INVITE to the park server
//! with `Replaces` naming one of those dialogs retrieves that orbit.
//!
//! Not here: state-change NOTIFYs (each SUBSCRIBE is a fetch: subscribe again to learn
//! more), other event packages (their NOTIFY is empty and ends the subscription).

use sip_dialog::CallHandle;

use super::HostLoop;
use crate::request_uri::ServiceRequest;

impl HostLoop {
    /// A SUBSCRIBE (answered 200, a fetch): one NOTIFY with the state asked for.
    pub(super) fn on_subscribe(
        &mut self,
        call: CallHandle,
        event: &str,
        request_uri: &str,
        source: std::net::SocketAddr,
    ) {
        let now = self.start.elapsed();
        let domain = match ServiceRequest::parse(request_uri) {
            Ok(ServiceRequest::Park { domain, .. }) if self.trusted(source) => Some(domain),
            _ => None,
        };
        let (Some(domain), "dialog") = (domain, event) else {
            tracing::info!(call = call.get(), event, uri = request_uri, %source,
                "SUBSCRIBE to the service host for no state it serves: empty NOTIFY");
            self.ua.notify(call, now, event, "text/plain", b"", true);
            return;
        };
        let entity = format!("sip:park@{domain}");
        let mut xml = format!(
            "<?xml version=\"1.0\"?>\r\n<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" \
             version=\"0\" state=\"full\" entity=\"{}\">\r\n",
            escape(&entity)
        );
        let parked = self.ctx.park.parked(&domain);
        for p in &parked {
            xml.push_str(&format!(
                "  <dialog id=\"{}\" call-id=\"{}\" local-tag=\"{}\" remote-tag=\"{}\">\r\n    \
                 <state>confirmed</state>\r\n    <local><identity>{}</identity>\
                 <target uri=\"{};orbit={}\"/></local>\r\n    \
                 <remote><identity>{}</identity></remote>\r\n  </dialog>\r\n",
                p.orbit,
                escape(&p.dialog.call_id),
                escape(&p.dialog.local_tag),
                escape(&p.dialog.remote_tag),
                escape(&entity),
                escape(&entity),
                p.orbit,
                escape(&p.party),
            ));
        }
        xml.push_str("</dialog-info>\r\n");
        tracing::info!(call = call.get(), %domain, parked = parked.len(), "park server dialog state sent");
        self.ua.notify(
            call,
            now,
            "dialog",
            "application/dialog-info+xml",
            xml.as_bytes(),
            true,
        );
    }

    /// An INVITE to the park server with `Replaces`: the retrieval of the orbit whose
    /// parked dialog it names (`Err`: names none, 481). Any other request is unchanged.
    pub(super) fn replaced_orbit(
        &self,
        call: CallHandle,
        request: ServiceRequest,
    ) -> Result<ServiceRequest, String> {
        let ServiceRequest::Park {
            domain,
            orbit: None,
        } = &request
        else {
            return Ok(request);
        };
        let Some(replaces) = self
            .ua
            .invite(call)
            .and_then(|i| i.header_by_name("Replaces"))
        else {
            return Ok(request);
        };
        let mut parts = replaces.split(';').map(str::trim);
        let call_id = parts.next().unwrap_or("");
        let (mut to_tag, mut from_tag) = ("", "");
        for p in parts {
            if let Some(v) = p.strip_prefix("to-tag=") {
                to_tag = v;
            } else if let Some(v) = p.strip_prefix("from-tag=") {
                from_tag = v;
            }
        }
        match self
            .ctx
            .park
            .orbit_of_dialog(domain, call_id, to_tag, from_tag)
        {
            Some(orbit) => Ok(ServiceRequest::Park {
                domain: domain.clone(),
                orbit: Some(orbit),
            }),
            None => Err(format!("Replaces names no parked call: {replaces}")),
        }
    }
}

/// XML text escaping for attribute values and text.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
