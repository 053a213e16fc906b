//! GitHub REST: Actions runs, jobs, logs, re-runs, dispatch and artifacts;
//! secrets (names only), variables and environments; deployments; repository
//! files, branches and commits; the signed-in user's org and team
//! membership; the rate limit; and the OAuth web flow. Reads are
//! conditional (ETag / If-None-Match), so an unchanged answer costs no rate
//! limit. Operation names are those of GitHub's API description.

use super::api::{with_query, Api, PageLimits, PageOf, RetryPolicy};
use super::error::{ErrorKind, ProviderError, Vendor};
use super::http::Timeouts;
use super::netlify::seg;
use crate::secret::Secret;
use base64::Engine;
use reqwest::Method;
use serde::{Deserialize, Serialize};

pub const DEFAULT_API_BASE: &str = "https://api.github.com";
pub const DEFAULT_WEB_BASE: &str = "https://github.com";
/// The REST API version Greenroom is written against.
pub const API_VERSION: &str = "2022-11-28";

/// `owner/repo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    pub owner: String,
    pub name: String,
}

impl Repo {
    pub fn new(owner: &str, name: &str) -> Self {
        Self {
            owner: owner.into(),
            name: name.into(),
        }
    }

    pub fn path(&self) -> String {
        format!("/repos/{}/{}", seg(&self.owner), seg(&self.name))
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Actor {
    pub login: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WorkflowRun {
    pub id: u64,
    pub run_number: u64,
    #[serde(default)]
    pub run_attempt: Option<u32>,
    pub event: String,
    /// `queued`, `in_progress`, `completed`, ...
    pub status: Option<String>,
    /// Once completed: `success`, `failure`, `cancelled`, `skipped`, ...
    pub conclusion: Option<String>,
    pub head_branch: Option<String>,
    pub head_sha: String,
    pub display_title: String,
    pub html_url: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub run_started_at: Option<String>,
    #[serde(default)]
    pub actor: Option<Actor>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Step {
    pub name: String,
    pub number: u32,
    pub status: String,
    pub conclusion: Option<String>,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub completed_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Job {
    pub id: u64,
    pub run_id: u64,
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub started_at: String,
    pub completed_at: Option<String>,
    #[serde(default)]
    pub steps: Vec<Step>,
    pub html_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Artifact {
    pub id: u64,
    pub name: String,
    pub size_in_bytes: u64,
    pub expired: bool,
    pub created_at: Option<String>,
    pub expires_at: Option<String>,
}

/// A secret as GitHub lists it: a name and dates, never a value.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SecretName {
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Variable {
    pub name: String,
    /// Readable through the API, but kept from logs and pages all the same.
    pub value: Secret,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Environment {
    pub id: u64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Deployment {
    pub id: u64,
    pub sha: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub environment: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeploymentStatus {
    pub id: u64,
    /// `error`, `failure`, `inactive`, `pending`, `success`, `queued`, `in_progress`.
    pub state: String,
    pub created_at: String,
    #[serde(default)]
    pub environment_url: Option<String>,
}

/// A file's text from the contents API. `Debug` leaves the text out (an
/// `.env.example` may hold real values).
#[derive(Clone, PartialEq)]
pub struct RepoFile {
    pub path: String,
    pub sha: String,
    pub text: String,
}

impl std::fmt::Debug for RepoFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RepoFile")
            .field("path", &self.path)
            .field("sha", &self.sha)
            .field("bytes", &self.text.len())
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CommitSummary {
    pub sha: String,
    pub commit: CommitDetail,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CommitDetail {
    pub message: String,
    pub author: Option<GitPerson>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GitPerson {
    pub name: Option<String>,
    pub date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Branch {
    pub name: String,
    pub commit: CommitSummary,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Comparison {
    /// `identical`, `ahead`, `behind` or `diverged`.
    pub status: String,
    pub ahead_by: u32,
    pub behind_by: u32,
    pub total_commits: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct User {
    pub login: String,
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub avatar_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Org {
    pub login: String,
    pub id: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Team {
    pub slug: String,
    pub name: String,
    pub organization: Org,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Membership {
    /// `active` or `pending`.
    pub state: String,
    /// `admin` / `member` (org), `maintainer` / `member` (team).
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RateLimitCore {
    pub limit: u32,
    pub remaining: u32,
    pub reset: u64,
    pub used: u32,
}

#[derive(Deserialize)]
struct RateLimitOverview {
    rate: RateLimitCore,
}

/// Filters of `actions/list-workflow-runs`.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub branch: Option<String>,
    pub event: Option<String>,
    pub status: Option<String>,
}

#[derive(Deserialize)]
struct RunsPage {
    total_count: usize,
    workflow_runs: Vec<WorkflowRun>,
}

#[derive(Deserialize)]
struct JobsPage {
    total_count: usize,
    jobs: Vec<Job>,
}

#[derive(Deserialize)]
struct ArtifactsPage {
    total_count: usize,
    artifacts: Vec<Artifact>,
}

#[derive(Deserialize)]
struct SecretsPage {
    total_count: usize,
    secrets: Vec<SecretName>,
}

#[derive(Deserialize)]
struct VariablesPage {
    total_count: usize,
    variables: Vec<Variable>,
}

#[derive(Deserialize)]
struct EnvironmentsPage {
    #[serde(default)]
    total_count: Option<usize>,
    #[serde(default)]
    environments: Vec<Environment>,
}

#[derive(Deserialize)]
struct ContentFile {
    #[serde(rename = "type")]
    kind: String,
    path: String,
    sha: String,
    content: String,
    encoding: String,
}

#[derive(Serialize)]
struct Dispatch<'a> {
    #[serde(rename = "ref")]
    reference: &'a str,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    inputs: serde_json::Map<String, serde_json::Value>,
}

pub struct GitHubClient {
    api: Api,
    web_base: String,
}

impl GitHubClient {
    /// `api_base` is `https://api.github.com` (or the sandbox's
    /// `http://127.0.0.1:PORT/github`); `web_base` is where the OAuth pages
    /// live: `https://github.com` (or the same sandbox URL).
    pub fn new(
        api_base: &str,
        web_base: &str,
        token: Secret,
        timeouts: Timeouts,
    ) -> Result<Self, ProviderError> {
        let api = Api::new(Vendor::GitHub, api_base, token, timeouts)?
            .with_header("x-github-api-version", API_VERSION)
            .accept("application/vnd.github+json")
            .with_etags();
        Ok(Self {
            api,
            web_base: web_base.trim_end_matches('/').to_string(),
        })
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.api.retry = retry;
        self
    }

    pub fn with_page_limits(mut self, pages: PageLimits) -> Self {
        self.api.pages = pages;
        self
    }

    /// The same client acting as a signed-in user.
    pub fn as_user(&self, token: Secret) -> Self {
        Self {
            api: self.api.with_token(token),
            web_base: self.web_base.clone(),
        }
    }

    fn url(&self, path: &str) -> String {
        self.api.url(path)
    }

    pub async fn list_workflow_runs(
        &self,
        repo: &Repo,
        workflow: &str,
        filter: &RunFilter,
        limit: Option<usize>,
    ) -> Result<Vec<WorkflowRun>, ProviderError> {
        let mut q = Vec::new();
        for (k, v) in [
            ("branch", &filter.branch),
            ("event", &filter.event),
            ("status", &filter.status),
        ] {
            if let Some(v) = v {
                q.push((k, v.clone()));
            }
        }
        let url = with_query(
            &self.url(&format!(
                "{}/actions/workflows/{}/runs",
                repo.path(),
                seg(workflow)
            )),
            &q,
        );
        self.api
            .collect(
                "actions/list-workflow-runs",
                &url,
                limit,
                |p: RunsPage| PageOf {
                    items: p.workflow_runs,
                    total: Some(p.total_count),
                },
                |r| r.id.to_string(),
            )
            .await
    }

    pub async fn get_workflow_run(
        &self,
        repo: &Repo,
        run_id: u64,
    ) -> Result<WorkflowRun, ProviderError> {
        self.api
            .get(
                "actions/get-workflow-run",
                &self.url(&format!("{}/actions/runs/{run_id}", repo.path())),
            )
            .await
    }

    pub async fn list_jobs_for_workflow_run(
        &self,
        repo: &Repo,
        run_id: u64,
    ) -> Result<Vec<Job>, ProviderError> {
        let url = self.url(&format!("{}/actions/runs/{run_id}/jobs", repo.path()));
        self.api
            .collect(
                "actions/list-jobs-for-workflow-run",
                &url,
                None,
                |p: JobsPage| PageOf {
                    items: p.jobs,
                    total: Some(p.total_count),
                },
                |j| j.id.to_string(),
            )
            .await
    }

    /// A job's log text (GitHub redirects to a short-lived URL; the token is
    /// not sent there).
    pub async fn download_job_logs(
        &self,
        repo: &Repo,
        job_id: u64,
    ) -> Result<String, ProviderError> {
        let op = "actions/download-job-logs-for-workflow-run";
        let target = self
            .api
            .redirect_target(
                op,
                &self.url(&format!("{}/actions/jobs/{job_id}/logs", repo.path())),
            )
            .await?;
        let body = self.api.download(op, &target, 50 * 1024 * 1024).await?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    pub async fn rerun_workflow(&self, repo: &Repo, run_id: u64) -> Result<(), ProviderError> {
        let url = self.url(&format!("{}/actions/runs/{run_id}/rerun", repo.path()));
        self.api
            .call_empty(
                "actions/re-run-workflow",
                Method::POST,
                &url,
                Some(&serde_json::json!({})),
            )
            .await
    }

    pub async fn rerun_failed_jobs(&self, repo: &Repo, run_id: u64) -> Result<(), ProviderError> {
        let url = self.url(&format!(
            "{}/actions/runs/{run_id}/rerun-failed-jobs",
            repo.path()
        ));
        self.api
            .call_empty(
                "actions/re-run-workflow-failed-jobs",
                Method::POST,
                &url,
                Some(&serde_json::json!({})),
            )
            .await
    }

    pub async fn cancel_workflow_run(&self, repo: &Repo, run_id: u64) -> Result<(), ProviderError> {
        let url = self.url(&format!("{}/actions/runs/{run_id}/cancel", repo.path()));
        self.api
            .call_empty::<()>("actions/cancel-workflow-run", Method::POST, &url, None)
            .await
    }

    /// Starts the workflow on `reference`. GitHub answers 204 with no run id:
    /// the new run has to be found in the run list afterwards.
    pub async fn create_workflow_dispatch(
        &self,
        repo: &Repo,
        workflow: &str,
        reference: &str,
        inputs: serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), ProviderError> {
        let url = self.url(&format!(
            "{}/actions/workflows/{}/dispatches",
            repo.path(),
            seg(workflow)
        ));
        let body = Dispatch { reference, inputs };
        self.api
            .call_empty(
                "actions/create-workflow-dispatch",
                Method::POST,
                &url,
                Some(&body),
            )
            .await
    }

    pub async fn list_workflow_run_artifacts(
        &self,
        repo: &Repo,
        run_id: u64,
    ) -> Result<Vec<Artifact>, ProviderError> {
        let url = self.url(&format!("{}/actions/runs/{run_id}/artifacts", repo.path()));
        self.api
            .collect(
                "actions/list-workflow-run-artifacts",
                &url,
                None,
                |p: ArtifactsPage| PageOf {
                    items: p.artifacts,
                    total: Some(p.total_count),
                },
                |a| a.id.to_string(),
            )
            .await
    }

    /// Starts downloading the artifact's zip file: GitHub answers with a
    /// redirect to a short-lived URL, which is fetched without the token.
    /// An expired artifact is a `NotFound` error with status 410.
    pub async fn open_artifact_download(
        &self,
        repo: &Repo,
        artifact_id: u64,
    ) -> Result<super::api::Download, ProviderError> {
        let op = "actions/download-artifact";
        let target = self
            .api
            .redirect_target(
                op,
                &self.url(&format!(
                    "{}/actions/artifacts/{artifact_id}/zip",
                    repo.path()
                )),
            )
            .await?;
        self.api.open_download(op, &target).await
    }

    async fn secrets(
        &self,
        op: &'static str,
        path: String,
    ) -> Result<Vec<SecretName>, ProviderError> {
        self.api
            .collect(
                op,
                &self.url(&path),
                None,
                |p: SecretsPage| PageOf {
                    items: p.secrets,
                    total: Some(p.total_count),
                },
                |s| s.name.clone(),
            )
            .await
    }

    pub async fn list_repo_secrets(&self, repo: &Repo) -> Result<Vec<SecretName>, ProviderError> {
        self.secrets(
            "actions/list-repo-secrets",
            format!("{}/actions/secrets", repo.path()),
        )
        .await
    }

    pub async fn list_repo_organization_secrets(
        &self,
        repo: &Repo,
    ) -> Result<Vec<SecretName>, ProviderError> {
        self.secrets(
            "actions/list-repo-organization-secrets",
            format!("{}/actions/organization-secrets", repo.path()),
        )
        .await
    }

    pub async fn list_environment_secrets(
        &self,
        repo: &Repo,
        environment: &str,
    ) -> Result<Vec<SecretName>, ProviderError> {
        self.secrets(
            "actions/list-environment-secrets",
            format!("{}/environments/{}/secrets", repo.path(), seg(environment)),
        )
        .await
    }

    async fn variables(
        &self,
        op: &'static str,
        path: String,
    ) -> Result<Vec<Variable>, ProviderError> {
        self.api
            .collect(
                op,
                &self.url(&path),
                None,
                |p: VariablesPage| PageOf {
                    items: p.variables,
                    total: Some(p.total_count),
                },
                |v| v.name.clone(),
            )
            .await
    }

    pub async fn list_repo_variables(&self, repo: &Repo) -> Result<Vec<Variable>, ProviderError> {
        self.variables(
            "actions/list-repo-variables",
            format!("{}/actions/variables", repo.path()),
        )
        .await
    }

    /// Organization variables the repository can use.
    pub async fn list_repo_organization_variables(
        &self,
        repo: &Repo,
    ) -> Result<Vec<Variable>, ProviderError> {
        self.variables(
            "actions/list-repo-organization-variables",
            format!("{}/actions/organization-variables", repo.path()),
        )
        .await
    }

    pub async fn list_environment_variables(
        &self,
        repo: &Repo,
        environment: &str,
    ) -> Result<Vec<Variable>, ProviderError> {
        self.variables(
            "actions/list-environment-variables",
            format!(
                "{}/environments/{}/variables",
                repo.path(),
                seg(environment)
            ),
        )
        .await
    }

    /// Every environment of the repository, page by page.
    pub async fn get_all_environments(
        &self,
        repo: &Repo,
    ) -> Result<Vec<Environment>, ProviderError> {
        self.api
            .collect(
                "repos/get-all-environments",
                &self.url(&format!("{}/environments", repo.path())),
                None,
                |p: EnvironmentsPage| PageOf {
                    items: p.environments,
                    total: p.total_count,
                },
                |e| e.id.to_string(),
            )
            .await
    }

    pub async fn list_deployments(
        &self,
        repo: &Repo,
        environment: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<Deployment>, ProviderError> {
        let q: Vec<(&str, String)> = environment
            .map(|e| ("environment", e.to_string()))
            .into_iter()
            .collect();
        let url = with_query(&self.url(&format!("{}/deployments", repo.path())), &q);
        self.api
            .collect(
                "repos/list-deployments",
                &url,
                limit,
                |items: Vec<Deployment>| PageOf { items, total: None },
                |d| d.id.to_string(),
            )
            .await
    }

    pub async fn list_deployment_statuses(
        &self,
        repo: &Repo,
        deployment_id: u64,
    ) -> Result<Vec<DeploymentStatus>, ProviderError> {
        let url = self.url(&format!(
            "{}/deployments/{deployment_id}/statuses",
            repo.path()
        ));
        self.api
            .collect(
                "repos/list-deployment-statuses",
                &url,
                None,
                |items: Vec<DeploymentStatus>| PageOf { items, total: None },
                |s| s.id.to_string(),
            )
            .await
    }

    /// A text file of the repository at `reference` (default branch if `None`).
    pub async fn get_content(
        &self,
        repo: &Repo,
        path: &str,
        reference: Option<&str>,
    ) -> Result<RepoFile, ProviderError> {
        let op = "repos/get-content";
        let encoded_path: Vec<String> = path.split('/').map(seg).collect();
        let q: Vec<(&str, String)> = reference
            .map(|r| ("ref", r.to_string()))
            .into_iter()
            .collect();
        let url = with_query(
            &self.url(&format!(
                "{}/contents/{}",
                repo.path(),
                encoded_path.join("/")
            )),
            &q,
        );
        let file: ContentFile = self.api.get(op, &url).await?;
        let malformed = |detail: String| {
            ProviderError::new(Vendor::GitHub, op, None, ErrorKind::Malformed { detail })
        };
        if file.kind != "file" || file.encoding != "base64" {
            return Err(malformed(format!(
                "{path} is a {} ({}), not a base64 file",
                file.kind, file.encoding
            )));
        }
        let compact: String = file
            .content
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| malformed(format!("content of {path} is not base64: {e}")))?;
        let text =
            String::from_utf8(bytes).map_err(|_| malformed(format!("{path} is not UTF-8 text")))?;
        Ok(RepoFile {
            path: file.path,
            sha: file.sha,
            text,
        })
    }

    pub async fn get_branch(&self, repo: &Repo, branch: &str) -> Result<Branch, ProviderError> {
        self.api
            .get(
                "repos/get-branch",
                &self.url(&format!("{}/branches/{}", repo.path(), seg(branch))),
            )
            .await
    }

    /// How `head` compares with `base` (`ahead_by` commits not yet in base).
    pub async fn compare_commits(
        &self,
        repo: &Repo,
        base: &str,
        head: &str,
    ) -> Result<Comparison, ProviderError> {
        let url = self.url(&format!(
            "{}/compare/{}...{}",
            repo.path(),
            seg(base),
            seg(head)
        ));
        self.api
            .get("repos/compare-commits-with-basehead", &url)
            .await
    }

    pub async fn get_commit(
        &self,
        repo: &Repo,
        reference: &str,
    ) -> Result<CommitSummary, ProviderError> {
        self.api
            .get(
                "repos/get-commit",
                &self.url(&format!("{}/commits/{}", repo.path(), seg(reference))),
            )
            .await
    }

    pub async fn get_authenticated_user(&self) -> Result<User, ProviderError> {
        self.api
            .get("users/get-authenticated", &self.url("/user"))
            .await
    }

    pub async fn list_user_orgs(&self) -> Result<Vec<Org>, ProviderError> {
        self.api
            .collect(
                "orgs/list-for-authenticated-user",
                &self.url("/user/orgs"),
                None,
                |items: Vec<Org>| PageOf { items, total: None },
                |o| o.login.clone(),
            )
            .await
    }

    pub async fn list_user_teams(&self) -> Result<Vec<Team>, ProviderError> {
        self.api
            .collect(
                "teams/list-for-authenticated-user",
                &self.url("/user/teams"),
                None,
                |items: Vec<Team>| PageOf { items, total: None },
                |t| format!("{}/{}", t.organization.login, t.slug),
            )
            .await
    }

    /// The signed-in user's membership of `org`; `None` if not a member.
    pub async fn get_org_membership(&self, org: &str) -> Result<Option<Membership>, ProviderError> {
        let url = self.url(&format!("/user/memberships/orgs/{}", seg(org)));
        not_found_is_none(
            self.api
                .get("orgs/get-membership-for-authenticated-user", &url)
                .await,
        )
    }

    /// `username`'s membership of `org`, read with Greenroom's own token;
    /// `None` if not a member.
    pub async fn get_org_membership_for_user(
        &self,
        org: &str,
        username: &str,
    ) -> Result<Option<Membership>, ProviderError> {
        let url = self.url(&format!("/orgs/{}/memberships/{}", seg(org), seg(username)));
        not_found_is_none(self.api.get("orgs/get-membership-for-user", &url).await)
    }

    /// `username`'s membership of `org/team`; `None` if not a member.
    pub async fn get_team_membership(
        &self,
        org: &str,
        team: &str,
        username: &str,
    ) -> Result<Option<Membership>, ProviderError> {
        let url = self.url(&format!(
            "/orgs/{}/teams/{}/memberships/{}",
            seg(org),
            seg(team),
            seg(username)
        ));
        not_found_is_none(
            self.api
                .get("teams/get-membership-for-user-in-org", &url)
                .await,
        )
    }

    pub async fn rate_limit(&self) -> Result<RateLimitCore, ProviderError> {
        let o: RateLimitOverview = self
            .api
            .get("rate-limit/get", &self.url("/rate_limit"))
            .await?;
        Ok(o.rate)
    }

    /// Where to send a person to sign in.
    pub fn authorize_url(
        &self,
        client_id: &str,
        redirect_uri: &str,
        state: &str,
        scope: &str,
    ) -> String {
        with_query(
            &format!("{}/login/oauth/authorize", self.web_base),
            &[
                ("client_id", client_id.to_string()),
                ("redirect_uri", redirect_uri.to_string()),
                ("state", state.to_string()),
                ("scope", scope.to_string()),
                ("allow_signup", "false".to_string()),
            ],
        )
    }

    /// Exchanges the code GitHub sent back for the user's token.
    pub async fn exchange_code(
        &self,
        client_id: &str,
        client_secret: &Secret,
        code: &str,
        redirect_uri: &str,
    ) -> Result<Secret, ProviderError> {
        #[derive(Deserialize)]
        struct TokenAnswer {
            access_token: Option<Secret>,
            error: Option<String>,
            error_description: Option<String>,
        }
        let op = "oauth/access-token";
        let form = [
            ("client_id", client_id),
            ("client_secret", client_secret.expose()),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ];
        let body = serde_urlencoded_form(&form);
        let answer = self
            .api
            .send_form(
                op,
                &format!("{}/login/oauth/access_token", self.web_base),
                body,
            )
            .await?;
        let parsed: TokenAnswer = super::api::decode(Vendor::GitHub, op, &answer.body)?;
        match (parsed.access_token, parsed.error) {
            (Some(t), None) if !t.is_empty() => Ok(t),
            (_, err) => Err(ProviderError::new(
                Vendor::GitHub,
                op,
                None,
                ErrorKind::Rejected {
                    detail: format!(
                        "{}: {}; sign in again",
                        err.unwrap_or_else(|| "no token".into()),
                        parsed.error_description.unwrap_or_default()
                    ),
                },
            )),
        }
    }
}

fn serde_urlencoded_form(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn not_found_is_none<T>(r: Result<T, ProviderError>) -> Result<Option<T>, ProviderError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if matches!(e.kind, ErrorKind::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}
