//! Puts each request's client address (`greenroom::client_ip::ClientIp`) in
//! its extensions: the socket peer, or what a trusted reverse proxy says
//! (`[proxy]` in the config). Everything that records or limits by address
//! reads it from there.

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use greenroom::client_ip::{ClientIp, ProxyConfig};
use std::net::SocketAddr;
use std::sync::Arc;

pub async fn resolve(
    State(proxy): State<Arc<ProxyConfig>>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(peer) = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    {
        let ip = proxy.client_ip(
            peer,
            req.headers()
                .get_all(proxy.client_ip_header.as_str())
                .iter()
                .filter_map(|v| v.to_str().ok()),
        );
        req.extensions_mut().insert(ClientIp(ip));
    }
    next.run(req).await
}

/// The address the server resolved for this request.
pub fn of(ext: &axum::http::Extensions) -> Option<std::net::IpAddr> {
    ext.get::<ClientIp>().map(|c| c.0)
}
