//! Configuration: defaults, then `greenroom.toml`, then `GREENROOM_*`
//! environment variables, parsed into typed values with errors that name the
//! key and say what is wrong. Vendor tokens never come from the file: only
//! from the environment, straight into [`Secret`]s.

use crate::domain::{BranchName, ProjectName, RepoSlug, Role, SiteId};
use crate::secret::Secret;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use url::Url;

/// Where the config file is looked for when neither `--config` nor
/// `GREENROOM_CONFIG` names one. A missing default file is not an error.
pub const DEFAULT_CONFIG_FILE: &str = "greenroom.toml";
/// Environment variables with the `GREENROOM_` prefix that are not config keys.
const NON_CONFIG_ENV: &[&str] = &[
    "CONFIG",
    "SANDBOX_WORLD",
    "SANDBOX_URL",
    "SESSION_KEY",
    "FINGERPRINT_KEY",
];

/// Whether Greenroom talks to the real vendors or to the embedded sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Sandbox,
    Live,
}

/// `mode` as written in the file: `auto` picks sandbox when no vendor token is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ModeSetting {
    #[default]
    Auto,
    Sandbox,
    Live,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

/// How "deploy develop to staging" is carried out for a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DeployMethod {
    /// `workflow_dispatch` of the project's workflow on the staging branch.
    #[default]
    WorkflowDispatch,
    /// A Netlify build of the staging branch on the staging site.
    NetlifyBuild,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    #[serde(default)]
    pub format: LogFormat,
    /// A tracing filter such as `info` or `greenroom=debug,info`; `RUST_LOG` wins.
    #[serde(default = "default_log_level")]
    pub level: String,
}

fn default_log_level() -> String {
    "info".into()
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Pretty,
            level: default_log_level(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetlifyProject {
    /// The account (team) slug that owns the sites; env vars are read from it.
    pub account_slug: String,
    pub staging_site_id: SiteId,
    pub production_site_id: SiteId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubProject {
    pub repo: RepoSlug,
    #[serde(default = "default_workflow")]
    pub workflow: String,
    #[serde(default = "default_deploy_job")]
    pub deploy_job: String,
    #[serde(default = "default_staging_branch")]
    pub staging_branch: BranchName,
    #[serde(default = "default_staging_environment")]
    pub staging_environment: String,
    #[serde(default = "default_production_environment")]
    pub production_environment: String,
}

fn default_workflow() -> String {
    "ci.yml".into()
}
fn default_deploy_job() -> String {
    "deploy-staging".into()
}
fn default_staging_branch() -> BranchName {
    BranchName::try_from("develop".to_string()).expect("constant is a valid branch")
}
fn default_staging_environment() -> String {
    "staging".into()
}
fn default_production_environment() -> String {
    "production".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupabaseProject {
    pub project_ref: String,
}

/// One web app Greenroom watches: its Netlify sites, GitHub repo and Supabase project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub name: ProjectName,
    #[serde(default)]
    pub staging_url: Option<Url>,
    #[serde(default)]
    pub production_url: Option<Url>,
    #[serde(default)]
    pub deploy_method: DeployMethod,
    pub netlify: NetlifyProject,
    pub github: GithubProject,
    #[serde(default)]
    pub supabase: Option<SupabaseProject>,
    #[serde(default)]
    pub secrets: SecretsPolicy,
}

/// `[projects.secrets]`: which keys must exist where. Without `required`
/// the playbook's defaults apply; see `greenroom.example.toml`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsPolicy {
    /// Replaces the defaults when given (an empty list requires nothing).
    #[serde(default)]
    pub required: Option<Vec<RequiredSecret>>,
    /// Keys whose readable values must be the same everywhere they are set.
    /// Default: `["DEFAULT_ORGANIZATION_ID"]`.
    #[serde(default)]
    pub consistent: Option<Vec<String>>,
    /// Branches whose repository files are read for discovered
    /// requirements, besides the default branch. Default: the staging branch.
    #[serde(default)]
    pub read_branches: Option<Vec<String>>,
}

/// One required key and the locations it must be in, such as
/// `{ key = "SUPABASE_URL", in = ["netlify:production", "env-local"] }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredSecret {
    pub key: String,
    #[serde(rename = "in")]
    pub locations: Vec<String>,
}

/// The config file's shape. Every key is documented in `greenroom.example.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: SocketAddr,
    #[serde(default)]
    public_url: Option<Url>,
    data_dir: PathBuf,
    #[serde(default)]
    database_url: Option<String>,
    #[serde(default)]
    site_dir: Option<PathBuf>,
    #[serde(default)]
    mode: ModeSetting,
    #[serde(default)]
    log: LogConfig,
    /// How long a rendered anonymous page may be served again, in ms; 0 = off.
    page_cache_ms: u64,
    /// How long a vendor call may take before Greenroom gives up on it, in ms.
    vendor_timeout_ms: u64,
    #[serde(default)]
    vendors: VendorUrls,
    #[serde(default)]
    auth: AuthFile,
    #[serde(default)]
    sync: SyncConfig,
    #[serde(default)]
    proxy: crate::client_ip::ProxyConfig,
    #[serde(default)]
    limits: crate::limits::LimitsConfig,
    #[serde(default)]
    branches: BranchesConfig,
    #[serde(default)]
    artifacts: ArtifactsConfig,
    #[serde(default)]
    projects: Vec<Project>,
}

