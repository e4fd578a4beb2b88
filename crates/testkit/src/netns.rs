//! A second host on this machine: a network namespace joined to the root namespace by a
//! veth pair, `10.99.0.1` on our side and `10.99.0.2` inside. Traffic stays on this
//! machine. And [`LoopbackOnly`]: a namespace with loopback alone, for a whole test. Needs root (CAP_NET_ADMIN); without it the test says it did not run, unless
//! `SWITCHBOARD_REQUIRE_NETNS=1` (scripts/test.sh) makes that a failure.

use std::io::Write as _;
use std::process::Command;

/// Our address on the link.
pub const HOST_IP: &str = "10.99.0.1";
/// The other host's address.
pub const PEER_IP: &str = "10.99.0.2";

/// The namespace and its link; removed on drop.
pub struct OtherHost {
    /// The namespace's name (for `ip netns exec`).
    pub ns: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl OtherHost {
    /// Creates the namespace, or None (after saying so) where that is not possible and
    /// not required.
    pub fn create() -> Option<OtherHost> {
        let ns = format!("sbnet{}", std::process::id());
        let host_if = format!("sbh{}", std::process::id() % 100_000);
        let peer_if = format!("sbp{}", std::process::id() % 100_000);
        let _ = ip(&["netns", "del", &ns]);
        let host = OtherHost { ns: ns.clone() };
        let steps: Vec<Vec<&str>> = vec![
            vec!["netns", "add", &ns],
            vec![
                "link", "add", &host_if, "type", "veth", "peer", "name", &peer_if,
            ],
            vec!["link", "set", &peer_if, "netns", &ns],
            vec!["addr", "add", "10.99.0.1/24", "dev", &host_if],
            vec!["link", "set", &host_if, "up"],
            vec![
                "netns",
                "exec",
                &ns,
                "ip",
                "addr",
                "add",
                "10.99.0.2/24",
                "dev",
                &peer_if,
            ],
            vec!["netns", "exec", &ns, "ip", "link", "set", &peer_if, "up"],
            vec!["netns", "exec", &ns, "ip", "link", "set", "lo", "up"],
        ];
        for step in steps {
            if let Err(e) = ip(&step) {
                if std::env::var("SWITCHBOARD_REQUIRE_NETNS").as_deref() == Ok("1") {
                    panic!("cannot create the test's second host: {e}");
                }
                let _ = writeln!(
                    std::io::stderr(),
                    "not run: a network namespace is needed (run as root): {e}"
                );
                return None;
            }
        }
        Some(host)
    }
}

impl Drop for OtherHost {
    fn drop(&mut self) {
        // Deleting the namespace deletes the veth pair with it.
        let _ = ip(&["netns", "del", &self.ns]);
    }
}

/// A network namespace with nothing but loopback, entered by the calling thread: every
/// socket it opens and every process and thread it starts afterwards (the server,
/// Chromium, rtpengine, SIPp) live there, where no other address exists. For WebRTC
/// tests: Chromium gathers ICE candidates on every interface it sees, so outside such a
/// namespace its media would also use the machine's own non-loopback address.
pub struct LoopbackOnly {
    ns: String,
}

impl LoopbackOnly {
    /// Creates the namespace and moves this thread into it, or None (after saying so)
    /// where that is not possible (not root) and not required.
    pub fn enter() -> Option<LoopbackOnly> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let ns = format!(
            "sblo{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let made = ip(&["netns", "add", &ns])
            .and_then(|()| ip(&["netns", "exec", &ns, "ip", "link", "set", "lo", "up"]))
            .and_then(|()| {
                let file = std::fs::File::open(format!("/run/netns/{ns}"))
                    .map_err(|e| format!("opening /run/netns/{ns}: {e}"))?;
                rustix::thread::move_into_link_name_space(
                    std::os::fd::AsFd::as_fd(&file),
                    Some(rustix::thread::LinkNameSpaceType::Network),
                )
                .map_err(|e| format!("setns {ns}: {e}"))
            });
        match made {
            Ok(()) => Some(LoopbackOnly { ns }),
            Err(e) => {
                let _ = ip(&["netns", "del", &ns]);
                if std::env::var("SWITCHBOARD_REQUIRE_NETNS").as_deref() == Ok("1") {
                    panic!("cannot create the test's loopback-only namespace: {e}");
                }
                let _ = writeln!(
                    std::io::stderr(),
                    "not run: a network namespace is needed (run as root): {e}"
                );
                None
            }
        }
    }
}

impl Drop for LoopbackOnly {
    fn drop(&mut self) {
        // The name goes; the namespace itself lives on while this thread is in it.
        let _ = ip(&["netns", "del", &self.ns]);
    }
}
