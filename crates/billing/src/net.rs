//! The second layer of webhook authenticity: the sender's address must be in YooKassa's
//! published ranges. The client address is the socket peer unless the peer is a trusted
//! proxy, in which case `X-Forwarded-For` is walked from the right, skipping trusted proxies
//! (an attacker can prepend anything to the header, never append). The first layer is the
//! re-fetch of every object from the API (see `webhooks`).

use std::net::IpAddr;

use ipnet::IpNet;

/// YooKassa's published notification ranges.
pub const YOOKASSA_RANGES: &[&str] = &[
    "185.71.76.0/27",
    "185.71.77.0/27",
    "77.75.153.0/25",
    "77.75.156.11/32",
    "77.75.156.35/32",
    "77.75.154.128/25",
    "2a02:5180::/32",
];

/// A list of networks (single addresses become /32 or /128).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetList(pub Vec<IpNet>);

impl NetList {
    /// Parses a comma-separated list of addresses and CIDRs; returns the bad entries on error.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part
                .parse::<IpNet>()
                .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
            {
                Ok(n) => out.push(n),
                Err(_) => return Err(format!("`{part}` is not an IP address or CIDR")),
            }
        }
        Ok(Self(out))
    }

    /// YooKassa's published ranges.
    pub fn yookassa() -> Self {
        Self(
            YOOKASSA_RANGES
                .iter()
                .filter_map(|r| r.parse().ok())
                .collect(),
        )
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// Entries that cover private, loopback or link-local space (refused in prod).
    pub fn private_entries(&self) -> Vec<String> {
        self.0
            .iter()
            .filter(|n| is_private(n.network()) || is_private(n.broadcast()))
            .map(ToString::to_string)
            .collect()
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || (v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1]))
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// The client address of a request that arrived from `peer` with `forwarded_for` (the raw
/// `X-Forwarded-For` values, in order).
pub fn client_ip(peer: IpAddr, forwarded_for: &[&str], trusted_proxies: &NetList) -> IpAddr {
    let peer = canonical(peer);
    if !trusted_proxies.contains(peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .map(canonical)
        .collect();
    for hop in hops.iter().rev() {
        if !trusted_proxies.contains(*hop) {
            return *hop;
        }
    }
    hops.first().copied().unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let trusted = NetList::parse("127.0.0.1, 10.0.0.0/8").unwrap_or_default();
        assert_eq!(
            client_ip(ip("8.8.8.8"), &["185.71.76.1"], &trusted),
            ip("8.8.8.8")
        );
        assert_eq!(
            client_ip(ip("127.0.0.1"), &["185.71.76.1"], &trusted),
            ip("185.71.76.1")
        );
        // A forged left-most entry does not win: the right-most untrusted hop does.
        assert_eq!(
            client_ip(
                ip("127.0.0.1"),
                &["185.71.76.1, 8.8.8.8, 10.1.2.3"],
                &trusted
            ),
            ip("8.8.8.8")
        );
        assert_eq!(client_ip(ip("127.0.0.1"), &[], &trusted), ip("127.0.0.1"));
    }

    #[test]
    fn the_default_allowlist_has_no_private_ranges() {
        let yk = NetList::yookassa();
        assert_eq!(yk.0.len(), YOOKASSA_RANGES.len());
        assert!(yk.private_entries().is_empty());
        assert!(yk.contains(ip("185.71.76.10")));
        assert!(yk.contains(ip("::ffff:185.71.76.10")));
        assert!(!yk.contains(ip("172.18.0.1")));
        assert!(!yk.contains(ip("127.0.0.1")));
        let bad = NetList::parse("172.16.0.0/12,127.0.0.1,185.71.76.0/27").unwrap_or_default();
        assert_eq!(bad.private_entries().len(), 2);
        assert!(NetList::parse("nonsense").is_err());
    }
}