/// `[artifacts]`: the caps a run's artifact is opened under, and how much
/// of the data directory downloaded artifacts may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArtifactsConfig {
    /// The largest artifact downloaded, in MB.
    pub download_mb: u64,
    /// The most files one artifact may hold.
    pub max_entries: usize,
    /// The most all of an artifact's files may decompress to, in MB.
    pub total_mb: u64,
    /// The most one file may expand over its compressed size (100 = 100×).
    pub max_ratio: u64,
    /// The most downloaded artifacts kept under the data directory, in MB;
    /// those opened least recently are removed first.
    pub cache_mb: u64,
}

impl Default for ArtifactsConfig {
    fn default() -> Self {
        Self {
            download_mb: 50,
            max_entries: 5_000,
            total_mb: 200,
            max_ratio: 100,
            cache_mb: 1_024,
        }
    }
}

impl ArtifactsConfig {
    pub fn limits(&self) -> crate::artifacts::Limits {
        const MB: u64 = 1024 * 1024;
        crate::artifacts::Limits {
            download_bytes: self.download_mb.saturating_mul(MB),
            entries: self.max_entries,
            total_bytes: self.total_mb.saturating_mul(MB),
            ratio: self.max_ratio,
        }
    }

    pub fn cache_bytes(&self) -> u64 {
        self.cache_mb.saturating_mul(1024 * 1024)
    }
}

/// `[branches]`: when a Supabase branch needs attention and what branch
/// compute costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BranchesConfig {
    /// A branch in progress this long with no change is called stuck.
    pub stuck_after_minutes: u64,
    /// A preview branch older than this, whose git branch had no commit in
    /// as long, is called forgotten.
    pub stale_preview_days: u64,
    /// The compute size branches run on (Supabase's default is micro).
    pub compute_size: String,
    /// USD per hour of each compute size (Supabase's price list).
    pub usd_per_hour: BTreeMap<String, f64>,
}

impl Default for BranchesConfig {
    fn default() -> Self {
        let prices = crate::branches::PriceTable::default();
        Self {
            stuck_after_minutes: 20,
            stale_preview_days: 7,
            compute_size: prices.branch_size,
            usd_per_hour: prices.usd_per_hour,
        }
    }
}

impl BranchesConfig {
    pub fn rules(&self) -> crate::branches::AttentionRules {
        crate::branches::AttentionRules {
            stuck_after_ms: self.stuck_after_minutes as i64 * 60_000,
            stale_preview_after_ms: self.stale_preview_days as i64 * 86_400_000,
        }
    }

    pub fn prices(&self) -> crate::branches::PriceTable {
        crate::branches::PriceTable {
            branch_size: self.compute_size.clone(),
            usd_per_hour: self.usd_per_hour.clone(),
        }
    }
}

