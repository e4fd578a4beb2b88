//! Home networks behind NAT on this machine (issue 19): for each home, a router namespace
//! that masquerades (nftables) and a phone namespace on a private subnet behind it. Every
//! home uses the same private subnet, `192.168.1.0/24` (the phone is `192.168.1.2`), like
//! two real home routers: an address a phone writes in its SDP or Contact means nothing
//! outside its home.
//!
//! ```text
//!  root namespace (the server)          router namespace            phone namespace
//!  10.N.i.1/24  <--- veth --->  10.N.i.2/24 (wan)  masquerade  192.168.1.1 <-> 192.168.1.2
//! ```
//!
//! Traffic stays on this machine, in namespaces the test creates (removed on drop). Needs
//! root and `nft`; without them the test says it did not run, unless
//! `SWITCHBOARD_REQUIRE_NETNS=1` makes that a failure.

use std::io::Write as _;
use std::process::Command;

/// The phone's address inside every home.
pub const PHONE_IP: &str = "192.168.1.2";

/// One home: a router doing NAT and a phone namespace behind it.
pub struct Home {
    /// The phone's namespace (for `ip netns exec`).
    pub phone_ns: String,
    /// The router's namespace.
    pub router_ns: String,
    /// The server's address on this home's link (where the phone sends its SIP).
    pub server_ip: String,
    /// The router's public address: what the server sees as the phone's source.
    pub public_ip: String,
}

fn run(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Home {
    /// Creates home `index` (1, 2, ...), or None (after saying so) where that is not
    /// possible and not required.
    pub fn create(index: u8) -> Option<Home> {
        match Home::try_create(index) {
            Ok(h) => Some(h),
            Err(e) => {
                if std::env::var("SWITCHBOARD_REQUIRE_NETNS").as_deref() == Ok("1") {
                    panic!("cannot create the test's home network: {e}");
                }
                let _ = writeln!(
                    std::io::stderr(),
                    "not run: network namespaces and nft are needed (run as root): {e}"
                );
                None
            }
        }
    }

    fn try_create(index: u8) -> Result<Home, String> {
        let pid = std::process::id();
        let net = 200 + (pid % 50) as u8;
        let router_ns = format!("sbrt{index}x{pid}");
        let phone_ns = format!("sbph{index}x{pid}");
        let wan_root = format!("sbw{index}x{}", pid % 100_000);
        let wan_router = format!("sbv{index}x{}", pid % 100_000);
        let lan_router = format!("sbl{index}x{}", pid % 100_000);
        let lan_phone = format!("sbp{index}x{}", pid % 100_000);
        let server_ip = format!("10.{net}.{index}.1");
        let public_ip = format!("10.{net}.{index}.2");
        let _ = run(&["ip", "netns", "del", &router_ns]);
        let _ = run(&["ip", "netns", "del", &phone_ns]);
        let home = Home {
            phone_ns: phone_ns.clone(),
            router_ns: router_ns.clone(),
            server_ip: server_ip.clone(),
            public_ip: public_ip.clone(),
        };
        let r = |args: &[&str]| -> Vec<String> {
            ["ip", "netns", "exec", &router_ns]
                .iter()
                .chain(args)
                .map(|s| s.to_string())
                .collect()
        };
        let p = |args: &[&str]| -> Vec<String> {
            ["ip", "netns", "exec", &phone_ns]
                .iter()
                .chain(args)
                .map(|s| s.to_string())
                .collect()
        };
        let owned = |args: &[&str]| -> Vec<String> { args.iter().map(|s| s.to_string()).collect() };
        let steps: Vec<Vec<String>> = vec![
            owned(&["ip", "netns", "add", &router_ns]),
            owned(&["ip", "netns", "add", &phone_ns]),
            // The router's uplink to the "internet" (the root namespace, the server).
            owned(&[
                "ip",
                "link",
                "add",
                &wan_root,
                "type",
                "veth",
                "peer",
                "name",
                &wan_router,
            ]),
            owned(&["ip", "link", "set", &wan_router, "netns", &router_ns]),
            owned(&[
                "ip",
                "addr",
                "add",
                &format!("{server_ip}/24"),
                "dev",
                &wan_root,
            ]),
            owned(&["ip", "link", "set", &wan_root, "up"]),
            r(&[
                "ip",
                "addr",
                "add",
                &format!("{public_ip}/24"),
                "dev",
                &wan_router,
            ]),
            r(&["ip", "link", "set", &wan_router, "up"]),
            r(&["ip", "link", "set", "lo", "up"]),
            r(&["ip", "route", "add", "default", "via", &server_ip]),
            // The home LAN.
            r(&[
                "ip",
                "link",
                "add",
                &lan_router,
                "type",
                "veth",
                "peer",
                "name",
                &lan_phone,
            ]),
            r(&["ip", "link", "set", &lan_phone, "netns", &phone_ns]),
            r(&["ip", "addr", "add", "192.168.1.1/24", "dev", &lan_router]),
            r(&["ip", "link", "set", &lan_router, "up"]),
            p(&[
                "ip",
                "addr",
                "add",
                &format!("{PHONE_IP}/24"),
                "dev",
                &lan_phone,
            ]),
            p(&["ip", "link", "set", &lan_phone, "up"]),
            p(&["ip", "link", "set", "lo", "up"]),
            p(&["ip", "route", "add", "default", "via", "192.168.1.1"]),
            // Forwarding and masquerade, as a home router does.
            r(&["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]),
            r(&["nft", "add", "table", "ip", "nat"]),
            r(&[
                "nft",
                "add chain ip nat postrouting { type nat hook postrouting priority 100 ; }",
            ]),
            r(&[
                "nft",
                &format!("add rule ip nat postrouting oifname \"{wan_router}\" masquerade"),
            ]),
        ];
        for step in steps {
            let args: Vec<&str> = step.iter().map(String::as_str).collect();
            run(&args)?;
        }
        Ok(home)
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        // Deleting the namespaces deletes their veth pairs (and the root's ends with them).
        let _ = run(&["ip", "netns", "del", &self.phone_ns]);
        let _ = run(&["ip", "netns", "del", &self.router_ns]);
    }
}
