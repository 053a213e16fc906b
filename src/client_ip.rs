//! Where a request really came from. Behind a reverse proxy every request's
//! socket peer is the proxy, so the client's address comes from the header
//! the proxy sets, but only when the peer is one of the configured trusted
//! proxies (anyone else could write that header). Used for the audit log
//! and the sign-in rate limit.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// `[proxy]` in the config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProxyConfig {
    /// Addresses of the reverse proxies in front of Greenroom; empty (the
    /// default) means requests come straight from clients.
    pub trusted: Vec<IpAddr>,
    /// The header those proxies put the client's address in.
    pub client_ip_header: String,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        Self {
            trusted: Vec::new(),
            client_ip_header: "x-forwarded-for".into(),
        }
    }
}

/// The client's address, as the server found it; put in each request's
/// extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ProxyConfig {
    /// The client's address: the socket peer, unless it is a trusted proxy,
    /// then the right-most address in the header (values of every instance
    /// of it, comma-separated) that is not itself a trusted proxy.
    pub fn client_ip<'a>(
        &self,
        peer: IpAddr,
        header_values: impl Iterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.is_trusted(peer) {
            return peer;
        }
        let hops: Vec<&str> = header_values
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        for hop in hops.into_iter().rev() {
            match parse_hop(hop) {
                Some(ip) if self.is_trusted(ip) => continue,
                Some(ip) => return ip,
                // A hop that is not an address may have been written by the
                // client; nothing left of it can be trusted.
                None => break,
            }
        }
        peer
    }

    /// An IPv4 peer on a dual-stack socket arrives as `::ffff:a.b.c.d`; it
    /// matches the plain IPv4 address configured.
    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|t| t.to_canonical() == ip)
    }
}

/// One hop of a forwarding header: `a.b.c.d`, an IPv6 address, or either
/// with a port (`a.b.c.d:p`, `[v6]:p`) as some proxies write them.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(inner) = hop.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<IpAddr>().ok().map(|ip| ip.to_canonical());
    }
    hop.parse::<std::net::SocketAddr>()
        .ok()
        .map(|s| s.ip().to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_a_trusted_proxy_may_say_who_the_client_is() {
        let direct = ProxyConfig::default();
        assert_eq!(
            direct.client_ip(ip("203.0.113.9"), ["198.51.100.1"].into_iter()),
            ip("203.0.113.9"),
            "no proxy configured: the header is ignored"
        );
        let proxied = ProxyConfig {
            trusted: vec![ip("10.0.0.2"), ip("10.0.0.3")],
            ..Default::default()
        };
        assert_eq!(
            proxied.client_ip(ip("10.0.0.2"), ["198.51.100.7, 10.0.0.3"].into_iter()),
            ip("198.51.100.7")
        );
        assert_eq!(
            proxied.client_ip(
                ip("10.0.0.2"),
                ["1.1.1.1, 198.51.100.7", "10.0.0.3"].into_iter()
            ),
            ip("198.51.100.7"),
            "the client cannot choose its address by prepending one"
        );
        assert_eq!(
            proxied.client_ip(ip("203.0.113.9"), ["198.51.100.7"].into_iter()),
            ip("203.0.113.9"),
            "an untrusted peer's header counts for nothing"
        );
        assert_eq!(
            proxied.client_ip(ip("10.0.0.2"), ["garbage"].into_iter()),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn mapped_peers_ports_and_unreadable_hops() {
        let proxied = ProxyConfig {
            trusted: vec![ip("127.0.0.1")],
            ..Default::default()
        };
        assert_eq!(
            proxied.client_ip(ip("::ffff:127.0.0.1"), ["198.51.100.7"].into_iter()),
            ip("198.51.100.7"),
            "a dual-stack socket's mapped address is the proxy configured"
        );
        assert_eq!(
            proxied.client_ip(ip("127.0.0.1"), ["198.51.100.7:4711"].into_iter()),
            ip("198.51.100.7")
        );
        assert_eq!(
            proxied.client_ip(ip("127.0.0.1"), ["[2001:db8::1]:443"].into_iter()),
            ip("2001:db8::1")
        );
        assert_eq!(
            proxied.client_ip(
                ip("127.0.0.1"),
                ["[2001:db8::1], ", "127.0.0.1"].into_iter()
            ),
            ip("2001:db8::1"),
            "empty hops are skipped and a bare bracketed IPv6 is read"
        );
        assert_eq!(
            proxied.client_ip(ip("127.0.0.1"), ["198.51.100.7, unknown"].into_iter()),
            ip("127.0.0.1"),
            "the client's own choice left of an unreadable hop is not taken"
        );
    }
}
