//! Deploy sync and the on-call actions, end to end against the sandbox over
//! real HTTP with a real database: the first load and incremental passes,
//! linking deploys to runs, a vendor outage, the sync lease handed over
//! between two instances on one PostgreSQL, and every action with its bad
//! paths (nothing to redeploy, a deploy already building, a deleted deploy,
//! a vendor down, a token without permission, a Slack webhook that fails).

use greenroom::actions::ActionKind;
use greenroom::actions::{ActionError, Actions, Actor, Started};
use greenroom::config::{sandbox_project, SyncConfig};
use greenroom::domain::DeployState;
use greenroom::notify::Notifier;
use greenroom::providers::http::Timeouts;
use greenroom::providers::slack::SlackWebhook;
use greenroom::providers::VendorClients;
use greenroom::storage::{
    now_ms, ActionState, AuditFilter, AuditOutcome, Claim, DeployFilter, NewAction, NewAuditEvent,
    SiteRole,
};
use greenroom::sync::{SyncTarget, Syncer};
use greenroom::{Config, Secret, Storage};
use greenroom_sandbox::request_log::RequestFilter;
use greenroom_sandbox::{start, RunningSandbox, World};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/db.rs"]
mod db;

struct Rig {
    sb: RunningSandbox,
    storage: Storage,
    target: SyncTarget,
    syncer: Arc<Syncer>,
    actions: Actions,
}

fn sandbox_config(vendor_timeout_ms: u64) -> Config {
    let dir = std::env::temp_dir();
    let file = dir.join(format!(
        "greenroom-deploys-test-{}-{vendor_timeout_ms}.toml",
        std::process::id()
    ));
    std::fs::write(
        &file,
        format!("mode = \"sandbox\"\nvendor_timeout_ms = {vendor_timeout_ms}\n"),
    )
    .unwrap();
    Config::load_with(
        Some(&file),
        &Default::default(),
        greenroom::config::Credentials::default(),
    )
    .unwrap()
}

/// How long a silent owner keeps its actions, and how long the vendor must
/// show no trace of an unanswered request, in these tests.
const LEASE: Duration = Duration::from_millis(600);
const QUIET: Duration = Duration::from_secs(2);

impl Rig {
    async fn new(storage: Storage) -> Self {
        Self::with_timeout(storage, 20_000).await
    }

    /// A rig whose vendor calls give up after `vendor_timeout_ms`.
    async fn with_timeout(storage: Storage, vendor_timeout_ms: u64) -> Self {
        let sb = start("127.0.0.1:0".parse().unwrap(), World::seeded(1))
            .await
            .unwrap();
        let clients = Arc::new(
            VendorClients::from_config(&sandbox_config(vendor_timeout_ms), Some(&sb.base_url()))
                .unwrap(),
        );
        let project = sandbox_project();
        let row = storage
            .upsert_project(project.name.as_str(), "{}")
            .await
            .unwrap();
        let target = SyncTarget {
            project_id: row.id,
            project,
        };
        let slack = SlackWebhook::new(
            greenroom::providers::http::client(Timeouts::default()).unwrap(),
            Secret::new(format!("{}/slack/services/T0/B0/test", sb.base_url())),
        );
        let notifier = Notifier::new(storage.clone(), Some(slack), "http://greenroom.test");
        let syncer = Arc::new(Syncer::new(
            storage.clone(),
            clients.clone(),
            notifier.clone(),
            vec![target.clone()],
        ));
        let actions = Actions::new(
            storage.clone(),
            clients,
            notifier,
            syncer.clone(),
            Duration::from_millis(100),
        )
        .with_timing(LEASE, QUIET);
        Self {
            sb,
            storage,
            target,
            syncer,
            actions,
        }
    }

    /// Another instance on the same database and sandbox, with clients of
    /// its own (so that its connections live and die with its runtime).
    fn another_instance(&self) -> Actions {
        let clients = Arc::new(
            VendorClients::from_config(&sandbox_config(20_000), Some(&self.sb.base_url())).unwrap(),
        );
        let slack = SlackWebhook::new(
            greenroom::providers::http::client(Timeouts::default()).unwrap(),
            Secret::new(format!("{}/slack/services/T0/B0/test", self.sb.base_url())),
        );
        let notifier = Notifier::new(self.storage.clone(), Some(slack), "http://greenroom.test");
        let syncer = Arc::new(Syncer::new(
            self.storage.clone(),
            clients.clone(),
            notifier.clone(),
            vec![self.target.clone()],
        ));
        Actions::new(
            self.storage.clone(),
            clients,
            notifier,
            syncer,
            Duration::from_millis(100),
        )
        .with_timing(LEASE, QUIET)
    }

