//! Media direction attributes (RFC 3264 §5.1, §6.1): `sendrecv`, `sendonly`, `recvonly`,
//! `inactive`, and the answer each one gets.

/// Which way media flows, from the point of view of the description's author.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// `a=sendrecv` (the default when no direction is given).
    #[default]
    SendRecv,
    /// `a=sendonly`: the author sends, does not want to receive (puts the peer on hold).
    SendOnly,
    /// `a=recvonly`: the author receives only.
    RecvOnly,
    /// `a=inactive`: no media either way.
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// Parses an attribute name.
    pub fn from_name(name: &str) -> Option<Direction> {
        match name {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }

    /// The direction an answerer willing to do `local` answers to this offered direction
    /// (RFC 3264 §6.1): sendonly is answered recvonly, recvonly sendonly, inactive inactive.
    pub fn answer(self, local: Direction) -> Direction {
        let offered = self;
        let we_send = offered.receives() && local.sends();
        let we_receive = offered.sends() && local.receives();
        Direction::from_flags(we_send, we_receive)
    }

    /// Whether the author sends media.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether the author receives media.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The direction with these send and receive flags.
    pub fn from_flags(sends: bool, receives: bool) -> Direction {
        match (sends, receives) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Direction::*;
    use super::*;

    #[test]
    fn answers_follow_rfc3264_section_6_1() {
        assert_eq!(SendRecv.answer(SendRecv), SendRecv);
        assert_eq!(SendOnly.answer(SendRecv), RecvOnly);
        assert_eq!(RecvOnly.answer(SendRecv), SendOnly);
        assert_eq!(Inactive.answer(SendRecv), Inactive);
        // An answerer that only plays (an announcement) answers sendrecv with sendonly.
        assert_eq!(SendRecv.answer(SendOnly), SendOnly);
        assert_eq!(SendOnly.answer(SendOnly), Inactive);
    }

    #[test]
    fn names_round_trip() {
        for d in [SendRecv, SendOnly, RecvOnly, Inactive] {
            assert_eq!(Direction::from_name(d.as_str()), Some(d));
        }
        assert_eq!(Direction::from_name("sendrecv "), None);
    }
}
