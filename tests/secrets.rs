//! Secret coverage against the sandbox over real HTTP: the seeded world's
//! deliberate gaps come out as the right cells and findings, a store the
//! token may not read and a vendor that fails are unknown (never absent),
//! and no value the vendors hold appears anywhere in the report.

use greenroom::config::{sandbox_project, RequiredSecret};
use greenroom::providers::github::GitHubClient;
use greenroom::providers::http::Timeouts;
use greenroom::providers::netlify::NetlifyClient;
use greenroom::secrets::coverage::{Check, Coverage, Outcome, Row};
use greenroom::secrets::discover::dotenv;
use greenroom::secrets::{coverage, gather, Cell, FingerprintKey, Verdict};
use greenroom::Secret;
use greenroom_sandbox::{start, RunningSandbox, World};
use serde_json::{json, Value};

async fn sandbox(world: World) -> RunningSandbox {
    start("127.0.0.1:0".parse().unwrap(), world).await.unwrap()
}

fn clients(sb: &RunningSandbox) -> (NetlifyClient, GitHubClient) {
    let base = sb.base_url();
    let t = Timeouts::default();
    (
        NetlifyClient::new(&format!("{base}/netlify/api/v1"), Secret::new("nf"), t).unwrap(),
        GitHubClient::new(
            &format!("{base}/github"),
            &format!("{base}/github"),
            Secret::new("gh"),
            t,
        )
        .unwrap(),
    )
}

async fn check(
    sb: &RunningSandbox,
    project: &greenroom::config::Project,
    env: Option<&dotenv::EnvFile>,
) -> Coverage {
    let (netlify, github) = clients(sb);
    let sources = gather::gather(project, &netlify, &github).await;
    coverage(&Check {
        project,
        sources: &sources,
        env_local: env,
        key: &FingerprintKey::random(),
    })
}

fn col(c: &Coverage, label: &str) -> usize {
    c.columns
        .iter()
        .position(|x| x.label == label)
        .unwrap_or_else(|| {
            panic!(
                "no column {label:?} in {:?}",
                c.columns.iter().map(|c| &c.label).collect::<Vec<_>>()
            )
        })
}

fn row<'a>(c: &'a Coverage, key: &str) -> &'a Row {
    c.rows
        .iter()
        .find(|r| r.key == key)
        .unwrap_or_else(|| panic!("no row {key}"))
}

fn has_finding(c: &Coverage, id: &str) -> bool {
    c.findings.iter().any(|f| f.id.starts_with(id))
}

/// Every value the sandbox's vendors hold, to look for in what Greenroom says.
fn world_values(sb: &RunningSandbox) -> Vec<String> {
    let sim = sb.state.sim.lock().unwrap();
    let mut values: Vec<String> = sim
        .env
        .iter()
        .flat_map(|v| v.values.iter().map(|x| x.value.clone()))
        .collect();
    values.extend(sim.variables.iter().map(|v| v.value.clone()));
    // Short values ("20", "staging") are words, and the org's name (a
    // variable's value too) is in every link: neither is a secret.
    let names = [
        &sim.ids.github.org,
        &sim.ids.github.repo,
        &sim.ids.netlify.account_slug,
    ];
    values.retain(|v| v.len() >= 12 && !names.contains(&v));
    values.sort();
    values.dedup();
    values
}

