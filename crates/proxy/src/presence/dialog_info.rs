//! The `application/dialog-info+xml` document (RFC 4235 §4): one user's dialogs as one
//! watcher is told them, full state or only what changed (partial), with the version
//! number of that watcher's subscription. Text and attributes are escaped by quick-xml.
//!
//! Only the elements phones use are written: per dialog its id, Call-ID and tags (what a
//! pickup's Replaces or a retrieval needs), direction, state (with the RFC's `event` when
//! terminated) and the local and remote identities.

use std::fmt::Write as _;

use quick_xml::escape::escape;

/// The NOTIFY body's content type.
pub const CONTENT_TYPE: &str = "application/dialog-info+xml";

/// The state of a dialog (RFC 4235 §3.7.1), as the proxy sees the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DialogState {
    /// The INVITE went out; no provisional answer with a tag yet.
    Trying,
    /// A phone rings (a provisional answer with a To tag).
    Early,
    /// Answered.
    Confirmed,
    /// Over (`event` says how).
    Terminated(TerminatedBy),
}

/// How a dialog ended (RFC 4235 §4.1.6.2 `event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TerminatedBy {
    /// The caller cancelled before an answer.
    Cancelled,
    /// The callee refused (or nobody answered).
    Rejected,
    /// Another phone picked the call up (RFC 3891 Replaces).
    Replaced,
    /// This side hung up.
    LocalBye,
    /// The other side hung up.
    RemoteBye,
    /// The call was forgotten (no BYE seen).
    Timeout,
}

impl TerminatedBy {
    fn as_str(self) -> &'static str {
        match self {
            TerminatedBy::Cancelled => "cancelled",
            TerminatedBy::Rejected => "rejected",
            TerminatedBy::Replaced => "replaced",
            TerminatedBy::LocalBye => "local-bye",
            TerminatedBy::RemoteBye => "remote-bye",
            TerminatedBy::Timeout => "timeout",
        }
    }
}

impl DialogState {
    fn as_str(self) -> &'static str {
        match self {
            DialogState::Trying => "trying",
            DialogState::Early => "early",
            DialogState::Confirmed => "confirmed",
            DialogState::Terminated(_) => "terminated",
        }
    }
}

/// Which side of the call the watched user is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// The user placed the call.
    Initiator,
    /// The user is called.
    Recipient,
}

/// One dialog as seen from the watched user's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DialogView<'a> {
    /// Unique among the user's dialogs (the call attempt).
    pub id: u64,
    /// The Call-ID.
    pub call_id: &'a str,
    /// The watched user's tag (None: not known yet).
    pub local_tag: Option<&'a str>,
    /// The other party's tag.
    pub remote_tag: Option<&'a str>,
    /// Placed or received.
    pub direction: Direction,
    /// Where the call is.
    pub state: DialogState,
    /// The watched user's URI.
    pub local_identity: &'a str,
    /// The other party's URI.
    pub remote_identity: &'a str,
}

/// The document for `entity` (`sip:bob@example.com`): version `version`, full state or
/// partial, with these dialogs.
pub(crate) fn body(entity: &str, version: u32, full: bool, dialogs: &[DialogView<'_>]) -> String {
    let mut out = String::with_capacity(200 + 400 * dialogs.len());
    let state = if full { "full" } else { "partial" };
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
         <dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"{version}\" \
         state=\"{state}\" entity=\"{}\">\r\n",
        escape(entity)
    );
    for d in dialogs {
        let _ = write!(
            out,
            "  <dialog id=\"{:x}\" call-id=\"{}\"",
            d.id,
            escape(d.call_id)
        );
        if let Some(t) = d.local_tag {
            let _ = write!(out, " local-tag=\"{}\"", escape(t));
        }
        if let Some(t) = d.remote_tag {
            let _ = write!(out, " remote-tag=\"{}\"", escape(t));
        }
        let direction = match d.direction {
            Direction::Initiator => "initiator",
            Direction::Recipient => "recipient",
        };
        let _ = write!(out, " direction=\"{direction}\">\r\n");
        match d.state {
            DialogState::Terminated(by) => {
                let _ = write!(
                    out,
                    "    <state event=\"{}\">terminated</state>\r\n",
                    by.as_str()
                );
            }
            s => {
                let _ = write!(out, "    <state>{}</state>\r\n", s.as_str());
            }
        }
        let _ = write!(
            out,
            "    <local><identity>{}</identity></local>\r\n    \
             <remote><identity>{}</identity></remote>\r\n  </dialog>\r\n",
            escape(d.local_identity),
            escape(d.remote_identity)
        );
    }
    out.push_str("</dialog-info>\r\n");
    out
}

