//! RFC 5626 §5.3 at the edge: flow tokens in Record-Route. A dialog-creating request that
//! came over an outbound flow (the connection of a registered flow, or a Contact with
//! `;ob`) is record-routed with a flow token in the caller-facing Record-Route URI
//! (`branch_request.rs` writes it); an in-dialog request whose Route (ours) carries that
//! token and that did not come over the flow itself is forwarded over the flow, whatever
//! its Request-URI says. When the flow's connection is gone the branch answers
//! `430 Flow Failed` (`outbound.rs`); a token that fails the HMAC check gets 403.
//!
//! Not here: the token's encoding (`crate::flow_token`); tokens in a Path (the server is
//! the registrar itself, never an edge in front of another one); the STUN keep-alives of
//! flows over UDP (the `transport` crate answers them).

use sip_message::{HeaderName, Method, NameAddr};

use super::stage::{Flow, RequestCtx, Targets};
use super::Proxy;
use crate::answer::Answer;
use crate::destination::Destination;
use crate::flow_token::TokenError;
use crate::fork::Target;

impl Proxy {
    /// The flow a dialog-creating request came over, when its Record-Route should carry
    /// a token: a registered flow of the From user (its connection, or its UDP address),
    /// or any source when the Contact has `;ob` (RFC 5626 §4.2: the phone does outbound).
    pub(super) fn came_over_flow(&self, cx: &RequestCtx) -> Option<Destination> {
        let req = &cx.req;
        let creates_dialog = matches!(
            req.method(),
            Method::Invite | Method::Subscribe | Method::Refer
        );
        if !self.cfg.record_route || !creates_dialog || req.to_tag().is_some() {
            return None;
        }
        let ob = req
            .header(HeaderName::Contact)
            .and_then(|c| NameAddr::parse(c).ok())
            .is_some_and(|na| na.uri.param("ob").is_some());
        if ob {
            return Some(cx.source);
        }
        let from = req.from()?;
        let domain = self.local_domain_of(&from.uri, Some(req))?;
        let aor = model::AddressOfRecord::new(from.uri.user.unwrap_or(""), &domain);
        let bindings = self.registrar.location().lookup(&aor, cx.wall);
        // Most callers have no outbound flow: the source text is built only for those that do.
        if bindings.iter().all(|b| b.flow.is_none()) {
            return None;
        }
        let source = cx.source.to_source_string();
        bindings
            .iter()
            .any(|b| b.flow.is_some() && b.source == source)
            .then_some(cx.source)
    }

    /// An in-dialog request whose Route of ours carries a flow token: Some(403) for a
    /// forged token, Some(forward over the flow) when the request came from elsewhere,
    /// None when it has no token or came over the flow itself (routed as usual).
    pub(super) fn follow_flow_token(&self, cx: &mut RequestCtx) -> Option<Flow> {
        // Out of a dialog a token proves nothing: the request is routed as usual.
        cx.req.to_tag()?;
        let flow = cx.routes.remove.iter().find_map(|&i| {
            let route = NameAddr::parse(cx.req.value(i)).ok()?;
            match self.flow_tokens.decode(route.uri.user?) {
                Err(TokenError::NotAToken) => None,
                decoded => Some((decoded, route.uri.raw.to_string())),
            }
        });
        let (flow, route) = flow?;
        let flow = match flow {
            Ok(flow) => flow,
            Err(_) => {
                tracing::warn!(
                    %route,
                    source = %cx.source,
                    method = %cx.req.method(),
                    "flow token fails its check (forged, altered or from before a restart): refused (403)"
                );
                return Some(Answer::new(403, "Invalid Flow Token").into());
            }
        };
        let same = flow.transport == cx.source.transport && flow.addr == cx.source.addr;
        if same {
            return None;
        }
        tracing::debug!(
            %route,
            flow = %flow,
            method = %cx.req.method(),
            "in-dialog request forwarded over the flow its token names"
        );
        cx.routes.to_flow = true;
        Some(Flow::Forward(Targets::one(Target {
            request_uri: cx.routes.new_request_uri.clone(),
            dest: flow,
            routes: vec![],
            q: 1000,
        })))
    }
}