/// `[sync]`: how the background sync keeps the deploy cache current.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncConfig {
    /// Whether this instance syncs at all (several instances share a lease,
    /// so leaving it on everywhere is right; off is for read-only replicas).
    pub enabled: bool,
    /// Seconds between full passes over every project (new deploys and runs).
    pub interval_secs: u64,
    /// Milliseconds between checks of deploys and runs still in progress;
    /// the calls scale with what is in progress, never with viewers.
    pub watch_interval_ms: u64,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            interval_secs: 30,
            watch_interval_ms: 1000,
        }
    }
}

/// `[auth]` as written: who may sign in and with what role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct AuthFile {
    org: Option<String>,
    team_roles: BTreeMap<String, Role>,
    default_role: DefaultRole,
    membership_check_secs: u64,
    session_idle_secs: u64,
    session_absolute_secs: u64,
    sign_in_attempts_per_minute: u32,
}

impl Default for AuthFile {
    fn default() -> Self {
        Self {
            org: None,
            team_roles: BTreeMap::new(),
            default_role: DefaultRole::Viewer,
            membership_check_secs: 300,
            session_idle_secs: 8 * 3600,
            session_absolute_secs: 7 * 24 * 3600,
            sign_in_attempts_per_minute: 10,
        }
    }
}

/// The role of an org member in no mapped team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DefaultRole {
    Viewer,
    /// Only members of a mapped team may sign in.
    None,
}

/// Validated `[auth]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthConfig {
    /// The GitHub organization whose members may sign in.
    pub org: String,
    /// Team slug -> role; a member of several teams gets the highest.
    pub team_roles: BTreeMap<String, Role>,
    pub default_role: Option<Role>,
    /// How often a signed-in person's membership is checked again.
    pub membership_check: std::time::Duration,
    /// A session unused this long ends.
    pub session_idle: std::time::Duration,
    /// A session ends this long after sign-in, used or not.
    pub session_absolute: std::time::Duration,
    pub sign_in_attempts_per_minute: u32,
}

/// The sandbox world's org and teams (sandbox/src/world.rs).
fn sandbox_auth(file: &AuthFile) -> (String, BTreeMap<String, Role>) {
    let org = file.org.clone().unwrap_or_else(|| "allincompassing".into());
    let teams = if file.team_roles.is_empty() {
        BTreeMap::from([
            ("staff".to_string(), Role::Viewer),
            ("developers".to_string(), Role::Deployer),
            ("platform".to_string(), Role::Admin),
        ])
    } else {
        file.team_roles.clone()
    };
    (org, teams)
}

/// Where the vendors' APIs live in live mode (`[vendors]`); the defaults are
/// the real services. In sandbox mode every one points at the sandbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VendorUrls {
    pub netlify_api_url: Url,
    pub github_api_url: Url,
    /// Where GitHub's OAuth pages are (`/login/oauth/...` hangs off it).
    pub github_web_url: Url,
    pub supabase_api_url: Url,
}

impl Default for VendorUrls {
    fn default() -> Self {
        let u = |s: &str| Url::parse(s).expect("a valid built-in URL");
        Self {
            netlify_api_url: u("https://api.netlify.com/api/v1"),
            github_api_url: u("https://api.github.com"),
            github_web_url: u("https://github.com"),
            supabase_api_url: u("https://api.supabase.com"),
        }
    }
}

impl VendorUrls {
    /// Every vendor under the sandbox at `base` (`http://127.0.0.1:PORT`).
    pub fn sandbox(base: &str) -> Self {
        let base = base.trim_end_matches('/');
        let u =
            |path: &str| Url::parse(&format!("{base}{path}")).expect("the sandbox URL is valid");
        Self {
            netlify_api_url: u("/netlify/api/v1"),
            github_api_url: u("/github"),
            github_web_url: u("/github"),
            supabase_api_url: u("/supabase"),
        }
    }
}