/// The dialog-info namespace.
pub const NS: &str = "urn:ietf:params:xml:ns:dialog-info";

/// Checks a published `application/dialog-info+xml` body (RFC 4235 §4): the reason phrase
/// of a 400 naming the first problem, if any.
pub(crate) fn check(body: &[u8]) -> Result<(), &'static str> {
    let root = super::xml::parse(body).map_err(|e| e.reason())?;
    if root.ns != NS || root.name != "dialog-info" {
        return Err("Not A Dialog-Info Document");
    }
    if root
        .attr("version")
        .and_then(|v| v.trim().parse::<u32>().ok())
        .is_none()
    {
        return Err("Dialog-Info Without A Numeric Version");
    }
    if !matches!(root.attr("state"), Some("full" | "partial")) {
        return Err("Dialog-Info State Not Full Or Partial");
    }
    if root.attr("entity").is_none_or(|e| e.trim().is_empty()) {
        return Err("Dialog-Info Without Entity");
    }
    for d in root.children(NS, "dialog") {
        if d.attr("id").is_none_or(|i| i.trim().is_empty()) {
            return Err("Dialog Without Id");
        }
        let state = d.child(NS, "state").ok_or("Dialog Without State")?;
        if !matches!(
            state.text.trim(),
            "trying" | "proceeding" | "early" | "confirmed" | "terminated"
        ) {
            return Err("Dialog State Unknown");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_dialog_info_is_checked() {
        let ours = body("sip:bob@example.com", 0, true, &[]);
        assert_eq!(check(ours.as_bytes()), Ok(()));
        let doc = |inner: &str| {
            format!("<dialog-info xmlns=\"{NS}\" version=\"1\" state=\"full\" entity=\"sip:b@x\">{inner}</dialog-info>")
        };
        assert_eq!(
            check(doc("<dialog id=\"1\"><state>early</state></dialog>").as_bytes()),
            Ok(())
        );
        assert_eq!(check(b"<dialog-info"), Err("Malformed XML"));
        assert_eq!(
            check(b"<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"/>"),
            Err("Not A Dialog-Info Document")
        );
        assert_eq!(
            check(doc("<dialog><state>early</state></dialog>").as_bytes()),
            Err("Dialog Without Id")
        );
        assert_eq!(
            check(doc("<dialog id=\"1\"/>").as_bytes()),
            Err("Dialog Without State")
        );
        assert_eq!(
            check(doc("<dialog id=\"1\"><state>ringing</state></dialog>").as_bytes()),
            Err("Dialog State Unknown")
        );
        let no_version = format!("<dialog-info xmlns=\"{NS}\" state=\"full\" entity=\"sip:b@x\"/>");
        assert_eq!(
            check(no_version.as_bytes()),
            Err("Dialog-Info Without A Numeric Version")
        );
    }

    #[test]
    fn full_and_partial_documents_carry_ids_tags_and_states() {
        let idle = body("sip:bob@example.com", 0, true, &[]);
        assert!(idle.contains("version=\"0\" state=\"full\" entity=\"sip:bob@example.com\""));
        assert!(!idle.contains("<dialog "));
        let ringing = DialogView {
            id: 0x1f,
            call_id: "c1@host",
            local_tag: Some("bt"),
            remote_tag: Some("a<t"),
            direction: Direction::Recipient,
            state: DialogState::Early,
            local_identity: "sip:bob@example.com",
            remote_identity: "sip:alice@example.com",
        };
        let b = body(
            "sip:bob@example.com",
            3,
            false,
            std::slice::from_ref(&ringing),
        );
        assert!(b.contains("state=\"partial\""), "{b}");
        assert!(b.contains(
            "<dialog id=\"1f\" call-id=\"c1@host\" local-tag=\"bt\" remote-tag=\"a&lt;t\" direction=\"recipient\">"
        ), "{b}");
        assert!(b.contains("<state>early</state>"), "{b}");
        assert!(b.contains("<remote><identity>sip:alice@example.com</identity></remote>"));
        let over = DialogView {
            state: DialogState::Terminated(TerminatedBy::RemoteBye),
            local_tag: None,
            ..ringing
        };
        let b = body("sip:bob@example.com", 4, false, &[over]);
        assert!(
            b.contains("<state event=\"remote-bye\">terminated</state>"),
            "{b}"
        );
        assert!(!b.contains("local-tag"), "{b}");
    }
}
