//! The HTTP client every vendor client shares: rustls, timeouts, and a user
//! agent naming Greenroom and its version.

use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(20),
        }
    }
}

pub fn user_agent() -> String {
    format!("Greenroom/{} (+staging console)", crate::VERSION)
}

/// Builds the shared client. Fails only if the TLS backend cannot start.
pub fn client(timeouts: Timeouts) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .user_agent(user_agent())
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.total)
        .build()
}