#[tokio::test]
async fn the_seeded_world_shows_each_deliberate_gap() {
    let sb = sandbox(World::seeded(1)).await;
    let env = dotenv::parse(
        ".env.local",
        "SUPABASE_URL=https://wnnjeqheqxxyrgsjmygy.supabase.co\nSUPABASE_ANON_KEY=\n",
    );
    let c = check(&sb, &sandbox_project(), Some(&env)).await;
    let staging = "Netlify staging site: branch staging";

    // A key missing in one context.
    let access = row(&c, "SUPABASE_ACCESS_TOKEN");
    assert_eq!(access.cells[col(&c, staging)], Cell::Absent);
    assert!(matches!(
        access.cells[col(&c, "Netlify production site: production")],
        Cell::WriteOnly { .. }
    ));
    // A placeholder.
    assert!(matches!(
        row(&c, "SUPABASE_ANON_KEY").cells[col(&c, staging)],
        Cell::Placeholder { .. }
    ));
    // Write-only secrets say when and by whom.
    match &row(&c, "SUPABASE_SERVICE_ROLE_KEY").cells
        [col(&c, "Netlify production site: production")]
    {
        Cell::WriteOnly {
            updated_at,
            updated_by,
        } => {
            assert!(updated_at.is_some());
            assert!(updated_by.is_some());
        }
        other => panic!("{other:?}"),
    }
    // The organization id differs, the service-role key is in a VITE_
    // variable, the deploy token was rotated in one place only.
    assert!(has_finding(&c, "inconsistent:DEFAULT_ORGANIZATION_ID"));
    assert_eq!(
        c.findings[0].id,
        "service-role-exposed:VITE_SUPABASE_SERVICE_KEY"
    );
    assert!(has_finding(&c, "rotation-drift:NETLIFY_AUTH_TOKEN"));
    // A token without permission for one store: unknown, not absent.
    let forbidden = col(&c, "GitHub secrets: environment production");
    assert!(c
        .rows
        .iter()
        .all(|r| matches!(r.cells[forbidden], Cell::Unknown { .. })));
    assert!(c
        .unread
        .iter()
        .any(|u| u.source == "GitHub secrets of environment production"));
    // Discovered from the workflow: referenced but never set.
    let org = row(&c, "DEFAULT_ORGANIZATION_ID");
    assert!(org.needs.iter().any(|n| n.target == "github:staging"
        && n.origin.starts_with("ci.yml:")
        && n.verdict == Verdict::Missing));
    // The uploaded .env.local: present, and empty.
    assert_eq!(
        row(&c, "SUPABASE_ANON_KEY")
            .needs
            .iter()
            .find(|n| n.target == "env-local")
            .unwrap()
            .verdict,
        Verdict::Empty
    );
    assert_eq!(c.outcome, Outcome::Missing);

    let json = serde_json::to_string(&c).unwrap();
    let debug = format!("{c:?}");
    for value in world_values(&sb) {
        assert!(
            !json.contains(&value) && !debug.contains(&value),
            "a vendor value is in the report"
        );
    }
    sb.stop().await;
}

/// A project that needs only what the seeded Netlify sites hold.
fn netlify_only() -> greenroom::config::Project {
    let mut p = sandbox_project();
    p.secrets.required = Some(vec![RequiredSecret {
        key: "SUPABASE_URL".into(),
        locations: vec!["netlify:production".into(), "netlify:staging".into()],
    }]);
    p.secrets.read_branches = Some(vec![]);
    p
}

async fn fault(sb: &RunningSandbox, spec: Value) {
    let res = reqwest::Client::new()
        .post(format!("{}/__sandbox/faults", sb.base_url()))
        .json(&spec)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
}

