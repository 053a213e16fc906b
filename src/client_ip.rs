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
        if !self.trusted.contains(&peer) {
            return peer;
        }
        let hops: Vec<IpAddr> = header_values
            .flat_map(|v| v.split(','))
            .filter_map(|h| h.trim().parse::<IpAddr>().ok())
            .collect();
        hops.into_iter()
            .rev()
            .find(|ip| !self.trusted.contains(ip))
            .unwrap_or(peer)
    }
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
}
