//! Netlify API v1: sites, deploys, builds, build hooks, deployed branches,
//! account env vars and deploy notifications. Operation names are the
//! `operationId`s of Netlify's API description.

use super::api::{with_query, Api, PageOf, RetryPolicy};
use super::error::{ProviderError, Vendor};
use super::http::Timeouts;
use crate::secret::Secret;
use reqwest::Method;
use serde::Deserialize;

pub const DEFAULT_BASE: &str = "https://api.netlify.com/api/v1";

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Site {
    pub id: String,
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub ssl_url: Option<String>,
    #[serde(default)]
    pub admin_url: Option<String>,
    #[serde(default)]
    pub published_deploy: Option<Deploy>,
}

/// A deploy as Greenroom needs it. `state` is Netlify's own word (`new`,
/// `enqueued`, `building`, `processing`, `ready`, `error`, ...).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Deploy {
    pub id: String,
    pub site_id: String,
    pub state: String,
    pub created_at: String,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub published_at: Option<String>,
    #[serde(default)]
    pub build_id: Option<String>,
    #[serde(default)]
    pub context: Option<String>,
    #[serde(default)]
    pub branch: Option<String>,
    #[serde(default)]
    pub commit_ref: Option<String>,
    #[serde(default)]
    pub commit_url: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(default)]
    pub deploy_ssl_url: Option<String>,
    /// Seconds the build took, once finished.
    #[serde(default)]
    pub deploy_time: Option<u64>,
    #[serde(default)]
    pub review_id: Option<u64>,
    #[serde(default)]
    pub locked: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Build {
    pub id: String,
    #[serde(default)]
    pub deploy_id: Option<String>,
    #[serde(default)]
    pub sha: Option<String>,
    pub done: bool,
    #[serde(default)]
    pub error: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BuildHook {
    pub id: String,
    pub title: String,
    pub branch: String,
    /// Holds the hook's own secret; never shown.
    pub url: Secret,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeployedBranch {
    pub name: String,
    pub deploy_id: String,
    #[serde(default)]
    pub ssl_url: Option<String>,
}

/// One value of an env var in one deploy context. The value is a
/// [`Secret`]: compared by Greenroom, never shown.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EnvValue {
    pub context: String,
    #[serde(default)]
    pub context_parameter: Option<String>,
    /// Absent for secret variables outside the `dev` context.
    #[serde(default)]
    pub value: Option<Secret>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EnvVar {
    pub key: String,
    #[serde(default)]
    pub is_secret: bool,
    pub values: Vec<EnvValue>,
    /// `builds`, `functions`, `runtime`, `post-processing`; absent means all.
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub updated_by: Option<EnvVarUser>,
}

/// Who last changed a variable, as Netlify reports it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EnvVarUser {
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Hook {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub event: String,
    #[serde(default)]
    pub disabled: bool,
}

/// Filters of `listSiteDeploys`.
#[derive(Debug, Clone, Default)]
pub struct DeployFilter {
    pub branch: Option<String>,
    pub state: Option<String>,
    pub production: Option<bool>,
    pub deploy_previews: Option<bool>,
}

pub struct NetlifyClient {
    api: Api,
}

impl NetlifyClient {
    /// `base` is `https://api.netlify.com/api/v1`, or the sandbox's
    /// `http://127.0.0.1:PORT/netlify/api/v1`.
    pub fn new(base: &str, token: Secret, timeouts: Timeouts) -> Result<Self, ProviderError> {
        Ok(Self {
            api: Api::new(Vendor::Netlify, base, token, timeouts)?,
        })
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.api.retry = retry;
        self
    }

    pub fn with_page_limits(mut self, pages: super::api::PageLimits) -> Self {
        self.api.pages = pages;
        self
    }

    fn url(&self, path: &str) -> String {
        self.api.url(path)
    }

    pub async fn get_site(&self, site_id: &str) -> Result<Site, ProviderError> {
        self.api
            .get("getSite", &self.url(&format!("/sites/{}", seg(site_id))))
            .await
    }

    /// Newest first, up to `limit` deploys (all when `None`).
    pub async fn list_site_deploys(
        &self,
        site_id: &str,
        filter: &DeployFilter,
        limit: Option<usize>,
    ) -> Result<Vec<Deploy>, ProviderError> {
        let mut q = Vec::new();
        if let Some(b) = &filter.branch {
            q.push(("branch", b.clone()));
        }
        if let Some(s) = &filter.state {
            q.push(("state", s.clone()));
        }
        if let Some(p) = filter.production {
            q.push(("production", p.to_string()));
        }
        if let Some(p) = filter.deploy_previews {
            q.push(("deploy-previews", p.to_string()));
        }
        let url = with_query(&self.url(&format!("/sites/{}/deploys", seg(site_id))), &q);
        self.api
            .collect(
                "listSiteDeploys",
                &url,
                limit,
                |items: Vec<Deploy>| PageOf { items, total: None },
                |d| d.id.clone(),
            )
            .await
    }

    pub async fn get_site_deploy(
        &self,
        site_id: &str,
        deploy_id: &str,
    ) -> Result<Deploy, ProviderError> {
        let url = self.url(&format!(
            "/sites/{}/deploys/{}",
            seg(site_id),
            seg(deploy_id)
        ));
        self.api.get("getSiteDeploy", &url).await
    }

    /// Publishes an earlier deploy again (Netlify's "Publish deploy").
    pub async fn restore_site_deploy(
        &self,
        site_id: &str,
        deploy_id: &str,
    ) -> Result<Deploy, ProviderError> {
        let url = self.url(&format!(
            "/sites/{}/deploys/{}/restore",
            seg(site_id),
            seg(deploy_id)
        ));
        self.api
            .call::<(), _>("restoreSiteDeploy", Method::POST, &url, None)
            .await
    }

    pub async fn cancel_site_deploy(&self, deploy_id: &str) -> Result<Deploy, ProviderError> {
        let url = self.url(&format!("/deploys/{}/cancel", seg(deploy_id)));
        self.api
            .call::<(), _>("cancelSiteDeploy", Method::POST, &url, None)
            .await
    }

    pub async fn lock_deploy(&self, deploy_id: &str) -> Result<Deploy, ProviderError> {
        let url = self.url(&format!("/deploys/{}/lock", seg(deploy_id)));
        self.api
            .call::<(), _>("lockDeploy", Method::POST, &url, None)
            .await
    }

    pub async fn unlock_deploy(&self, deploy_id: &str) -> Result<Deploy, ProviderError> {
        let url = self.url(&format!("/deploys/{}/unlock", seg(deploy_id)));
        self.api
            .call::<(), _>("unlockDeploy", Method::POST, &url, None)
            .await
    }

    pub async fn list_site_builds(
        &self,
        site_id: &str,
        limit: Option<usize>,
    ) -> Result<Vec<Build>, ProviderError> {
        let url = self.url(&format!("/sites/{}/builds", seg(site_id)));
        self.api
            .collect(
                "listSiteBuilds",
                &url,
                limit,
                |items: Vec<Build>| PageOf { items, total: None },
                |b| b.id.clone(),
            )
            .await
    }

    /// Starts a build of `branch` (the site's production branch when `None`).
    pub async fn create_site_build(
        &self,
        site_id: &str,
        branch: Option<&str>,
        clear_cache: bool,
    ) -> Result<Build, ProviderError> {
        let mut q = Vec::new();
        if let Some(b) = branch {
            q.push(("branch", b.to_string()));
        }
        if clear_cache {
            q.push(("clear_cache", "true".to_string()));
        }
        let url = with_query(&self.url(&format!("/sites/{}/builds", seg(site_id))), &q);
        self.api
            .call::<(), _>("createSiteBuild", Method::POST, &url, None)
            .await
    }

    pub async fn get_site_build(&self, build_id: &str) -> Result<Build, ProviderError> {
        self.api
            .get(
                "getSiteBuild",
                &self.url(&format!("/builds/{}", seg(build_id))),
            )
            .await
    }

    pub async fn list_site_build_hooks(
        &self,
        site_id: &str,
    ) -> Result<Vec<BuildHook>, ProviderError> {
        self.api
            .get(
                "listSiteBuildHooks",
                &self.url(&format!("/sites/{}/build_hooks", seg(site_id))),
            )
            .await
    }

    pub async fn list_site_deployed_branches(
        &self,
        site_id: &str,
    ) -> Result<Vec<DeployedBranch>, ProviderError> {
        self.api
            .get(
                "listSiteDeployedBranches",
                &self.url(&format!("/sites/{}/deployed-branches", seg(site_id))),
            )
            .await
    }

    /// The account's env vars for a site, optionally for one context.
    pub async fn get_env_vars(
        &self,
        account: &str,
        site_id: Option<&str>,
        context: Option<&str>,
    ) -> Result<Vec<EnvVar>, ProviderError> {
        let mut q = Vec::new();
        if let Some(s) = site_id {
            q.push(("site_id", s.to_string()));
        }
        if let Some(c) = context {
            q.push(("context_name", c.to_string()));
        }
        let url = with_query(&self.url(&format!("/accounts/{}/env", seg(account))), &q);
        self.api.get("getEnvVars", &url).await
    }

    pub async fn get_env_var(
        &self,
        account: &str,
        key: &str,
        site_id: Option<&str>,
    ) -> Result<EnvVar, ProviderError> {
        let q: Vec<(&str, String)> = site_id
            .map(|s| ("site_id", s.to_string()))
            .into_iter()
            .collect();
        let url = with_query(
            &self.url(&format!("/accounts/{}/env/{}", seg(account), seg(key))),
            &q,
        );
        self.api.get("getEnvVar", &url).await
    }

    pub async fn list_hooks_by_site_id(&self, site_id: &str) -> Result<Vec<Hook>, ProviderError> {
        let url = with_query(&self.url("/hooks"), &[("site_id", site_id.to_string())]);
        self.api.get("listHooksBySiteId", &url).await
    }
}

/// What a path segment keeps as it is: RFC 3986's unreserved characters.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A path segment, percent-encoded so an id can never change the path.
pub(crate) fn seg(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}
