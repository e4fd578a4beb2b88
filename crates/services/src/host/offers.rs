//! SDP after the INVITE: a re-INVITE's or UPDATE's offer (hold, resume, a new address)
//! answered and applied to the call's RTP session, and a delayed offer's answer taken
//! from the ACK.

use media::StreamParams;
use sdp::{negotiate, SessionDescription};
use sip_dialog::CallHandle;

use super::HostLoop;

impl HostLoop {
    /// The ACK of a delayed-offer call: its answer starts the media; none (or one that
    /// does not fit our offer) ends the call.
    pub(super) fn delayed_answer(&mut self, call: CallHandle, sdp: Option<&[u8]>) {
        let Some(ours) = self.delayed.remove(&call) else {
            return;
        };
        let stream = sdp
            .and_then(|b| SessionDescription::parse_bytes(b).ok())
            .and_then(|answer| sdp::accept_answer(&ours, &answer).ok());
        match (stream, self.calls.get(&call)) {
            (Some(stream), Some(entry)) => {
                entry.media.start(StreamParams::from_negotiated(&stream));
            }
            _ => {
                tracing::warn!(
                    call = call.get(),
                    "delayed offer: the ACK carried no usable SDP answer: hanging up"
                );
                self.ua.hangup(call, self.start.elapsed());
            }
        }
    }

    /// Answers a re-INVITE or UPDATE offer and applies it to the RTP session.
    pub(super) fn reoffer(&mut self, call: CallHandle, sdp: &[u8]) -> Result<Vec<u8>, u16> {
        let entry = self.calls.get_mut(&call).ok_or(481u16)?;
        let offer = SessionDescription::parse_bytes(sdp).map_err(|_| 400u16)?;
        entry.caps.session_version += 1;
        let n = negotiate(&offer, &entry.caps).map_err(|e| e.status())?;
        entry.media.start(StreamParams::from_negotiated(&n.stream));
        Ok(n.answer.to_bytes())
    }
}
