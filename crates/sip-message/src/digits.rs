//! Numbers, IP addresses and plain-text header values appended to message text without
//! `core::fmt`.
//!
//! A `write!` of one number or address goes through the formatting machinery (argument
//! tables, padding, a `dyn Write`): about 600 instructions for a port, 1,300 for an IPv4
//! address, against a few dozen here. A proxy writes several per message (Via `rport` and
//! `received`, Content-Length, CSeq), so they are worth doing by hand. The output is what
//! `Display` prints.

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::net::IpAddr;

/// Appends `args` to a message being printed. Plain text (`format_args!("lr")`, not
/// `format_args!("{x}")`) is copied without the formatting machinery.
pub(crate) fn push_args(out: &mut Vec<u8>, args: fmt::Arguments<'_>) {
    match args.as_str() {
        Some(text) => out.extend_from_slice(text.as_bytes()),
        // Writing to a Vec cannot fail.
        None => {
            let _ = out.write_fmt(args);
        }
    }
}

/// Appends `n` in decimal, as `Display` prints it.
pub fn push_decimal<I: itoa::Integer>(out: &mut String, n: I) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends `ip` as `Display` prints it (an IPv6 address compressed, without brackets).
pub fn push_ip(out: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            push_decimal(out, a);
            out.push('.');
            push_decimal(out, b);
            out.push('.');
            push_decimal(out, c);
            out.push('.');
            push_decimal(out, d);
        }
        // Rare on the message path; `Display` knows the compression rules.
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn as_display_prints_them() {
        for n in [0u32, 7, 10, 65_535, u32::MAX] {
            let mut s = String::from("x=");
            push_decimal(&mut s, n);
            assert_eq!(s, format!("x={n}"));
        }
        for ip in [
            IpAddr::V4(Ipv4Addr::new(0, 0, 0, 0)),
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 255)),
            IpAddr::V4(Ipv4Addr::new(10, 100, 1, 9)),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
            IpAddr::V6("2001:db8::1:0:0:1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED)),
        ] {
            let mut s = String::new();
            push_ip(&mut s, ip);
            assert_eq!(s, ip.to_string());
        }
    }
}