#[tokio::test]
async fn a_vendor_that_fails_leaves_its_cells_unknown_and_the_check_unchecked() {
    let sb = sandbox(World::seeded(1)).await;
    let p = netlify_only();
    // The repository's files would add requirements; keep this about Netlify.
    fault(
        &sb,
        json!({"route": "GET /github/repos/*/*/contents/*", "kind": "status", "status": 404}),
    )
    .await;
    let c = check(&sb, &p, None).await;
    assert_eq!(
        c.outcome,
        Outcome::Ok,
        "{:?}",
        c.rows
            .iter()
            .map(|r| (&r.key, &r.needs))
            .collect::<Vec<_>>()
    );

    fault(
        &sb,
        json!({"route": "GET /netlify/api/v1/accounts/*/env", "kind": "status", "status": 503}),
    )
    .await;
    let c = check(&sb, &p, None).await;
    for (i, column) in c.columns.iter().enumerate() {
        if column.label.starts_with("Netlify") {
            for r in &c.rows {
                assert!(
                    matches!(r.cells[i], Cell::Unknown { .. }),
                    "{} / {}: {:?}",
                    r.key,
                    column.label,
                    r.cells[i]
                );
            }
        }
    }
    let url = row(&c, "SUPABASE_URL");
    assert!(url.needs.iter().all(|n| n.verdict == Verdict::Unknown));
    assert_eq!(c.outcome, Outcome::Unchecked);
    assert_eq!(c.outcome.exit_code(), 2);
    assert!(!has_finding(&c, "missing:"));
    sb.stop().await;
}

#[tokio::test]
async fn a_malformed_workflow_is_a_finding_and_the_rest_is_checked() {
    let mut world = World::seeded(1);
    world.github.files = Some(vec![greenroom_sandbox::model::RepoFile {
        path: ".github/workflows/ci.yml".into(),
        content: "jobs:\n  deploy:\n    steps: [\n      - run: echo ${{ secrets.X }}\n".into(),
    }]);
    let sb = sandbox(world).await;
    let c = check(&sb, &netlify_only(), None).await;
    let f = c
        .findings
        .iter()
        .find(|f| f.id.starts_with("malformed:ci.yml"))
        .expect("malformed workflow");
    assert!(f.detail.contains("ci.yml:"), "{}", f.detail);
    assert_eq!(row(&c, "SUPABASE_URL").needs[0].verdict, Verdict::Present);
    sb.stop().await;
}

/// The server's side of coverage against the sandbox: reports stored in a
/// real SQLite file, a change for the worse told to Slack once however
/// many instances store it, concurrent re-checks sharing one read, and an
/// uploaded `.env.local` checked without a trace of its values.
mod service {
    use super::*;
    use greenroom::notify::Notifier;
    use greenroom::providers::slack::SlackWebhook;
    use greenroom::providers::supabase::SupabaseClient;
    use greenroom::providers::VendorClients;
    use greenroom::secret_checks::SecretChecks;
    use greenroom::sync::SyncTarget;
    use greenroom::Storage;
    use std::sync::Arc;

    struct Setup {
        sb: RunningSandbox,
        storage: Storage,
        _dir: tempfile::TempDir,
        project_id: i64,
    }

