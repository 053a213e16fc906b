//! How the Netlify, GitHub and Supabase clients behave when things go wrong,
//! against the sandbox's fault injection over real HTTP: retries then
//! success, retry budget exhausted, rate limits waited out (measured),
//! timeouts, malformed and incomplete answers, pagination to the end and
//! its guards, and GitHub's conditional requests. No token ever appears in
//! an error's text.

use greenroom::providers::api::{decode, PageLimits, RetryPolicy};
use greenroom::providers::github::{GitHubClient, Repo, RunFilter};
use greenroom::providers::http::Timeouts;
use greenroom::providers::netlify::{Deploy, DeployFilter, NetlifyClient};
use greenroom::providers::supabase::SupabaseClient;
use greenroom::providers::{ErrorKind, Vendor};
use greenroom::Secret;
use greenroom_sandbox::request_log::{LoggedRequest, RequestFilter};
use greenroom_sandbox::{start, RunningSandbox, World};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const NETLIFY_TOKEN: &str = "nf-canary-token-5b1e";
const GITHUB_TOKEN: &str = "ghp-canary-token-77aa";

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
        max_rate_limit_wait: Duration::from_secs(5),
    }
}

struct Setup {
    sb: RunningSandbox,
    world: World,
}

impl Setup {
    async fn new() -> Self {
        let sb = start("127.0.0.1:0".parse().unwrap(), World::seeded(3))
            .await
            .unwrap();
        let world = sb.state.sim.lock().unwrap().ids.clone();
        Self { sb, world }
    }

    fn netlify(&self, timeouts: Timeouts) -> NetlifyClient {
        NetlifyClient::new(
            &format!("{}/netlify/api/v1", self.sb.base_url()),
            Secret::new(NETLIFY_TOKEN),
            timeouts,
        )
        .unwrap()
        .with_retry(fast_retry())
    }

    fn github(&self) -> GitHubClient {
        let base = format!("{}/github", self.sb.base_url());
        GitHubClient::new(&base, &base, Secret::new(GITHUB_TOKEN), Timeouts::default())
            .unwrap()
            .with_retry(fast_retry())
    }

    fn repo(&self) -> Repo {
        Repo::new(&self.world.github.owner, &self.world.github.repo)
    }

    fn site(&self) -> &str {
        &self.world.netlify.staging_site_id
    }

    async fn fault(&self, spec: Value) {
        let res = reqwest::Client::new()
            .post(format!("{}/__sandbox/faults", self.sb.base_url()))
            .json(&spec)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }

    fn requests(&self, path: &str) -> Vec<LoggedRequest> {
        self.sb.state.requests.list(&RequestFilter {
            path: Some(path.into()),
            ..Default::default()
        })
    }

    /// A deploy id that exists.
    async fn some_deploy(&self) -> Deploy {
        let list = self
            .netlify(Timeouts::default())
            .list_site_deploys(self.site(), &DeployFilter::default(), Some(1))
            .await
            .unwrap();
        self.sb.state.requests.clear();
        list.into_iter().next().unwrap()
    }
}

fn no_secret_in(text: &str) {
    for t in [NETLIFY_TOKEN, GITHUB_TOKEN] {
        assert!(!text.contains(t), "a token leaked into: {text}");
    }
}

#[tokio::test]
async fn a_read_is_retried_after_server_errors_then_succeeds() {
    let s = Setup::new().await;
    let d = s.some_deploy().await;
    s.fault(json!({ "route": "GET /netlify/api/v1/sites/*/deploys/*", "kind": "status", "status": 503, "count": 2 }))
        .await;
    let got = s
        .netlify(Timeouts::default())
        .get_site_deploy(s.site(), &d.id)
        .await
        .unwrap();
    assert_eq!(got.id, d.id);
    let tries: Vec<u16> = s
        .requests("/netlify/api/v1/sites")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(tries, vec![503, 503, 200]);
    s.sb.stop().await;
}

#[tokio::test]
async fn an_exhausted_retry_budget_gives_a_clear_error() {
    let s = Setup::new().await;
    let d = s.some_deploy().await;
    s.fault(json!({ "route": "/netlify/api/v1/sites/*", "kind": "status", "status": 502 }))
        .await;
    let err = s
        .netlify(Timeouts::default())
        .get_site_deploy(s.site(), &d.id)
        .await
        .unwrap_err();
    assert_eq!(
        (err.vendor, err.operation, err.status),
        (Vendor::Netlify, "getSiteDeploy", Some(502))
    );
    assert_eq!(err.kind, ErrorKind::Unavailable);
    let text = err.to_string();
    assert!(
        text.contains("Netlify") && text.contains("getSiteDeploy") && text.contains("try again"),
        "{text}"
    );
    no_secret_in(&text);
    assert_eq!(
        s.requests("/netlify/api/v1/sites").len(),
        3,
        "three tries, no more"
    );
    s.sb.stop().await;
}