impl Default for FileConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            public_url: None,
            data_dir: PathBuf::from("data"),
            database_url: None,
            site_dir: None,
            mode: ModeSetting::Auto,
            log: LogConfig::default(),
            page_cache_ms: 1000,
            vendor_timeout_ms: 20_000,
            vendors: VendorUrls::default(),
            auth: AuthFile::default(),
            sync: SyncConfig::default(),
            proxy: Default::default(),
            limits: Default::default(),
            branches: BranchesConfig::default(),
            artifacts: ArtifactsConfig::default(),
            projects: Vec::new(),
        }
    }
}

/// Vendor credentials, read only from the process environment.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub netlify_token: Option<Secret>,
    pub github_token: Option<Secret>,
    pub supabase_token: Option<Secret>,
    pub slack_webhook_url: Option<Secret>,
    pub github_oauth_client_id: Option<String>,
    pub github_oauth_client_secret: Option<Secret>,
}

impl Credentials {
    /// Reads the documented variables; an empty value counts as unset.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Self {
        let secret = |k: &str| get(k).filter(|v| !v.trim().is_empty()).map(Secret::new);
        Self {
            netlify_token: secret("NETLIFY_AUTH_TOKEN"),
            github_token: secret("GITHUB_TOKEN"),
            supabase_token: secret("SUPABASE_ACCESS_TOKEN"),
            slack_webhook_url: secret("SLACK_WEBHOOK_URL"),
            github_oauth_client_id: get("GITHUB_OAUTH_CLIENT_ID").filter(|v| !v.trim().is_empty()),
            github_oauth_client_secret: secret("GITHUB_OAUTH_CLIENT_SECRET"),
        }
    }

    fn has_vendor_token(&self) -> bool {
        self.netlify_token.is_some() || self.github_token.is_some() || self.supabase_token.is_some()
    }
}

/// Settings given on the command line; they win over file and environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub site_dir: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
}

/// Validated configuration. Its `Debug` shows the database URL without its
/// password or query (the credentials are [`Secret`]s already).
#[derive(Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub public_url: Url,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub site_dir: Option<PathBuf>,
    pub mode: Mode,
    pub log: LogConfig,
    /// Lifetime of the rendered-page cache (zero: no caching).
    pub page_cache: std::time::Duration,
    /// The total time one vendor call may take (`vendor_timeout_ms`).
    pub vendor_timeout: std::time::Duration,
    /// The vendors' API addresses for live mode.
    pub vendors: VendorUrls,
    pub auth: AuthConfig,
    pub sync: SyncConfig,
    /// Reverse proxies whose client-address header is believed (`[proxy]`).
    pub proxy: crate::client_ip::ProxyConfig,
    /// What one instance takes on at once (`[limits]`).
    pub limits: crate::limits::LimitsConfig,
    /// Branch attention rules and compute prices (`[branches]`).
    pub branches: BranchesConfig,
    /// Artifact caps and cache size (`[artifacts]`).
    pub artifacts: ArtifactsConfig,
    pub projects: Vec<Project>,
    pub credentials: Credentials,
    /// The file that was read, if any.
    pub source_file: Option<PathBuf>,
}