    /// The newest audit row of an action kind.
    async fn audit_of(&self, kind: ActionKind) -> greenroom::storage::AuditEvent {
        self.storage
            .list_audit(
                &AuditFilter {
                    action: Some(format!("action.{}", kind.as_str())),
                    ..Default::default()
                },
                None,
                1,
            )
            .await
            .unwrap()
            .remove(0)
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let res = reqwest::Client::new()
            .request(method, format!("{}{path}", self.sb.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.json().await.unwrap_or(Value::Null)
    }

    async fn fault(&self, spec: Value) {
        self.control(reqwest::Method::POST, "/__sandbox/faults", spec)
            .await;
    }

    /// Starts the workflow on develop the way someone outside Greenroom would.
    async fn dispatch_develop(&self) {
        let res = reqwest::Client::new()
            .post(format!(
                "{}/github/repos/allincompassing/allincompassing/actions/workflows/ci.yml/dispatches",
                self.sb.base_url()
            ))
            .bearer_auth("t")
            .json(&json!({"ref": "develop"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204);
    }

    /// Forces the next `count` outcomes of `target` (`netlify`, `github`).
    async fn force(&self, target: &str, outcome: &str, count: u32) {
        self.control(
            reqwest::Method::POST,
            "/__sandbox/outcomes",
            json!({"target": target, "outcome": outcome, "count": count}),
        )
        .await;
    }

    /// Moves the sandbox clock on.
    async fn advance(&self, ms: i64) {
        self.control(
            reqwest::Method::POST,
            "/__sandbox/clock",
            json!({"advance_ms": ms}),
        )
        .await;
    }

    /// Vendor requests with `method` whose path matches `pattern` (`*`
    /// matches anything).
    fn logged(
        &self,
        method: &str,
        pattern: &str,
    ) -> Vec<greenroom_sandbox::request_log::LoggedRequest> {
        self.sb
            .state
            .requests
            .list(&RequestFilter::default())
            .into_iter()
            .filter(|r| r.method == method && glob(pattern, &r.path))
            .collect()
    }

    fn requests(&self, method: &str, pattern: &str) -> usize {
        self.logged(method, pattern).len()
    }

    fn slack_texts(&self) -> Vec<String> {
        self.sb
            .state
            .slack
            .lock()
            .unwrap()
            .iter()
            .map(|m| m.text.clone())
            .collect()
    }

    /// The project's overview as the home page reads it.
    async fn overview(&self) -> greenroom::overview::ProjectOverview {
        greenroom::overview::project_overview(
            &self.storage,
            self.target.project_id,
            &self.target.project,
        )
        .await
        .unwrap()
    }

    /// Slack's messages once one contains `text` (an action's end message is
    /// sent just after its final state is stored), or after five seconds.
    async fn slack_texts_once(&self, text: &str) -> Vec<String> {
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            let texts = self.slack_texts();
            if texts.iter().any(|t| t.contains(text)) || Instant::now() > until {
                return texts;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn deployer() -> Actor {
        Actor {
            login: "dev-deployer".into(),
            id: Some(2),
            role: "deployer".into(),
            request_id: Some("req-1".into()),
            client_ip: Some("127.0.0.1".into()),
        }
    }

    /// Starts `kind`, checks it made exactly one call to `call` (a path
    /// pattern), moves the sandbox clock past its end, and waits for it to
    /// succeed.
    async fn run_to_end(&self, kind: ActionKind, call: &str) -> greenroom::storage::ActionRecord {
        let Started::Started(a) = self
            .actions
            .start(&self.target, kind, &Rig::deployer())
            .await
            .unwrap()
        else {
            panic!("{kind:?} started")
        };
        assert_eq!(self.requests("POST", call), 1, "one call to {call}");
        tokio::time::sleep(Duration::from_millis(500)).await;
        self.advance(900_000).await;
        let done = self.wait_for_action(a.id, Duration::from_secs(20)).await;
        assert_eq!(done.state, ActionState::Succeeded, "{done:?}");
        done
    }

    async fn wait_for_action(&self, id: i64, limit: Duration) -> greenroom::storage::ActionRecord {
        let until = Instant::now() + limit;
        loop {
            let a = self.storage.get_action(id).await.unwrap().unwrap();
            if a.state.is_final() || Instant::now() > until {
                return a;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Whether `path` matches `pattern`, where `*` matches any run of characters.
fn glob(pattern: &str, path: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == path,
        Some((head, tail)) => {
            path.starts_with(head)
                && (0..=path.len() - head.len()).any(|i| glob(tail, &path[head.len() + i..]))
        }
    }
}

async fn sqlite() -> (tempfile::TempDir, Storage) {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::connect(&format!("sqlite://{}", dir.path().join("g.db").display()))
        .await
        .unwrap();
    storage.migrate().await.unwrap();
    (dir, storage)
}

#[tokio::test]
async fn the_first_pass_loads_everything_and_later_ones_write_only_changes() {
    let (_dir, storage) = sqlite().await;
    let rig = Rig::new(storage).await;
    let world_deploys = {
        let sim = rig.sb.state.sim.lock().unwrap();
        sim.deploys.len()
    };
    let report = rig.syncer.sync_project(&rig.target).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let stored = rig
        .storage
        .count_deploys(rig.target.project_id)
        .await
        .unwrap() as usize;
    assert_eq!(stored, world_deploys, "every deploy of both sites");
    assert!(report.runs_written > 700, "{report:?}");
    assert!(report.jobs_fetched >= 25, "{report:?}");

    // Linked by commit and branch: the deploy job's staging deploys have
    // their run and its actor as author.
    let linked = rig
        .storage
        .list_deploys(
            &DeployFilter {
                site_id: Some(rig.target.project.netlify.staging_site_id.to_string()),
                branch: Some("develop".into()),
                ..Default::default()
            },
            None,
            20,
        )
        .await
        .unwrap();
    assert!(!linked.is_empty());
    for d in &linked {
        let run = rig
            .storage
            .get_run(d.run_id.expect("a develop deploy has its run"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(Some(run.head_sha.as_str()), d.commit_sha.as_deref());
        assert_eq!(run.branch, d.branch);
        assert_eq!(d.author, run.actor);
    }

    // The second pass reads one page of each list and writes nothing new.
    let lists_before = rig.requests("GET", "/netlify/api/v1/sites/*/deploys");
    let report = rig.syncer.sync_project(&rig.target).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.deploys_written, 0, "nothing changed upstream");
    assert_eq!(report.runs_written, 0);
    assert_eq!(
        rig.requests("GET", "/netlify/api/v1/sites/*/deploys") - lists_before,
        2,
        "one page per site"
    );
    let conditional = rig.logged("GET", "/github/repos/*/*/actions/workflows/*/runs");
    assert!(
        conditional
            .last()
            .is_some_and(|r| r.conditional && r.status == 304),
        "GitHub's run list is read conditionally: {:?}",
        conditional.last()
    );

    // Time moves: a new push to develop runs the deploy job; the next pass
    // picks up the new run and its deploy, and only those.
    rig.force("netlify", "failure", 1).await;
    rig.dispatch_develop().await;
    rig.advance(900_000).await;
    let report = rig.syncer.sync_project(&rig.target).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.deploys_written, 1, "{report:?}");
    assert_eq!(report.runs_written, 1, "{report:?}");
    let failed = rig
        .storage
        .latest_site_deploy(
            rig.target.project.netlify.staging_site_id.as_str(),
            Some("develop"),
            None,
            None,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.state, DeployState::Error);
    // Seen failing after the first load: one Slack alert naming the commit
    // and linking Greenroom's page of it.
    let alerts: Vec<String> = rig
        .slack_texts()
        .into_iter()
        .filter(|t| t.contains("Staging deploy failed"))
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].contains(&failed.commit_sha.clone().unwrap()[..7]));
    assert!(alerts[0].contains(&format!(
        "http://greenroom.test/deploys/{}/{}",
        failed.site_id, failed.deploy_id
    )));
    // A pass that sees it again does not alert again.
    rig.syncer.sync_project(&rig.target).await;
    assert_eq!(
        rig.slack_texts()
            .iter()
            .filter(|t| t.contains("Staging deploy failed"))
            .count(),
        1
    );
}

#[tokio::test]
async fn a_vendor_outage_keeps_the_last_good_data_and_says_since_when() {
    let (_dir, storage) = sqlite().await;
    let rig = Rig::new(storage).await;
    assert!(rig.syncer.sync_project(&rig.target).await.errors.is_empty());
    let before = rig
        .storage
        .count_deploys(rig.target.project_id)
        .await
        .unwrap();
    rig.fault(json!({"route": "GET /netlify/api/v1/sites/*", "kind": "status", "status": 503}))
        .await;
    let report = rig.syncer.sync_project(&rig.target).await;
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(
        rig.storage
            .count_deploys(rig.target.project_id)
            .await
            .unwrap(),
        before,
        "nothing lost"
    );
    let status = rig
        .storage
        .sync_statuses(rig.target.project_id)
        .await
        .unwrap();
    let netlify = status.iter().find(|s| s.source == "netlify").unwrap();
    let error = netlify.error.clone().unwrap();
    assert!(
        error.contains("Netlify") && error.contains("503"),
        "{error}"
    );
    assert!(netlify.error_since_ms.is_some() && netlify.last_success_ms.is_some());
    let github = status.iter().find(|s| s.source == "github").unwrap();
    assert!(github.error.is_none(), "GitHub kept syncing");
    // The overview names it as needing attention.
    let o = rig.overview().await;
    assert!(o
        .attention
        .iter()
        .any(|a| a.message.contains("Netlify data is stale") && a.message.contains("503")));
    // Back up: the error clears.
    rig.control(reqwest::Method::DELETE, "/__sandbox/faults", Value::Null)
        .await;
    assert!(rig.syncer.sync_project(&rig.target).await.errors.is_empty());
    let status = rig
        .storage
        .sync_statuses(rig.target.project_id)
        .await
        .unwrap();
    assert!(status.iter().all(|s| s.error.is_none()));
}

#[tokio::test]
async fn a_second_instance_takes_the_sync_over_within_two_intervals() {
    db::with_postgres(|storage| async move {
        let rig = Rig::new(storage.clone()).await;
        let config = SyncConfig {
            enabled: true,
            interval_secs: 4,
            watch_interval_ms: 200,
        };
        let (stop_a, rx_a) = tokio::sync::watch::channel(false);
        let a = tokio::spawn(rig.syncer.clone().run(config, "instance-a".into(), rx_a));
        // Instance B: its own syncer on the same database.
        let b_syncer = Arc::new(Syncer::new(
            storage.clone(),
            Arc::new(
                VendorClients::from_config(&sandbox_config(20_000), Some(&rig.sb.base_url()))
                    .unwrap(),
            ),
            Notifier::new(storage.clone(), None, "http://b.test"),
            vec![rig.target.clone()],
        ));
        // A takes the lease and finishes its first (full) load.
        let until = Instant::now() + Duration::from_secs(120);
        while rig.syncer.full_passes() == 0 {
            assert!(Instant::now() < until, "A's first pass finishes");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (stop_b, rx_b) = tokio::sync::watch::channel(false);
        let b = tokio::spawn(b_syncer.clone().run(config, "instance-b".into(), rx_b));
        // A holds it; B waits (and makes no full pass).
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(
            storage.lease_holder("sync").await.unwrap().unwrap().0,
            "instance-a"
        );
        assert_eq!(b_syncer.full_passes(), 0, "only the holder syncs");
        assert!(rig.syncer.full_passes() >= 1);
        // A dies without giving the lease up.
        a.abort();
        let died = Instant::now();
        while storage.lease_holder("sync").await.unwrap().unwrap().0 != "instance-b" {
            assert!(
                died.elapsed() < Duration::from_secs(2 * config.interval_secs),
                "B must take over within two intervals"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let until = Instant::now() + Duration::from_secs(20);
        while b_syncer.full_passes() == 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            b_syncer.full_passes() >= 1,
            "B syncs once it holds the lease"
        );
        let _ = stop_b.send(true);
        let _ = stop_a.send(true);
        tokio::time::timeout(Duration::from_secs(10), b)
            .await
            .unwrap()
            .unwrap();
        assert!(
            storage.lease_holder("sync").await.unwrap().is_none(),
            "a clean stop gives the lease up"
        );
    })
    .await;
}

#[tokio::test]
async fn twenty_requests_to_redeploy_make_one_upstream_call_and_it_is_followed_to_the_end() {
    let (_dir, storage) = sqlite().await;
    let rig = Arc::new(Rig::new(storage).await);
    assert!(rig.syncer.sync_project(&rig.target).await.errors.is_empty());
    let plan = rig
        .actions
        .plan(&rig.target, ActionKind::RedeployLastGood)
        .await
        .unwrap();
    let target = plan
        .target
        .clone()
        .expect("there is an earlier good deploy");
    let live = plan.replaces.clone().expect("staging serves something");
    assert_ne!(target.deploy_id, live.deploy_id);
    assert_eq!(target.state, DeployState::Ready);

    let mut tasks = Vec::new();
    for _ in 0..20 {
        let rig = rig.clone();
        tasks.push(tokio::spawn(async move {
            rig.actions
                .start(&rig.target, ActionKind::RedeployLastGood, &Rig::deployer())
                .await
        }));
    }
    let mut started = Vec::new();
    let mut under_way = 0;
    for t in tasks {
        match t.await.unwrap().unwrap() {
            Started::Started(a) => started.push(a),
            Started::AlreadyUnderWay(_) => under_way += 1,
        }
    }
    assert_eq!(started.len(), 1);
    assert_eq!(under_way, 19);
    assert_eq!(
        rig.requests("POST", "/netlify/api/v1/sites/*/deploys/*/restore"),
        1,
        "exactly one upstream call"
    );
    let done = rig
        .wait_for_action(started[0].id, Duration::from_secs(20))
        .await;
    assert_eq!(done.state, ActionState::Succeeded, "{done:?}");
    let progress = greenroom::actions::progress_of(&done);
    let states: Vec<&str> = progress.iter().map(|p| p.state.as_str()).collect();
    assert_eq!(states.first(), Some(&"requested"));
    assert!(
        states.contains(&"accepted") && states.contains(&"ready"),
        "{states:?}"
    );
    // Staging serves the restored deploy, and the overview shows it.
    let o = rig.overview().await;
    assert_eq!(o.staging_live.unwrap().deploy.deploy_id, target.deploy_id);
    // The audit row went from pending to succeeded, with the deploy named.
    let audit = rig
        .storage
        .list_audit(
            &AuditFilter {
                action: Some("action.redeploy-last-good".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].outcome, AuditOutcome::Succeeded);
    assert_eq!(
        audit[0].target_id.as_deref(),
        Some(target.deploy_id.as_str())
    );
    assert!(audit[0].completed_at_ms.is_some());
    // Slack heard the start and the end, once each.
    let texts = rig
        .slack_texts_once("Redeploy last good build for AllIncompassing finished")
        .await;
    assert_eq!(
        texts
            .iter()
            .filter(|t| t.contains("started redeploy last good build"))
            .count(),
        1,
        "{texts:?}"
    );
    assert_eq!(
        texts
            .iter()
            .filter(|t| t.contains("Redeploy last good build for AllIncompassing finished"))
            .count(),
        1,
        "{texts:?}"
    );
    // Asking again within the window is the same action, still no new call.
    assert!(matches!(
        rig.actions.start(&rig.target, ActionKind::RedeployLastGood, &Rig::deployer()).await.unwrap(),
        Started::AlreadyUnderWay(a) if a.id == started[0].id
    ));
    assert_eq!(
        rig.requests("POST", "/netlify/api/v1/sites/*/deploys/*/restore"),
        1
    );
}

#[tokio::test]
async fn nothing_to_redeploy_and_a_deploy_already_building_are_refused_before_any_call() {
    let (_dir, storage) = sqlite().await;
    let rig = Rig::new(storage).await;
    // Nothing synced yet: no earlier good deploy is known.
    let err = rig
        .actions
        .start(&rig.target, ActionKind::RedeployLastGood, &Rig::deployer())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ActionError::NotApplicable(m) if m.contains("Nothing to redeploy")),
        "{err}"
    );
    assert_eq!(rig.requests("POST", "/netlify/*"), 0);

    assert!(rig.syncer.sync_project(&rig.target).await.errors.is_empty());
    // A deploy of develop is building on staging.
    let mut building = rig
        .storage
        .latest_site_deploy(
            rig.target.project.netlify.staging_site_id.as_str(),
            Some("develop"),
            None,
            None,
        )
        .await
        .unwrap()
        .unwrap();
    building.deploy_id = "building-now".into();
    building.state = DeployState::Building;
    building.created_at_ms += 1_000;
    building.run_id = None;
    rig.storage.upsert_deploys(&[building]).await.unwrap();
    let err = rig
        .actions
        .start(&rig.target, ActionKind::DeployStaging, &Rig::deployer())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ActionError::NotApplicable(m) if m.contains("already building")),
        "{err}"
    );
    assert_eq!(
        rig.requests("POST", "/github/*"),
        0,
        "nothing was dispatched"
    );
    // Refusals are audited, and do not block the action once it applies.
    let refused = rig
        .storage
        .list_audit(
            &AuditFilter {
                outcome: Some(AuditOutcome::Refused),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(refused.len(), 2);
    let a = rig
        .storage
        .recent_actions(rig.target.project_id, "", 10)
        .await
        .unwrap();
    assert!(a
        .iter()
        .all(|a| a.active_key.is_none() && a.state == ActionState::Failed));
}

#[tokio::test]
async fn a_restore_of_a_deploy_netlify_deleted_says_so_and_changes_nothing() {
    let (_dir, storage) = sqlite().await;
    let rig = Rig::new(storage).await;
    assert!(rig.syncer.sync_project(&rig.target).await.errors.is_empty());
    let plan = rig
        .actions
        .plan(&rig.target, ActionKind::RedeployLastGood)
        .await
        .unwrap();
    // The cache still has it; Netlify has since deleted it.
    let mut gone = plan.target.unwrap();
    gone.deploy_id = "deleted-since".into();
    gone.created_at_ms = plan.replaces.as_ref().unwrap().created_at_ms + 1;
    rig.storage.upsert_deploys(&[gone]).await.unwrap();
    let err = rig
        .actions
        .start(&rig.target, ActionKind::RedeployLastGood, &Rig::deployer())
        .await
        .unwrap_err();
    let ActionError::Upstream(message) = err else {
        panic!("an upstream error")
    };
    assert!(
        message.contains("Netlify no longer has that deploy"),
        "{message}"
    );
    let a = &rig
        .storage
        .recent_actions(rig.target.project_id, "", 1)
        .await
        .unwrap()[0];
    assert_eq!(a.state, ActionState::Failed);
    let audit = &rig
        .storage
        .list_audit(&AuditFilter::default(), None, 1)
        .await
        .unwrap()[0];
    assert_eq!(audit.outcome, AuditOutcome::Failed);
    assert!(rig
        .slack_texts()
        .iter()
        .any(|t| t.contains("Redeploy last good build for AllIncompassing failed")));
}

#[tokio::test]
async fn a_vendor_down_is_unknown_until_it_shows_nothing_changed_and_a_refusal_fails_at_once() {
    let (_dir, storage) = sqlite().await;
    let rig = Rig::new(storage).await;
    assert!(rig.syncer.sync_project(&rig.target).await.errors.is_empty());
    let before = rig.overview().await.staging_live.unwrap().deploy.deploy_id;
    // A 503 may hide a change the vendor made: never "nothing was changed" at once.
    rig.fault(json!({"route": "POST /netlify/api/v1/sites/*/deploys/*/restore", "kind": "status", "status": 503, "count": 1}))
        .await;
    let Started::Started(a) = rig
        .actions
        .start(&rig.target, ActionKind::RedeployLastGood, &Rig::deployer())
        .await
        .unwrap()
    else {
        panic!("started")
    };
    assert_eq!(a.state, ActionState::Unknown, "{a:?}");
    let m = a.message.clone().unwrap();
    assert!(
        m.contains("Netlify failed to answer restoreSiteDeploy (503)")
            && m.contains("may have acted")
            && !m.contains("Nothing was changed"),
        "{m}"
    );
    assert_eq!(
        rig.audit_of(ActionKind::RedeployLastGood).await.outcome,
        AuditOutcome::Unknown
    );
    // Asked, Netlify shows no trace for the quiet time: then it is said.
    let done = rig.wait_for_action(a.id, Duration::from_secs(20)).await;
    assert_eq!(done.state, ActionState::Failed, "{done:?}");
    let m = done.message.clone().unwrap();
    assert!(
        m.contains("Netlify shows no trace") && m.contains("nothing was changed"),
        "{m}"
    );
    let audit = rig.audit_of(ActionKind::RedeployLastGood).await;
    assert_eq!(audit.outcome, AuditOutcome::Failed);
    assert_eq!(audit.message.as_deref(), Some(m.as_str()));
    assert_eq!(
        rig.overview().await.staging_live.unwrap().deploy.deploy_id,
        before,
        "staging unchanged"
    );
    assert!(rig
        .slack_texts_once("Redeploy last good build for AllIncompassing failed")
        .await
        .iter()
        .any(|t| t.contains("nothing was changed")));

    // A refusal with a reason is definitive: failed at once.
    rig.fault(json!({"route": "POST /github/repos/*/*/actions/runs/*/*", "kind": "status", "status": 403, "count": 1}))
        .await;
    let err = rig
        .actions
        .start(&rig.target, ActionKind::RerunDeployJob, &Rig::deployer())
        .await
        .unwrap_err();
    let ActionError::Upstream(m) = err else {
        panic!()
    };
    assert!(
        m.contains("GITHUB_TOKEN") && m.contains("actions: write"),
        "{m}"
    );
    assert_eq!(
        rig.audit_of(ActionKind::RerunDeployJob).await.outcome,
        AuditOutcome::Failed
    );
}

/// The vendor carries the request out but its answer never arrives (the
/// sandbox's `apply_then_hang`): each action is `unknown`, holds its key (a
/// retry sends nothing), and is reconciled to what the vendor did.
#[tokio::test]
async fn an_unanswered_action_is_unknown_then_reconciled_to_what_the_vendor_did() {
    let (_dir, storage) = sqlite().await;
    let rig = Rig::with_timeout(storage, 1_000).await;
    assert!(rig.syncer.sync_project(&rig.target).await.errors.is_empty());
    rig.force("github", "success", 10).await;
    rig.force("netlify", "success", 10).await;
    for (kind, method, path) in [
        (
            ActionKind::RedeployLastGood,
            "POST",
            "/netlify/api/v1/sites/*/deploys/*/restore",
        ),
        (
            ActionKind::DeployStaging,
            "POST",
            "/github/repos/*/*/actions/workflows/*/dispatches",
        ),
        (
            ActionKind::RerunDeployJob,
            "POST",
            "/github/repos/*/*/actions/runs/*/rerun",
        ),
    ] {
        rig.fault(json!({"route": format!("{method} {path}"), "kind": "apply_then_hang", "ms": 4000, "count": 1}))
            .await;
        let Started::Started(a) = rig
            .actions
            .start(&rig.target, kind, &Rig::deployer())
            .await
            .unwrap()
        else {
            panic!("{kind:?} started")
        };
        assert_eq!(a.state, ActionState::Unknown, "{kind:?}: {a:?}");
        assert!(
            a.message
                .as_deref()
                .unwrap_or_default()
                .contains("may have acted"),
            "{a:?}"
        );
        assert_eq!(rig.audit_of(kind).await.outcome, AuditOutcome::Unknown);
        // A second click while it is being found out sends nothing.
        assert!(matches!(
            rig.actions
                .start(&rig.target, kind, &Rig::deployer())
                .await
                .unwrap(),
            Started::AlreadyUnderWay(_)
        ));
        // (The sandbox logs a request when it answers: the held one is not
        // listed yet.)
        assert!(
            rig.requests(method, path) <= 1,
            "{kind:?}: one upstream call"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        rig.advance(900_000).await;
        let done = rig.wait_for_action(a.id, Duration::from_secs(30)).await;
        assert_eq!(done.state, ActionState::Succeeded, "{kind:?}: {done:?}");
        let audit = rig.audit_of(kind).await;
        assert_eq!(
            audit.outcome,
            AuditOutcome::Succeeded,
            "{kind:?}: {audit:?}"
        );
        assert!(
            audit
                .message
                .as_deref()
                .unwrap_or_default()
                .contains("did act"),
            "{kind:?}: {audit:?}"
        );
        assert_eq!(rig.requests(method, path), 1, "{kind:?}: still one call");
    }
}

/// The request that started an action goes away while the vendor call is in
/// flight: the server still completes and audits it.
#[tokio::test]
async fn an_action_whose_caller_goes_away_still_completes_and_is_audited() {
    let (_dir, storage) = sqlite().await;
    let rig = Arc::new(Rig::new(storage).await);
    assert!(rig.syncer.sync_project(&rig.target).await.errors.is_empty());
    rig.fault(json!({"route": "POST /netlify/api/v1/sites/*/deploys/*/restore", "kind": "latency", "ms": 1000, "count": 1}))
        .await;
    let caller = {
        let rig = rig.clone();
        tokio::spawn(async move {
            rig.actions
                .start(&rig.target, ActionKind::RedeployLastGood, &Rig::deployer())
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    caller.abort();
    let a = rig
        .storage
        .recent_actions(rig.target.project_id, "", 1)
        .await
        .unwrap()
        .remove(0);
    let done = rig.wait_for_action(a.id, Duration::from_secs(20)).await;
    assert_eq!(done.state, ActionState::Succeeded, "{done:?}");
    assert_eq!(
        rig.audit_of(ActionKind::RedeployLastGood).await.outcome,
        AuditOutcome::Succeeded
    );
}

/// Two live instances on one PostgreSQL; a third crashes (its runtime torn
/// down) while its vendor call is in flight. Exactly one live instance adopts
/// the orphan and finishes it with the vendor's truth; an action a live
/// instance is working on is never taken from it.
#[tokio::test]
async fn an_action_a_crashed_instance_left_is_finished_by_exactly_one_live_instance() {
    db::with_postgres(|storage| async move {
        let rig = Rig::new(storage).await;
        assert!(rig.syncer.sync_project(&rig.target).await.errors.is_empty());
        rig.force("github", "success", 10).await;
        rig.force("netlify", "success", 10).await;
        let (b, c) = (rig.actions.clone(), rig.another_instance());
        let targets = vec![rig.target.clone()];

        // B starts a deploy of develop and follows it (its run waits for the clock).
        let Started::Started(live) = b
            .start(&rig.target, ActionKind::DeployStaging, &Rig::deployer())
            .await
            .unwrap()
        else {
            panic!("started")
        };

        // A crashed in the middle of a redeploy, as a `kill -9` leaves it: the
        // claim and the pending audit row are written, the call reached
        // Netlify (which restored the deploy), and A's heartbeat stopped.
        let plan = b
            .plan(&rig.target, ActionKind::RedeployLastGood)
            .await
            .unwrap();
        let deploy = plan.target.clone().unwrap();
        let Claim::Won(orphan) = rig
            .storage
            .claim_action(
                &NewAction {
                    project_id: rig.target.project_id,
                    kind: "redeploy-last-good".into(),
                    active_key: format!("{}:redeploy-last-good", rig.target.project.name),
                    actor_login: Some("dev-deployer".into()),
                    summary: plan.summary.clone(),
                    target_json: json!({"deploy_id": deploy.deploy_id}).to_string(),
                    owner: "crashed-instance".into(),
                },
                now_ms(),
                greenroom::actions::ACTION_WINDOW_MS,
                greenroom::actions::STALE_CLAIM_MS,
            )
            .await
            .unwrap()
        else {
            panic!("claimed")
        };
        let audit_id = rig
            .storage
            .record_audit(
                &NewAuditEvent {
                    actor_login: Some("dev-deployer".into()),
                    action: "action.redeploy-last-good".into(),
                    project: Some(rig.target.project.name.to_string()),
                    ..Default::default()
                },
                AuditOutcome::Pending,
            )
            .await
            .unwrap();
        rig.storage
            .set_action_audit(orphan.id, audit_id)
            .await
            .unwrap();
        let restored = reqwest::Client::new()
            .post(format!(
                "{}/netlify/api/v1/sites/{}/deploys/{}/restore",
                rig.sb.base_url(),
                deploy.site_id,
                deploy.deploy_id
            ))
            .bearer_auth("t")
            .send()
            .await
            .unwrap();
        assert!(restored.status().is_success());
        // A retry while its owner is silent sends nothing.
        assert!(matches!(
            c.start(&rig.target, ActionKind::RedeployLastGood, &Rig::deployer())
                .await
                .unwrap(),
            Started::AlreadyUnderWay(_)
        ));

        // B and C reconcile side by side for several leases.
        let mut adopted = (0, 0);
        let until = Instant::now() + LEASE * 5;
        while Instant::now() < until {
            let (x, y) = tokio::join!(b.reconcile_once(&targets), c.reconcile_once(&targets));
            adopted.0 += x;
            adopted.1 += y;
            tokio::time::sleep(LEASE / 4).await;
        }
        assert_eq!(
            adopted.0 + adopted.1,
            1,
            "exactly one adoption: {adopted:?}"
        );
        let done = rig
            .wait_for_action(orphan.id, Duration::from_secs(20))
            .await;
        assert_eq!(done.state, ActionState::Succeeded, "{done:?}");
        let owner = done.owner.clone().unwrap();
        assert!(owner == b.instance() || owner == c.instance(), "{owner}");
        assert_eq!(
            rig.audit_of(ActionKind::RedeployLastGood).await.outcome,
            AuditOutcome::Succeeded
        );
        assert_eq!(
            rig.requests("POST", "/netlify/api/v1/sites/*/deploys/*/restore"),
            1,
            "nobody asked Netlify twice"
        );

        // B's own action was never adopted: it is still B's, and B finishes it.
        let still = rig.storage.get_action(live.id).await.unwrap().unwrap();
        assert_eq!(still.owner.as_deref(), Some(b.instance()), "{still:?}");
        rig.advance(900_000).await;
        let finished = rig.wait_for_action(live.id, Duration::from_secs(20)).await;
        assert_eq!(finished.state, ActionState::Succeeded, "{finished:?}");
        let ends = rig
            .slack_texts_once("Redeploy last good build for AllIncompassing finished")
            .await
            .into_iter()
            .filter(|t| t.contains("Redeploy last good build for AllIncompassing"))
            .count();
        assert_eq!(ends, 1, "announced once");
    })
    .await;
}

#[tokio::test]
async fn a_failing_slack_webhook_does_not_stop_the_action_and_is_recorded() {
    let (_dir, storage) = sqlite().await;
    let rig = Rig::new(storage).await;
    assert!(rig.syncer.sync_project(&rig.target).await.errors.is_empty());
    rig.fault(json!({"route": "POST /slack/*", "kind": "status", "status": 500}))
        .await;
    let Started::Started(a) = rig
        .actions
        .start(&rig.target, ActionKind::RedeployLastGood, &Rig::deployer())
        .await
        .unwrap()
    else {
        panic!("started")
    };
    let done = rig.wait_for_action(a.id, Duration::from_secs(20)).await;
    assert_eq!(done.state, ActionState::Succeeded);
    // The end message is sent after the final state is stored: wait for it.
    let until = Instant::now() + Duration::from_secs(5);
    let failed = loop {
        let failed = rig.storage.failed_notifications(10).await.unwrap();
        if failed.len() >= 2 || Instant::now() > until {
            break failed;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(failed.len(), 2, "start and end: {failed:?}");
    assert!(
        failed
            .iter()
            .all(|(_, _, e)| e.contains("Slack") && !e.contains("/slack/services")),
        "{failed:?}"
    );
}

#[tokio::test]
async fn deploying_develop_and_rerunning_the_job_are_followed_to_their_conclusion() {
    let (_dir, storage) = sqlite().await;
    let rig = Rig::new(storage).await;
    assert!(rig.syncer.sync_project(&rig.target).await.errors.is_empty());
    rig.force("github", "success", 10).await;
    rig.force("netlify", "success", 10).await;
    let done = rig
        .run_to_end(
            ActionKind::DeployStaging,
            "/github/repos/*/*/actions/workflows/*/dispatches",
        )
        .await;
    assert!(done.message.unwrap().contains("completed: success"));

    // The deploy job's latest run now re-runs whole (it succeeded).
    let plan = rig
        .actions
        .plan(&rig.target, ActionKind::RerunDeployJob)
        .await
        .unwrap();
    assert!(plan.blocked.is_none(), "{:?}", plan.blocked);
    assert!(!plan.only_failed_jobs);
    let done = rig
        .run_to_end(
            ActionKind::RerunDeployJob,
            "/github/repos/*/*/actions/runs/*/rerun",
        )
        .await;
    let states: Vec<String> = greenroom::actions::progress_of(&done)
        .into_iter()
        .map(|p| p.state)
        .collect();
    assert!(states.iter().any(|s| s == "ready"), "{states:?}");
    // The staging site is linked and up to date after the follow-up pass.
    let d = rig
        .storage
        .latest_site_deploy(
            rig.target.project.netlify.staging_site_id.as_str(),
            Some("develop"),
            None,
            None,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.site_role, SiteRole::Staging);
    assert!(d.run_id.is_some());
}

#[tokio::test]
async fn a_newly_failed_smoke_test_alerts_once_and_points_at_the_rerun() {
    let (_dir, storage) = sqlite().await;
    let rig = Rig::new(storage).await;
    assert!(rig.syncer.sync_project(&rig.target).await.errors.is_empty());
    let before = rig
        .slack_texts()
        .iter()
        .filter(|t| t.contains("Smoke test failed"))
        .count();
    assert_eq!(
        before, 0,
        "history loaded on the first pass raises no alert"
    );
    // The next run: build passes, the deploy is ready, the smoke test fails.
    rig.force("github", "success", 1).await;
    rig.force("netlify", "success", 1).await;
    rig.force("github", "failure", 1).await;
    rig.dispatch_develop().await;
    rig.advance(900_000).await;
    assert!(rig.syncer.sync_project(&rig.target).await.errors.is_empty());
    rig.syncer.sync_project(&rig.target).await;
    let alerts: Vec<String> = rig
        .slack_texts()
        .into_iter()
        .filter(|t| t.contains("Smoke test failed on staging"))
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].contains("http://greenroom.test/runs/"));
    let o = rig.overview().await;
    let smoke = o
        .attention
        .iter()
        .find(|a| a.kind == greenroom::overview::AttentionKind::FailedSmoke)
        .expect("a failed smoke needs attention");
    assert_eq!(smoke.fix, Some(ActionKind::RerunDeployJob));
    let plan = rig
        .actions
        .plan(&rig.target, ActionKind::RerunDeployJob)
        .await
        .unwrap();
    assert!(plan.only_failed_jobs, "{}", plan.summary);
    assert!(plan.summary.starts_with("Re-run the failed jobs"));
}

#[tokio::test]
async fn trend_figures_are_kept_until_a_deploy_changes_then_refreshed_behind_the_page() {
    use greenroom::trends::TrendCache;
    let (_dir, storage) = sqlite().await;
    let rig = Rig::new(storage).await;
    let report = rig.syncer.sync_project(&rig.target).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let cache = Arc::new(TrendCache::default());
    let all = DeployFilter::default();
    let before = cache.get(&rig.storage, &all).await.unwrap();
    let total_before = cache.total(&rig.storage, &all).await.unwrap();
    assert_eq!(i64::from(before.total.deploys()), total_before);
    assert!(
        Arc::ptr_eq(&before, &cache.get(&rig.storage, &all).await.unwrap()),
        "nothing changed: the same figures, not a recomputation"
    );

    rig.dispatch_develop().await;
    rig.advance(900_000).await;
    let report = rig.syncer.sync_project(&rig.target).await;
    assert_eq!(report.deploys_written, 1, "{report:?}");

    // The first views after the change get the previous figures at once
    // while one recomputation runs; then the new ones arrive.
    let stale = cache.get(&rig.storage, &all).await.unwrap();
    assert!(Arc::ptr_eq(&before, &stale));
    assert_eq!(cache.total(&rig.storage, &all).await.unwrap(), total_before);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = cache.get(&rig.storage, &all).await.unwrap();
        let total = cache.total(&rig.storage, &all).await.unwrap();
        if now.total.deploys() == before.total.deploys() + 1 && total == total_before + 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the figures were never refreshed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A commit message (or any vendor text) holding Slack's control sequences
/// reaches the channel as written: no `<!channel>` ping, no disguised link.
#[tokio::test]
async fn slack_messages_show_control_sequences_as_written() {
    let (_dir, storage) = sqlite().await;
    let rig = Rig::new(storage.clone()).await;
    let slack = SlackWebhook::new(
        greenroom::providers::http::client(Timeouts::default()).unwrap(),
        Secret::new(format!("{}/slack/services/T0/B0/test", rig.sb.base_url())),
    );
    let notifier = Notifier::new(storage, Some(slack), "http://greenroom.test");
    notifier
        .announce(
            "deploy-failed:test",
            ":red_circle: Staging deploy failed: \"fix <!channel> & <https://evil.test|docs>\"\nhttp://greenroom.test/deploys/s/d",
        )
        .await;
    assert_eq!(
        rig.slack_texts(),
        vec![":red_circle: Staging deploy failed: \"fix &lt;!channel&gt; &amp; &lt;https://evil.test|docs&gt;\"\nhttp://greenroom.test/deploys/s/d".to_string()]
    );
}

/// A run GitHub fails to answer for (5xx) is recorded as a sync failure the
/// pages show; a deploy Netlify no longer has (404) is marked deleted and no
/// longer watched; neither stops the rest of the watch pass: the run in
/// progress is still followed to its end.
#[tokio::test]
async fn one_deploy_that_cannot_be_checked_never_stops_the_watch_pass() {
    let (_dir, storage) = sqlite().await;
    let rig = Rig::new(storage).await;
    assert!(rig.syncer.sync_project(&rig.target).await.errors.is_empty());
    rig.dispatch_develop().await;
    let pid = rig.target.project_id;
    // The run reaches its deploy step, which starts a Netlify deploy.
    let mut building = Vec::new();
    for _ in 0..40 {
        assert!(rig.syncer.sync_project(&rig.target).await.errors.is_empty());
        building = rig.storage.unfinished_deploys(pid).await.unwrap();
        if !building.is_empty() {
            break;
        }
        rig.advance(15_000).await;
    }
    assert!(!building.is_empty(), "a staging deploy in progress");
    assert!(!rig.storage.unfinished_runs(pid).await.unwrap().is_empty());
    // A run GitHub answers with a 5xx for: the pass goes on, and the failure
    // is recorded where the pages read the sync status from.
    let run = rig.storage.unfinished_runs(pid).await.unwrap()[0].clone();
    rig.fault(json!({"route": format!("GET /github/repos/*/actions/runs/{}", run.run_id), "kind": "status", "status": 503}))
        .await;
    rig.syncer.watch_project(&rig.target).await;
    let statuses = rig.storage.sync_statuses(pid).await.unwrap();
    let github = statuses.iter().find(|s| s.source == "github").unwrap();
    assert!(
        github
            .error
            .as_deref()
            .unwrap_or_default()
            .contains(&format!("run {}", run.run_id)),
        "{github:?}"
    );
    rig.control(reqwest::Method::DELETE, "/__sandbox/faults", json!({}))
        .await;
    let gone = building[0].clone();
    rig.fault(json!({"route": format!("GET /netlify/api/v1/sites/*/deploys/{}", gone.deploy_id), "kind": "status", "status": 404}))
        .await;
    rig.advance(900_000).await;
    rig.syncer.watch_project(&rig.target).await;
    let d = rig
        .storage
        .get_deploy(&gone.site_id, &gone.deploy_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.state, DeployState::Deleted);
    assert!(rig
        .storage
        .unfinished_deploys(pid)
        .await
        .unwrap()
        .iter()
        .all(|d| d.deploy_id != gone.deploy_id));
    assert!(
        rig.storage.unfinished_runs(pid).await.unwrap().is_empty(),
        "the run was still followed to its end"
    );
}

/// Slack answers only after 3 s: the vendor call does not wait for the
/// "started" message, and the message is still sent.
#[tokio::test]
async fn a_slow_slack_never_delays_the_vendor_call() {
    let (_dir, storage) = sqlite().await;
    let rig = Rig::new(storage).await;
    assert!(rig.syncer.sync_project(&rig.target).await.errors.is_empty());
    rig.fault(json!({"route": "POST /slack/*", "kind": "latency", "ms": 3000}))
        .await;
    let asked = Instant::now();
    let Started::Started(a) = rig
        .actions
        .start(&rig.target, ActionKind::RedeployLastGood, &Rig::deployer())
        .await
        .unwrap()
    else {
        panic!("started")
    };
    assert!(
        asked.elapsed() < Duration::from_millis(2000),
        "answered after {:?}",
        asked.elapsed()
    );
    assert_eq!(
        rig.requests("POST", "/netlify/api/v1/sites/*/deploys/*/restore"),
        1,
        "Netlify was asked before Slack answered"
    );
    let done = rig.wait_for_action(a.id, Duration::from_secs(20)).await;
    assert_eq!(done.state, ActionState::Succeeded);
    assert!(rig
        .slack_texts_once("started redeploy")
        .await
        .iter()
        .any(|t| t.contains("started redeploy")));
}
