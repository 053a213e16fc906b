//! Typed clients for the vendors Greenroom talks to. They work the same
//! against the real services and the sandbox: only the base URL differs.
//! Every call has connect and total timeouts; every failure is a
//! [`ProviderError`] naming the vendor, the operation and what to do.

pub mod api;
pub mod error;
pub mod github;
pub mod http;
pub mod netlify;
pub mod slack;
pub mod supabase;

pub use error::{ErrorKind, ProviderError, Vendor};

use crate::config::{Config, Mode, VendorUrls};
use crate::secret::Secret;

/// The three API clients, built for live mode or for the sandbox.
pub struct VendorClients {
    pub netlify: netlify::NetlifyClient,
    pub github: github::GitHubClient,
    pub supabase: supabase::SupabaseClient,
}

/// The token sent to the sandbox, which needs one but checks none.
const SANDBOX_TOKEN: &str = "greenroom-sandbox";

impl VendorClients {
    /// Live mode uses the configured URLs and the tokens from the
    /// environment; sandbox mode points everything at `sandbox_url`.
    pub fn from_config(config: &Config, sandbox_url: Option<&str>) -> Result<Self, ProviderError> {
        let timeouts = http::Timeouts {
            total: config.vendor_timeout,
            ..http::Timeouts::default()
        };
        let (urls, creds) = match (config.mode, sandbox_url) {
            (Mode::Sandbox, Some(base)) => (VendorUrls::sandbox(base), None),
            _ => (config.vendors.clone(), Some(&config.credentials)),
        };
        let token = |t: Option<&Option<Secret>>| {
            t.and_then(|t| t.clone())
                .unwrap_or_else(|| Secret::new(SANDBOX_TOKEN))
        };
        let trim = |u: &url::Url| u.as_str().trim_end_matches('/').to_string();
        Ok(Self {
            netlify: netlify::NetlifyClient::new(
                &trim(&urls.netlify_api_url),
                token(creds.map(|c| &c.netlify_token)),
                timeouts,
            )?,
            github: github::GitHubClient::new(
                &trim(&urls.github_api_url),
                &trim(&urls.github_web_url),
                token(creds.map(|c| &c.github_token)),
                timeouts,
            )?,
            supabase: supabase::SupabaseClient::new(
                &trim(&urls.supabase_api_url),
                token(creds.map(|c| &c.supabase_token)),
                timeouts,
            )?,
        })
    }
}