    async fn setup() -> Setup {
        let sb = sandbox(World::seeded(1)).await;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("greenroom.db").display());
        let storage = Storage::connect(&url).await.unwrap();
        storage.migrate().await.unwrap();
        let project_id = storage
            .upsert_project(sandbox_project().name.as_str(), "{}")
            .await
            .unwrap()
            .id;
        Setup {
            sb,
            storage,
            _dir: dir,
            project_id,
        }
    }

    /// One Greenroom instance on the shared database and sandbox.
    fn instance(s: &Setup) -> SecretChecks {
        let (netlify, github) = clients(&s.sb);
        let base = s.sb.base_url();
        let supabase = SupabaseClient::new(
            &format!("{base}/supabase"),
            Secret::new("sb"),
            Timeouts::default(),
        )
        .unwrap();
        let webhook = SlackWebhook::new(
            reqwest::Client::new(),
            Secret::new(format!("{base}/slack/services/T0/B0/x")),
        );
        let notifier = Notifier::new(s.storage.clone(), Some(webhook), "http://greenroom.test");
        SecretChecks::new(
            s.storage.clone(),
            Arc::new(VendorClients {
                netlify,
                github,
                supabase,
            }),
            notifier,
            FingerprintKey::random(),
        )
    }

    fn target(s: &Setup, project: greenroom::config::Project) -> SyncTarget {
        SyncTarget {
            project_id: s.project_id,
            project,
        }
    }

    async fn slack(s: &Setup) -> Vec<String> {
        let v: Value = reqwest::get(format!("{}/__sandbox/slack", s.sb.base_url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|m| m.to_string())
            .collect()
    }

    #[tokio::test]
    async fn a_key_that_goes_missing_is_told_to_slack_once() {
        let s = setup().await;
        let (a, b) = (instance(&s), instance(&s));
        let before = target(&s, sandbox_project());
        let first = a.refresh(&before).await.unwrap();
        assert!(!first.report.rows.is_empty());
        assert_eq!(slack(&s).await.len(), 0, "a first check is no change");
        assert_eq!(
            a.stored(s.project_id).await.unwrap().unwrap().report,
            first.report,
            "the report reads back as it was stored"
        );

        // The project now requires a key no store holds: it "went missing".
        let mut p = sandbox_project();
        p.secrets.required = Some(vec![RequiredSecret {
            key: "GR_NEW_REQUIRED_KEY".into(),
            locations: vec!["github".into()],
        }]);
        let after = target(&s, p);
        // Two instances check at once, then again one after the other.
        let (x, y) = tokio::join!(a.refresh(&after), b.refresh(&after));
        x.unwrap();
        y.unwrap();
        b.refresh(&after).await.unwrap();
        a.refresh(&after).await.unwrap();
        let messages = slack(&s).await;
        let about: Vec<_> = messages
            .iter()
            .filter(|m| m.contains("GR_NEW_REQUIRED_KEY"))
            .collect();
        assert_eq!(about.len(), 1, "{messages:?}");
        assert!(about[0].contains("/secrets?project="), "{}", about[0]);
        s.sb.stop().await;
    }

    #[tokio::test]
    async fn concurrent_rechecks_share_one_read() {
        let s = setup().await;
        let a = instance(&s);
        let t = target(&s, sandbox_project());
        let runs = futures::future::join_all((0..5).map(|_| a.refresh(&t))).await;
        // One check ran: every caller got the report it stored, stamped
        // with when its reads began. (Counting vendor requests would also
        // count a client's retries on a loaded machine.)
        let stamps: std::collections::BTreeSet<i64> =
            runs.into_iter().map(|r| r.unwrap().checked_at_ms).collect();
        assert_eq!(stamps.len(), 1, "five callers at once shared one check");
        // Asked after it, a caller gets a check of its own.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let later = a.refresh(&t).await.unwrap();
        assert!(later.checked_at_ms > *stamps.iter().next().unwrap());
        s.sb.stop().await;
    }

    #[tokio::test]
    async fn an_uploaded_env_local_is_compared_and_not_kept() {
        let s = setup().await;
        let a = instance(&s);
        let t = target(&s, sandbox_project());
        a.refresh(&t).await.unwrap();
        let stored_before = s.storage.secret_report(s.project_id).await.unwrap();
        let canary = "gr-upload-canary-5d81c2";
        let text = format!("SUPABASE_URL={canary}\nDEFAULT_ORGANIZATION_ID={canary}\n");
        let c = a.with_env_local(&t, "ada", &text).await.unwrap();
        assert!(c.env_local_checked);
        let missing = row(&c, "SUPABASE_ACCESS_TOKEN")
            .needs
            .iter()
            .find(|n| n.target == "env-local")
            .unwrap();
        assert_eq!(missing.verdict, Verdict::Missing);
        let json = serde_json::to_string(&c).unwrap();
        assert!(!json.contains(canary) && !format!("{c:?}").contains(canary));
        assert_eq!(
            s.storage.secret_report(s.project_id).await.unwrap(),
            stored_before,
            "an upload changes nothing stored"
        );
        let big = "A=1\n".repeat(20_000);
        let err = a.with_env_local(&t, "ada", &big).await.unwrap_err();
        assert!(err.to_string().contains("64 KiB"), "{err}");
        s.sb.stop().await;
    }
}