/// One problem with one key. `key` is the config key (`projects[0].github.repo`)
/// or the environment variable, `origin` where the value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyProblem {
    pub key: String,
    pub origin: String,
    pub problem: String,
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` ({}): {}", self.key, self.origin, self.problem)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {reason}", path.display())]
    Unreadable { path: PathBuf, reason: String },
    #[error("invalid configuration:\n{}", list(.0))]
    Invalid(Vec<KeyProblem>),
}

fn list(problems: &[KeyProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl ConfigError {
    /// The problems, for tests and for callers that want to show them one by one.
    pub fn problems(&self) -> Vec<KeyProblem> {
        match self {
            ConfigError::Invalid(p) => p.clone(),
            ConfigError::Unreadable { .. } => Vec::new(),
        }
    }
}

impl Config {
    /// Loads from `file` (or `GREENROOM_CONFIG`, or `greenroom.toml` if present),
    /// the process environment and `overrides`.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let explicit = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("GREENROOM_CONFIG").map(PathBuf::from));
        let credentials = Credentials::from_env(|k| std::env::var(k).ok());
        Self::load_with(explicit.as_deref(), overrides, credentials)
    }

    /// As [`Config::load`], with the credentials given rather than read.
    pub fn load_with(
        explicit_file: Option<&Path>,
        overrides: &Overrides,
        credentials: Credentials,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(FileConfig::default()));
        let source_file = match explicit_file {
            Some(path) => {
                // An explicitly named file must exist; figment would silently skip it.
                std::fs::metadata(path).map_err(|e| ConfigError::Unreadable {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                })?;
                Some(path.to_path_buf())
            }
            None => Path::new(DEFAULT_CONFIG_FILE)
                .exists()
                .then(|| PathBuf::from(DEFAULT_CONFIG_FILE)),
        };
        if let Some(path) = &source_file {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(
            Env::prefixed("GREENROOM_")
                .split("__")
                .ignore(NON_CONFIG_ENV),
        );
        if let Some(listen) = overrides.listen {
            figment = figment.merge(Serialized::default("listen", listen));
        }
        if let Some(dir) = &overrides.data_dir {
            figment = figment.merge(Serialized::default("data_dir", dir));
        }
        if let Some(dir) = &overrides.site_dir {
            figment = figment.merge(Serialized::default("site_dir", dir));
        }
        if let Some(format) = overrides.log_format {
            figment = figment.merge(Serialized::default("log.format", format));
        }
        let file: FileConfig = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(problems_of(e)))?;
        validate(file, credentials, source_file)
    }
}

fn validate(
    file: FileConfig,
    credentials: Credentials,
    source_file: Option<PathBuf>,
) -> Result<Config, ConfigError> {
    let mut problems = Vec::new();
    let origin = |key: &str| KeyProblem {
        key: key.to_string(),
        origin: source_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "configuration".into()),
        problem: String::new(),
    };
    let mode = match file.mode {
        ModeSetting::Sandbox => Mode::Sandbox,
        ModeSetting::Live => Mode::Live,
        ModeSetting::Auto if credentials.has_vendor_token() => Mode::Live,
        ModeSetting::Auto => Mode::Sandbox,
    };

    let database_url = match &file.database_url {
        Some(url)
            if url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://") =>
        {
            url.clone()
        }
        Some(url) => {
            let scheme = url.split(':').next().unwrap_or_default();
            problems.push(KeyProblem {
                problem: format!(
                    "unsupported database {scheme:?}: use a sqlite: path or a postgres:// URL"
                ),
                ..origin("database_url")
            });
            url.clone()
        }
        None => format!("sqlite://{}", file.data_dir.join("greenroom.db").display()),
    };

    let public_url = match (&file.public_url, mode) {
        (Some(url), _) => url.clone(),
        (None, Mode::Live) => {
            problems.push(KeyProblem {
                problem: "required in live mode: the https address people use to reach Greenroom (sign-in redirects and origin checks use it)".into(),
                ..origin("public_url")
            });
            default_public_url(file.listen)
        }
        (None, Mode::Sandbox) => default_public_url(file.listen),
    };
    // Over plain http the session cookie loses `Secure` and HSTS is off: in
    // live mode that is only acceptable on this machine's own loopback.
    if mode == Mode::Live && public_url.scheme() != "https" && !is_loopback(&public_url) {
        problems.push(KeyProblem {
            problem: format!(
                "must be https in live mode ({public_url} would send session cookies without `Secure`); http is allowed only for a loopback address such as http://127.0.0.1:3000"
            ),
            ..origin("public_url")
        });
    }
    if file.page_cache_ms > 60_000 {
        problems.push(KeyProblem {
            problem: "at most 60000 (a minute); pages would show data that old".into(),
            ..origin("page_cache_ms")
        });
    }
    if reqwest::header::HeaderName::from_bytes(file.proxy.client_ip_header.as_bytes()).is_err() {
        problems.push(KeyProblem {
            problem: "must be an HTTP header name, such as x-forwarded-for".into(),
            ..origin("proxy.client_ip_header")
        });
    }
    for (key, problem) in file.limits.problems() {
        problems.push(KeyProblem {
            problem,
            ..origin(key)
        });
    }
    if !(500..=120_000).contains(&file.vendor_timeout_ms) {
        problems.push(KeyProblem {
            problem: "must be between 500 and 120000 (milliseconds)".into(),
            ..origin("vendor_timeout_ms")
        });
    } else if file.limits.request_timeout_secs * 1000 <= file.vendor_timeout_ms {
        // Otherwise a page that waits on one vendor call is cut off (503)
        // before the call itself gives up and can say why.
        problems.push(KeyProblem {
            problem: format!(
                "must be longer than vendor_timeout_ms ({} ms), or a page waiting on a vendor is cut off first",
                file.vendor_timeout_ms
            ),
            ..origin("limits.request_timeout_secs")
        });
    }
    if !(1..=3600).contains(&file.sync.interval_secs) {
        problems.push(KeyProblem {
            problem: "must be between 1 and 3600 seconds".into(),
            ..origin("sync.interval_secs")
        });
    }
    let a = &file.artifacts;
    for (key, value, range) in [
        ("artifacts.download_mb", a.download_mb, 1..=2_048),
        ("artifacts.max_entries", a.max_entries as u64, 1..=1_000_000),
        ("artifacts.total_mb", a.total_mb, 1..=16_384),
        ("artifacts.max_ratio", a.max_ratio, 2..=10_000),
        ("artifacts.cache_mb", a.cache_mb, 1..=1_048_576),
    ] {
        if !range.contains(&value) {
            problems.push(KeyProblem {
                problem: format!("must be between {} and {}", range.start(), range.end()),
                ..origin(key)
            });
        }
    }
    if !(1..=24 * 60).contains(&file.branches.stuck_after_minutes) {
        problems.push(KeyProblem {
            problem: "must be between 1 and 1440 minutes".into(),
            ..origin("branches.stuck_after_minutes")
        });
    }
    if !(1..=365).contains(&file.branches.stale_preview_days) {
        problems.push(KeyProblem {
            problem: "must be between 1 and 365 days".into(),
            ..origin("branches.stale_preview_days")
        });
    }
    for (size, price) in &file.branches.usd_per_hour {
        if !price.is_finite() || *price < 0.0 {
            problems.push(KeyProblem {
                problem: "must be a price in USD per hour, 0 or more".into(),
                ..origin(&format!("branches.usd_per_hour.{size}"))
            });
        }
    }
    if !file
        .branches
        .usd_per_hour
        .contains_key(&file.branches.compute_size)
    {
        problems.push(KeyProblem {
            problem: format!(
                "has no price: add {:?} to [branches.usd_per_hour]",
                file.branches.compute_size
            ),
            ..origin("branches.compute_size")
        });
    }
    if !(200..=60_000).contains(&file.sync.watch_interval_ms) {
        problems.push(KeyProblem {
            problem: "must be between 200 and 60000 milliseconds".into(),
            ..origin("sync.watch_interval_ms")
        });
    }
    if !matches!(public_url.scheme(), "http" | "https") {
        problems.push(KeyProblem {
            problem: "must be an http or https URL".into(),
            ..origin("public_url")
        });
    }

    let mut seen = std::collections::HashSet::new();
    for (i, p) in file.projects.iter().enumerate() {
        if !seen.insert(p.name.as_str().to_ascii_lowercase()) {
            problems.push(KeyProblem {
                problem: format!("project name {:?} is used twice", p.name.as_str()),
                ..origin(&format!("projects[{i}].name"))
            });
        }
        for (j, r) in p.secrets.required.iter().flatten().enumerate() {
            let at = |what: &str| origin(&format!("projects[{i}].secrets.required[{j}].{what}"));
            if !crate::secrets::requirements::is_key(&r.key) {
                problems.push(KeyProblem {
                    problem: format!(
                        "{:?} is not a variable name (letters, digits and _, not starting with a digit)",
                        r.key
                    ),
                    ..at("key")
                });
            }
            if r.locations.is_empty() {
                problems.push(KeyProblem {
                    problem: "name at least one location".into(),
                    ..at("in")
                });
            }
            for l in &r.locations {
                if let Err(e) = crate::secrets::location::Target::parse(l) {
                    problems.push(KeyProblem {
                        problem: e.to_string(),
                        ..at("in")
                    });
                }
            }
        }
        if p.netlify.account_slug.trim().is_empty() {
            problems.push(KeyProblem {
                problem: "must not be empty".into(),
                ..origin(&format!("projects[{i}].netlify.account_slug"))
            });
        }
    }

    let projects = if mode == Mode::Live {
        if file.projects.is_empty() {
            problems.push(KeyProblem {
                problem: "live mode needs at least one [[projects]] entry".into(),
                ..origin("projects")
            });
        }
        let env = |key: &str, why: &str| KeyProblem {
            key: key.into(),
            origin: "environment".into(),
            problem: format!("required in live mode: {why}"),
        };
        if credentials.netlify_token.is_none() {
            problems.push(env(
                "NETLIFY_AUTH_TOKEN",
                "a Netlify personal access token for the sites' account",
            ));
        }
        if credentials.github_token.is_none() {
            problems.push(env(
                "GITHUB_TOKEN",
                "a GitHub token with actions and contents read access",
            ));
        }
        if credentials.github_oauth_client_id.is_none()
            || credentials.github_oauth_client_secret.is_none()
        {
            problems.push(env(
                "GITHUB_OAUTH_CLIENT_ID, GITHUB_OAUTH_CLIENT_SECRET",
                "a GitHub OAuth app for sign-in (callback URL: public_url + /auth/callback)",
            ));
        }
        if file.auth.org.as_deref().is_none_or(|o| o.trim().is_empty()) {
            problems.push(KeyProblem {
                problem: "required in live mode: the GitHub organization whose members may sign in"
                    .into(),
                ..origin("auth.org")
            });
        }
        if credentials.supabase_token.is_none()
            && file.projects.iter().any(|p| p.supabase.is_some())
        {
            problems.push(env(
                "SUPABASE_ACCESS_TOKEN",
                "a Supabase access token (a project has a [projects.supabase] section)",
            ));
        }
        file.projects
    } else if file.projects.is_empty() {
        vec![sandbox_project()]
    } else {
        file.projects
    };

    for (what, secs) in [
        (
            "auth.membership_check_secs",
            file.auth.membership_check_secs,
        ),
        ("auth.session_idle_secs", file.auth.session_idle_secs),
        (
            "auth.session_absolute_secs",
            file.auth.session_absolute_secs,
        ),
    ] {
        if secs == 0 {
            problems.push(KeyProblem {
                problem: "must be at least 1 (seconds)".into(),
                ..origin(what)
            });
        }
    }
    if file.auth.sign_in_attempts_per_minute == 0 {
        problems.push(KeyProblem {
            problem: "must be at least 1".into(),
            ..origin("auth.sign_in_attempts_per_minute")
        });
    }
    let (org, team_roles) = if mode == Mode::Live {
        (
            file.auth.org.clone().unwrap_or_default(),
            file.auth.team_roles.clone(),
        )
    } else {
        sandbox_auth(&file.auth)
    };
    let auth = AuthConfig {
        org,
        team_roles,
        default_role: match file.auth.default_role {
            DefaultRole::Viewer => Some(Role::Viewer),
            DefaultRole::None => None,
        },
        membership_check: std::time::Duration::from_secs(file.auth.membership_check_secs),
        session_idle: std::time::Duration::from_secs(file.auth.session_idle_secs),
        session_absolute: std::time::Duration::from_secs(file.auth.session_absolute_secs),
        sign_in_attempts_per_minute: file.auth.sign_in_attempts_per_minute,
    };

    if !problems.is_empty() {
        return Err(ConfigError::Invalid(problems));
    }
    Ok(Config {
        listen: file.listen,
        public_url,
        data_dir: file.data_dir,
        database_url,
        site_dir: file.site_dir,
        mode,
        log: file.log,
        page_cache: std::time::Duration::from_millis(file.page_cache_ms),
        vendor_timeout: std::time::Duration::from_millis(file.vendor_timeout_ms),
        vendors: file.vendors,
        auth,
        sync: file.sync,
        proxy: file.proxy,
        limits: file.limits,
        branches: file.branches,
        artifacts: file.artifacts,
        projects,
        credentials,
        source_file,
    })
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &crate::storage::redact_url(&self.database_url),
            )
            .field("site_dir", &self.site_dir)
            .field("mode", &self.mode)
            .field("log", &self.log)
            .field("page_cache", &self.page_cache)
            .field("vendor_timeout", &self.vendor_timeout)
            .field(
                "vendors",
                &[
                    &self.vendors.netlify_api_url,
                    &self.vendors.github_api_url,
                    &self.vendors.github_web_url,
                    &self.vendors.supabase_api_url,
                ]
                .map(|u| crate::storage::redact_url(&without_userinfo(u))),
            )
            .field("auth", &self.auth)
            .field("sync", &self.sync)
            .field("proxy", &self.proxy)
            .field("limits", &self.limits)
            .field("projects", &self.projects)
            .field("credentials", &self.credentials)
            .field("source_file", &self.source_file)
            .finish()
    }
}

/// A URL without its user and password (a proxy's, say), for printing.
fn without_userinfo(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn default_public_url(listen: SocketAddr) -> Url {
    Url::parse(&format!("http://{listen}")).expect("a socket address makes a valid URL")
}

/// The project the sandbox world is seeded with; used when sandbox mode runs
/// without any `[[projects]]`, so a newcomer sees a working console at once.
pub fn sandbox_project() -> Project {
    Project {
        name: "AllIncompassing".parse().expect("constant is valid"),
        staging_url: Url::parse("https://staging--allincompassing.netlify.app").ok(),
        production_url: Url::parse("https://allincompassing.netlify.app").ok(),
        deploy_method: DeployMethod::WorkflowDispatch,
        netlify: NetlifyProject {
            account_slug: "allincompassing".into(),
            staging_site_id: "5a1b7c2e-0000-4000-8000-00000000st01"
                .parse()
                .expect("constant is valid"),
            production_site_id: "5a1b7c2e-0000-4000-8000-00000000pr01"
                .parse()
                .expect("constant is valid"),
        },
        github: GithubProject {
            repo: "allincompassing/allincompassing"
                .parse()
                .expect("constant is valid"),
            workflow: default_workflow(),
            deploy_job: default_deploy_job(),
            staging_branch: default_staging_branch(),
            staging_environment: default_staging_environment(),
            production_environment: default_production_environment(),
        },
        supabase: Some(SupabaseProject {
            project_ref: "wnnjeqheqxxyrgsjmygy".into(),
        }),
        secrets: SecretsPolicy::default(),
    }
}

/// Turns figment's errors into one [`KeyProblem`] per bad key.
fn problems_of(error: figment::Error) -> Vec<KeyProblem> {
    use figment::error::Kind;
    error
        .into_iter()
        .map(|e| {
            let mut path = e.path.clone();
            let problem = match &e.kind {
                Kind::UnknownField(field, expected) => {
                    if path.last() != Some(field) {
                        path.push(field.clone());
                    }
                    if expected.is_empty() {
                        "unknown key".to_string()
                    } else {
                        format!("unknown key; expected one of: {}", expected.join(", "))
                    }
                }
                Kind::MissingField(field) => {
                    if path.last().map(String::as_str) != Some(field.as_ref()) {
                        path.push(field.to_string());
                    }
                    "missing required key".to_string()
                }
                Kind::InvalidType(actual, expected) => {
                    format!("wrong type: found {actual}, expected {expected}")
                }
                other => other.to_string(),
            };
            let origin = match &e.metadata {
                Some(md) if md.name.contains("environment") => "environment".to_string(),
                Some(md) => match &md.source {
                    Some(figment::Source::File(p)) => p.display().to_string(),
                    _ => md.name.to_string(),
                },
                None => "configuration".to_string(),
            };
            let key = if origin == "environment" {
                format!("GREENROOM_{}", path.join("__").to_ascii_uppercase())
            } else {
                format_key(&path)
            };
            KeyProblem {
                key,
                origin,
                problem,
            }
        })
        .collect()
}

fn format_key(path: &[String]) -> String {
    let mut out = String::new();
    for part in path {
        if part.chars().all(|c| c.is_ascii_digit()) && !out.is_empty() {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(part);
        }
    }
    out
}
