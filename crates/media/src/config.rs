//! The engine's settings (`[media]` in the server's configuration file).

use std::net::IpAddr;
use std::time::Duration;

/// Settings of a [`crate::MediaEngine`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaConfig {
    /// The address RTP sockets bind to.
    pub bind_address: IpAddr,
    /// The address written in our SDP (`c=`); default: `bind_address`, or the address
    /// the SIP peer reached when that is a wildcard (the service decides).
    pub advertised_address: Option<IpAddr>,
    /// First RTP port (even ports only are used; RTCP would be the odd one above).
    pub first_port: u16,
    /// Last RTP port.
    pub last_port: u16,
    /// No RTP for this long ends the call (`rtp_timeout_secs`, default 60).
    pub rtp_timeout: Duration,
    /// Packet time: the clock's period (20 ms).
    pub ptime: Duration,
    /// The clock thread's nice value (`clock_nice`, default -10; 0 leaves it alone): on a
    /// busy machine a higher priority is what keeps 20 ms pacing on time. Needs
    /// `CAP_SYS_NICE`; without it the thread runs at the process's priority (logged).
    pub clock_nice: i32,
    /// `SCHED_FIFO` priority of the clock thread (`clock_realtime_priority`, 1-99; default
    /// 0: off, `clock_nice` applies). Real-time scheduling keeps the clock on time on a
    /// machine whose cores are all busy; needs `CAP_SYS_NICE` or `RLIMIT_RTPRIO`, else
    /// `clock_nice` applies (logged). The kernel's RT throttling (95 % of a core by
    /// default) bounds what a stuck clock could take.
    pub clock_realtime_priority: u8,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            bind_address: IpAddr::from([0, 0, 0, 0]),
            advertised_address: None,
            first_port: 20000,
            last_port: 20999,
            rtp_timeout: Duration::from_secs(60),
            ptime: Duration::from_millis(20),
            clock_nice: -10,
            clock_realtime_priority: 0,
        }
    }
}

impl MediaConfig {
    /// How many sessions the port range holds (one even port each).
    pub fn capacity(&self) -> usize {
        let first = self.first_port + self.first_port % 2;
        if first > self.last_port {
            return 0;
        }
        usize::from((self.last_port - first) / 2) + 1
    }
}