#[tokio::test]
async fn mutations_are_never_retried() {
    let s = Setup::new().await;
    let d = s.some_deploy().await;
    s.fault(json!({ "route": "POST /netlify/*", "kind": "status", "status": 503, "count": 1 }))
        .await;
    let err = s
        .netlify(Timeouts::default())
        .restore_site_deploy(s.site(), &d.id)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unavailable);
    assert_eq!(s.requests("/netlify/api/v1/sites").len(), 1);
    s.sb.stop().await;
}

#[tokio::test]
async fn a_429_is_waited_out_for_as_long_as_retry_after_says() {
    let s = Setup::new().await;
    let d = s.some_deploy().await;
    s.fault(json!({ "route": "GET /netlify/*", "kind": "rate_limit", "retry_after_secs": 1, "count": 1 }))
        .await;
    let started = Instant::now();
    s.netlify(Timeouts::default())
        .get_site_deploy(s.site(), &d.id)
        .await
        .unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1000),
        "waited only {waited:?}"
    );
    assert!(waited < Duration::from_secs(4), "waited {waited:?}");
    let tries: Vec<(u16, i64)> = s
        .requests("/netlify/api/v1/sites")
        .iter()
        .map(|r| (r.status, r.at_ms))
        .collect();
    assert_eq!(tries.len(), 2);
    assert_eq!(tries[0].0, 429);
    assert!(
        tries[1].1 - tries[0].1 >= 1000,
        "the retry came {} ms later",
        tries[1].1 - tries[0].1
    );
    s.sb.stop().await;
}

#[tokio::test]
async fn a_rate_limit_longer_than_the_client_waits_is_an_error_at_once() {
    let s = Setup::new().await;
    s.fault(json!({ "route": "GET /github/*", "kind": "rate_limit", "retry_after_secs": 3600, "status": 403 }))
        .await;
    let started = Instant::now();
    let err = s.github().list_repo_secrets(&s.repo()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        err.kind,
        ErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(3600))
        }
    );
    let text = err.to_string();
    assert!(
        text.contains("GitHub is rate-limiting actions/list-repo-secrets"),
        "{text}"
    );
    assert!(text.contains("3600 s"), "{text}");
    no_secret_in(&text);
    s.sb.stop().await;
}

#[tokio::test]
async fn githubs_secondary_rate_limit_is_honoured_then_the_read_succeeds() {
    let s = Setup::new().await;
    s.fault(json!({ "route": "GET /github/*", "kind": "rate_limit", "retry_after_secs": 1, "status": 403, "count": 1 }))
        .await;
    let started = Instant::now();
    let secrets = s.github().list_repo_secrets(&s.repo()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(!secrets.is_empty());
    s.sb.stop().await;
}

#[tokio::test]
async fn a_timeout_is_reported_as_one() {
    let s = Setup::new().await;
    let d = s.some_deploy().await;
    s.fault(json!({ "route": "GET /netlify/*", "kind": "timeout" }))
        .await;
    let timeouts = Timeouts {
        connect: Duration::from_secs(1),
        total: Duration::from_millis(300),
    };
    let started = Instant::now();
    let err = s
        .netlify(timeouts)
        .get_site_deploy(s.site(), &d.id)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "three 300 ms tries and short waits"
    );
    assert!(
        err.to_string()
            .contains("did not answer getSiteDeploy in time"),
        "{err}"
    );
    s.sb.stop().await;
}

#[tokio::test]
async fn a_malformed_answer_names_vendor_and_operation_and_is_not_retried() {
    let s = Setup::new().await;
    s.fault(json!({ "route": "GET /supabase/*", "kind": "malformed" }))
        .await;
    let client = SupabaseClient::new(
        &format!("{}/supabase", s.sb.base_url()),
        Secret::new("sb"),
        Timeouts::default(),
    )
    .unwrap()
    .with_retry(fast_retry());
    let err = client
        .list_branches(&s.world.supabase.project_ref)
        .await
        .unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Malformed { .. }));
    let text = err.to_string();
    assert!(
        text.starts_with("Supabase sent an unexpected answer to v1-list-all-branches"),
        "{text}"
    );
    assert_eq!(s.requests("/supabase").len(), 1);
    s.sb.stop().await;
}

#[test]
fn a_missing_required_field_is_named_with_its_path() {
    let body = br#"[{"id":"d1","site_id":"s","state":"ready","created_at":"x"},{"id":"d2","site_id":"s","created_at":"x"}]"#;
    let err = decode::<Vec<Deploy>>(Vendor::Netlify, "listSiteDeploys", body).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("Netlify") && text.contains("listSiteDeploys"),
        "{text}"
    );
    assert!(
        text.contains("[1]") && text.contains("missing field `state`"),
        "{text}"
    );
}

