//! The GitHub OAuth web flow with the `oauth2` crate: authorization code with
//! a random `state` and a PKCE (S256) challenge; the code is exchanged, with
//! the verifier, for the person's token, which is used once to ask GitHub
//! who they are and then dropped.

use crate::providers::{ErrorKind, ProviderError, Vendor};
use crate::secret::Secret;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

pub struct OAuthApp {
    client: Client,
    http: reqwest::Client,
}

/// Where to send the browser, and what to remember until it comes back.
pub struct Started {
    pub authorize_url: String,
    pub state: String,
    pub pkce_verifier: String,
}

const OP: &str = "oauth/access-token";

fn err(kind: ErrorKind) -> ProviderError {
    ProviderError::new(Vendor::GitHub, OP, None, kind)
}

impl OAuthApp {
    /// `web_base` is `https://github.com` (or the sandbox's `/github`);
    /// `callback` is Greenroom's public URL + `/auth/callback`.
    pub fn new(
        web_base: &str,
        client_id: &str,
        client_secret: &Secret,
        callback: &str,
    ) -> Result<Self, ProviderError> {
        let web = web_base.trim_end_matches('/');
        let bad = |what: &str, e: String| {
            err(ErrorKind::Rejected {
                detail: format!("{what}: {e}"),
            })
        };
        let client = BasicClient::new(ClientId::new(client_id.to_string()))
            .set_client_secret(ClientSecret::new(client_secret.expose().to_string()))
            .set_auth_uri(
                AuthUrl::new(format!("{web}/login/oauth/authorize"))
                    .map_err(|e| bad("authorize URL", e.to_string()))?,
            )
            .set_token_uri(
                TokenUrl::new(format!("{web}/login/oauth/access_token"))
                    .map_err(|e| bad("token URL", e.to_string()))?,
            )
            .set_redirect_uri(
                RedirectUrl::new(callback.to_string())
                    .map_err(|e| bad("callback URL", e.to_string()))?,
            )
            // GitHub reads the client credentials from the form.
            .set_auth_type(AuthType::RequestBody);
        let http = reqwest::Client::builder()
            .user_agent(crate::providers::http::user_agent())
            .timeout(std::time::Duration::from_secs(20))
            // The token endpoint must not redirect us anywhere (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                err(ErrorKind::Network {
                    detail: e.without_url().to_string(),
                })
            })?;
        Ok(Self { client, http })
    }

    pub fn start(&self) -> Started {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .client
            .authorize_url(CsrfToken::new_random)
            .add_scope(Scope::new("read:user".into()))
            .set_pkce_challenge(challenge)
            .url();
        Started {
            authorize_url: url.to_string(),
            state: state.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        }
    }

    /// The person's token for `code`, proven by the PKCE verifier.
    pub async fn finish(&self, code: &str, pkce_verifier: &str) -> Result<Secret, ProviderError> {
        let token = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                let detail = match e {
                    oauth2::RequestTokenError::ServerResponse(r) => {
                        format!("GitHub refused the code ({})", r.error())
                    }
                    oauth2::RequestTokenError::Request(_) => "GitHub could not be reached".into(),
                    // GitHub answers refusals with 200 and an `error` field.
                    oauth2::RequestTokenError::Parse(_, body) => {
                        let v: serde_json::Value =
                            serde_json::from_slice(&body).unwrap_or_default();
                        match v.get("error").and_then(|e| e.as_str()) {
                            Some(code) => format!("GitHub refused the code ({code})"),
                            None => "GitHub's answer could not be read".into(),
                        }
                    }
                    oauth2::RequestTokenError::Other(o) => o,
                };
                err(ErrorKind::Rejected {
                    detail: format!("{detail}; sign in again"),
                })
            })?;
        Ok(Secret::new(token.access_token().secret().clone()))
    }
}
