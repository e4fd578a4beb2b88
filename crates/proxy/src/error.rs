//! [`CallError`]: why the proxy itself ends a call it was routing, each reason with its
//! SIP answer, whose fault it is, and whether another route (a failover: the next gateway,
//! another node) could succeed where this one failed. Modelled on pingora-error's
//! "source and retry" fields; gateway failover (issue 14) is the first user of
//! [`CallError::may_retry`].
//!
//! Not here: refusals of a request's form (`sanity.rs`), authentication (`auth.rs`), or
//! answers relayed from a branch (the fork manager).

use crate::answer::Answer;
use crate::route::HopError;

/// Whose fault a failure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The caller asked for something that cannot be (a name nobody has, a looping call).
    Caller,
    /// The callee side: nobody to ring, or a target this server cannot reach.
    Callee,
    /// The operator's settings (a forwarding target that does not parse, chains too long).
    Settings,
    /// This server or its store (overload, a failed lookup).
    Server,
}

/// Why the proxy ends a call it was routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallError {
    /// The callee is no user and no alias (404).
    NotFound,
    /// The callee has no phone registered and nowhere to forward to (480).
    Unavailable,
    /// The call reached a user it had already reached (482).
    ForwardingLoop,
    /// More retargets than `[services] max_forward_chain` (483).
    TooManyForwardingHops,
    /// Retargeting used up Max-Forwards (483).
    TooManyHops,
    /// A forwarding or find-me target that is no SIP URI nor user (500).
    BadForwardingTarget,
    /// The next hop cannot be reached: scheme or transport (416), a host name without a
    /// resolver (503), DNS found no SIP server (404) or failed (503).
    Hop(HopError),
    /// The shared store did not answer a location lookup (500).
    LookupFailed,
    /// A call asked for more lookups than one call may (500).
    TooManyLookups,
    /// The table of calls (or of calls waiting for a lookup) is full (503, Retry-After).
    Overloaded,
    /// A message this server built did not parse back (500; a bug).
    Internal,
    /// Voicemail asked for a user whose mailbox is off (480 No Mailbox).
    NoMailbox,
    /// Voicemail asked for while no service host runs (480).
    VoicemailUnavailable,
    /// A browser (WebRTC) and a plain RTP phone would be in one call, and the media relay
    /// cannot bridge them: the embedded relay has no DTLS-SRTP or ICE (488).
    NoWebRtcBridge,
}

impl CallError {
    /// The answer to the caller.
    pub fn answer(self) -> Answer {
        match self {
            CallError::NotFound => Answer::new(404, "Not Found"),
            CallError::Unavailable => Answer::new(480, "Temporarily Unavailable"),
            CallError::ForwardingLoop => Answer::new(482, "Loop Detected"),
            CallError::TooManyForwardingHops => Answer::new(483, "Too Many Forwarding Hops"),
            CallError::TooManyHops => Answer::new(483, "Too Many Hops"),
            CallError::BadForwardingTarget => Answer::new(500, "Bad Forwarding Target"),
            CallError::Hop(e) => e.answer(),
            CallError::LookupFailed => Answer::new(500, "Location Lookup Failed"),
            CallError::TooManyLookups => Answer::new(500, "Too Many Lookups"),
            CallError::Overloaded => Answer::retry_after(503, "Too Many Calls", 5),
            CallError::Internal => Answer::new(500, "Server Internal Error"),
            CallError::NoMailbox => Answer::new(480, "No Mailbox"),
            CallError::VoicemailUnavailable => Answer::new(480, "Voicemail Not Available"),
            CallError::NoWebRtcBridge => {
                Answer::new(488, "WebRTC-RTP Bridge Needs Relay Backend rtpengine")
            }
        }
    }

    /// The answer, and a debug line saying whose fault it was and whether a failover
    /// could retry (the call's span names the call).
    pub fn answer_logged(self) -> Answer {
        tracing::debug!(
            error = ?self,
            fault = ?self.fault(),
            may_retry = self.may_retry(),
            "call ended by the proxy"
        );
        self.answer()
    }

    /// Whose fault it is.
    pub fn fault(self) -> Fault {
        match self {
            CallError::NotFound | CallError::ForwardingLoop | CallError::TooManyHops => {
                Fault::Caller
            }
            CallError::Unavailable | CallError::Hop(_) => Fault::Callee,
            CallError::TooManyForwardingHops
            | CallError::BadForwardingTarget
            | CallError::NoMailbox
            | CallError::NoWebRtcBridge => Fault::Settings,
            CallError::LookupFailed
            | CallError::TooManyLookups
            | CallError::Overloaded
            | CallError::VoicemailUnavailable
            | CallError::Internal => Fault::Server,
        }
    }

    /// Could another route for the same call succeed? True when the failure belongs to
    /// this route (its target, this server's state), false when it belongs to the call
    /// (who was called, how far it has travelled): a failover must not retry a 404 or a
    /// loop, and may retry an unreachable hop or a failed lookup.
    pub fn may_retry(self) -> bool {
        match self.fault() {
            Fault::Caller | Fault::Settings => false,
            Fault::Callee | Fault::Server => !matches!(self, CallError::Internal),
        }
    }
}

impl From<HopError> for CallError {
    fn from(e: HopError) -> CallError {
        CallError::Hop(e)
    }
}

impl From<CallError> for Answer {
    fn from(e: CallError) -> Answer {
        e.answer()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_knows_its_answer_and_whether_to_retry() {
        let cases = [
            (CallError::NotFound, 404, false),
            (CallError::Unavailable, 480, true),
            (CallError::ForwardingLoop, 482, false),
            (CallError::TooManyForwardingHops, 483, false),
            (CallError::TooManyHops, 483, false),
            (CallError::BadForwardingTarget, 500, false),
            (CallError::Hop(HopError::Unsupported), 416, true),
            (CallError::Hop(HopError::Unresolvable), 503, true),
            (CallError::Hop(HopError::NoSipServer), 404, true),
            (CallError::Hop(HopError::LookupFailed), 503, true),
            (CallError::LookupFailed, 500, true),
            (CallError::TooManyLookups, 500, true),
            (CallError::Overloaded, 503, true),
            (CallError::Internal, 500, false),
            (CallError::NoWebRtcBridge, 488, false),
        ];
        for (e, status, retry) in cases {
            assert_eq!(e.answer().status, status, "{e:?}");
            assert_eq!(e.may_retry(), retry, "{e:?}");
        }
        assert_eq!(
            CallError::Overloaded.answer().headers,
            [("Retry-After", "5".to_string())]
        );
    }
}