#[tokio::test]
async fn a_bad_token_says_which_variable_to_check() {
    let s = Setup::new().await;
    let client = NetlifyClient::new(
        &format!("{}/netlify/api/v1", s.sb.base_url()),
        Secret::new(""),
        Timeouts::default(),
    )
    .unwrap();
    let err = client.get_site(s.site()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    assert!(
        err.to_string().contains("check NETLIFY_AUTH_TOKEN"),
        "{err}"
    );
    s.sb.stop().await;
}

#[tokio::test]
async fn pagination_follows_every_page_to_the_end() {
    let s = Setup::new().await;
    let expected = {
        let sim = s.sb.state.sim.lock().unwrap();
        let now = sim.now();
        sim.deploys
            .iter()
            .filter(|d| d.site_id == s.site() && d.created_ms <= now)
            .count()
    };
    let client = s.netlify(Timeouts::default()).with_page_limits(PageLimits {
        per_page: 50,
        max_pages: 100,
    });
    let all = client
        .list_site_deploys(s.site(), &DeployFilter::default(), None)
        .await
        .unwrap();
    assert_eq!(all.len(), expected);
    assert!(expected > 500, "a year of staging deploys");
    let pages = s.requests("/netlify/api/v1/sites").len();
    assert_eq!(pages, expected.div_ceil(50));
    let mut ids: Vec<&str> = all.iter().map(|d| d.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), expected, "no deploy twice");

    let runs = s
        .github()
        .with_page_limits(PageLimits {
            per_page: 100,
            max_pages: 100,
        })
        .list_workflow_runs(&s.repo(), "ci.yml", &RunFilter::default(), None)
        .await
        .unwrap();
    assert!(runs.len() > 500);
    assert!(
        runs.windows(2).all(|w| w[0].created_at >= w[1].created_at),
        "newest first"
    );
    s.sb.stop().await;
}

#[tokio::test]
async fn a_page_that_repeats_an_earlier_one_stops_the_list_with_an_error() {
    let s = Setup::new().await;
    s.fault(json!({ "route": "GET /github/repos/*/runs", "kind": "repeated_page" }))
        .await;
    let err = s
        .github()
        .list_workflow_runs(&s.repo(), "ci.yml", &RunFilter::default(), None)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("page 2 repeats items of an earlier page"),
        "{err}"
    );
    assert_eq!(s.requests("/github/repos").len(), 2);
    s.sb.stop().await;
}

#[tokio::test]
async fn a_truncated_page_is_caught_by_the_vendors_own_total() {
    let s = Setup::new().await;
    s.fault(json!({ "route": "GET /github/repos/*/runs", "kind": "truncated_pagination", "keep": 10, "count": 1 }))
        .await;
    let err = s
        .github()
        .list_workflow_runs(&s.repo(), "ci.yml", &RunFilter::default(), None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("claims"), "{err}");
    s.sb.stop().await;
}

#[tokio::test]
async fn pagination_stops_at_its_cap() {
    let s = Setup::new().await;
    let client = s.netlify(Timeouts::default()).with_page_limits(PageLimits {
        per_page: 5,
        max_pages: 3,
    });
    let err = client
        .list_site_deploys(s.site(), &DeployFilter::default(), None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("more than 3 pages"), "{err}");
    assert_eq!(s.requests("/netlify/api/v1/sites").len(), 3);
    // A limit below the cap is not an error.
    let some = client
        .list_site_deploys(s.site(), &DeployFilter::default(), Some(12))
        .await
        .unwrap();
    assert_eq!(some.len(), 12);
    s.sb.stop().await;
}

#[tokio::test]
async fn an_unchanged_github_answer_comes_back_as_304_and_costs_no_rate_limit() {
    let s = Setup::new().await;
    let gh = s.github();
    let first = gh.list_repo_secrets(&s.repo()).await.unwrap();
    let before = gh.rate_limit().await.unwrap();
    let second = gh.list_repo_secrets(&s.repo()).await.unwrap();
    assert_eq!(first, second, "the stored answer is served");
    let log = s.requests("/github/repos");
    assert_eq!(log.len(), 2);
    assert!(!log[0].conditional && log[0].status == 200);
    assert!(log[1].conditional && log[1].status == 304, "{:?}", log[1]);
    let after = gh.rate_limit().await.unwrap();
    assert_eq!(after.remaining, before.remaining, "a 304 is free");
    s.sb.stop().await;
}

#[tokio::test]
async fn sandbox_mode_points_every_client_at_the_sandbox() {
    use greenroom::config::{Config, Overrides};
    let s = Setup::new().await;
    let config = Config::load_with(
        None,
        &Overrides::default(),
        greenroom::config::Credentials::default(),
    )
    .expect("no file and no tokens is sandbox mode");
    assert_eq!(config.mode, greenroom::config::Mode::Sandbox);
    let clients =
        greenroom::providers::VendorClients::from_config(&config, Some(&s.sb.base_url())).unwrap();
    let site = clients.netlify.get_site(s.site()).await.unwrap();
    assert_eq!(site.id, s.site());
    clients.github.list_repo_secrets(&s.repo()).await.unwrap();
    clients
        .supabase
        .list_branches(&s.world.supabase.project_ref)
        .await
        .unwrap();
    let log = s.sb.state.requests.list(&RequestFilter::default());
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|r| r
        .user_agent
        .as_deref()
        .is_some_and(|u| u.starts_with("Greenroom/"))));
    s.sb.stop().await;
}
