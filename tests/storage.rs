//! One storage suite, run against both backends: a real SQLite file and the
//! machine's PostgreSQL (a throwaway database per test, dropped afterwards).
//! A test that cannot reach PostgreSQL fails; it never skips.

use greenroom::domain::DeployState;
use greenroom::storage::{
    AuditCursor, AuditFilter, AuditOutcome, DeployFilter, DeployRecord, NewAuditEvent, SiteRole,
    WorkflowJobRecord, WorkflowRunRecord,
};
use greenroom::Storage;

#[path = "support/db.rs"]
mod db;
use db::{with_postgres, with_sqlite};

/// Declares each suite test once and runs it on both backends.
macro_rules! storage_suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::with_sqlite(super::suite::$name).await; })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::with_postgres(super::suite::$name).await; })*
        }
    };
}

storage_suite!(
    migrations_are_applied_and_readiness_says_so,
    migrating_twice_is_a_no_op,
    projects_upsert_by_name,
    deploys_upsert_and_update_in_place,
    deploy_history_pages_by_key_without_gaps_or_repeats,
    deploy_history_filters_combine,
    the_last_good_deploy_of_a_site_is_found,
    workflow_runs_link_to_deploys_by_commit_and_branch,
    jobs_of_a_run_are_replaced_as_a_whole,
    test_results_are_stored_once_per_attempt_and_read_newest_first,
    audit_rows_go_from_pending_to_an_outcome_exactly_once,
    audit_rows_left_pending_become_unknown,
    audit_log_filters_and_pages,
    deleting_a_project_removes_its_cached_rows,
    sessions_are_stored_loaded_expired_and_ended,
    leases_are_exclusive_until_they_expire,
    actions_are_claimed_once_per_window,
    notifications_are_claimed_once,
    sync_status_keeps_the_error_and_since_when,
    change_marks_of_every_project_come_in_one_call,
    secret_reports_replace_and_hand_back_the_previous_one,
    dismissals_are_kept_undone_and_listed,
    sign_in_attempts_are_counted_per_client_and_minute_for_every_instance,
);

mod suite {
    use super::*;

    fn deploy(project_id: i64, n: i64, site: &str, state: &str) -> DeployRecord {
        DeployRecord {
            site_id: site.into(),
            deploy_id: format!("d{n:05}"),
            project_id,
            site_role: if site.contains("prod") {
                SiteRole::Production
            } else {
                SiteRole::Staging
            },
            context: if n % 3 == 0 {
                "deploy-preview".into()
            } else {
                "branch-deploy".into()
            },
            branch: Some(if n % 2 == 0 {
                "develop".into()
            } else {
                "feature/x".into()
            }),
            state: DeployState::from(state.to_string()),
            commit_sha: Some(format!("{n:040x}")),
            commit_message: Some(format!("Change number {n}")),
            commit_url: None,
            author: Some(if n % 5 == 0 {
                "ana".into()
            } else {
                "bo".into()
            }),
            deploy_url: Some(format!("https://d{n}--site.netlify.app")),
            error_message: None,
            // Several deploys share a timestamp, so the id must break ties.
            created_at_ms: 1_700_000_000_000 + (n / 2) * 60_000,
            published_at_ms: None,
            updated_at_ms: 1_700_000_000_000 + (n / 2) * 60_000 + 90_000,
            build_seconds: Some(60 + n % 50),
            synced_at_ms: 1_700_000_000_000,
            run_id: None,
        }
    }

    async fn project(storage: &Storage) -> i64 {
        storage
            .upsert_project("AllIncompassing", "{}")
            .await
            .unwrap()
            .id
    }

    pub async fn migrations_are_applied_and_readiness_says_so(storage: Storage) {
        let r = storage.readiness().await.unwrap();
        assert!(r.is_ready(), "{r:?}");
        assert!(r.migrations_expected >= 1);
        assert!(!r.location.contains("password"));
    }

    pub async fn migrating_twice_is_a_no_op(storage: Storage) {
        assert_eq!(storage.migrate().await.unwrap(), 0);
        assert!(storage.readiness().await.unwrap().is_ready());
    }

    pub async fn projects_upsert_by_name(storage: Storage) {
        let a = storage
            .upsert_project("AllIncompassing", r#"{"v":1}"#)
            .await
            .unwrap();
        let b = storage
            .upsert_project("AllIncompassing", r#"{"v":2}"#)
            .await
            .unwrap();
        assert_eq!(a.id, b.id);
        assert_eq!(b.config_json, r#"{"v":2}"#);
        storage.upsert_project("marketing", "{}").await.unwrap();
        let names: Vec<String> = storage
            .list_projects()
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["AllIncompassing", "marketing"]);
        assert!(storage.project_by_name("nope").await.unwrap().is_none());
    }

    pub async fn deploys_upsert_and_update_in_place(storage: Storage) {
        let p = project(&storage).await;
        let mut d = deploy(p, 1, "staging-site", "building");
        storage
            .upsert_deploys(std::slice::from_ref(&d))
            .await
            .unwrap();
        d.state = DeployState::Error;
        d.error_message = Some("Build script returned non-zero exit code: 2".into());
        storage
            .upsert_deploys(std::slice::from_ref(&d))
            .await
            .unwrap();
        let got = storage
            .get_deploy("staging-site", "d00001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, d);
        assert_eq!(storage.count_deploys(p).await.unwrap(), 1);
    }

    pub async fn deploy_history_pages_by_key_without_gaps_or_repeats(storage: Storage) {
        let p = project(&storage).await;
        let all: Vec<DeployRecord> = (0..95)
            .map(|n| deploy(p, n, "staging-site", "ready"))
            .collect();
        storage.upsert_deploys(&all).await.unwrap();
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = storage
                .list_deploys(&DeployFilter::default(), cursor.as_ref(), 10)
                .await
                .unwrap();
            if page.is_empty() {
                break;
            }
            cursor = page.last().map(DeployRecord::cursor);
            seen.extend(page.into_iter().map(|d| d.deploy_id));
        }
        let mut expected: Vec<&DeployRecord> = all.iter().collect();
        expected
            .sort_by(|a, b| (b.created_at_ms, &b.deploy_id).cmp(&(a.created_at_ms, &a.deploy_id)));
        let expected: Vec<String> = expected.into_iter().map(|d| d.deploy_id.clone()).collect();
        assert_eq!(seen, expected);
    }

    pub async fn deploy_history_filters_combine(storage: Storage) {
        let p = project(&storage).await;
        let mut all: Vec<DeployRecord> = (0..30)
            .map(|n| deploy(p, n, "staging-site", "ready"))
            .collect();
        all.extend((30..40).map(|n| deploy(p, n, "prod-site", "error")));
        storage.upsert_deploys(&all).await.unwrap();
        let filter = DeployFilter {
            site_id: Some("staging-site".into()),
            branch: Some("develop".into()),
            author: Some("ana".into()),
            ..DeployFilter::default()
        };
        let got: Vec<String> = storage
            .list_deploys(&filter, None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.deploy_id)
            .collect();
        // develop = even n, ana = n divisible by 5, staging = n < 30.
        assert_eq!(got, ["d00020", "d00010", "d00000"]);
        let failed = DeployFilter {
            state: Some("error".into()),
            ..DeployFilter::default()
        };
        assert_eq!(
            storage
                .list_deploys(&failed, None, 100)
                .await
                .unwrap()
                .len(),
            10
        );
        let window = DeployFilter {
            from_ms: Some(all[10].created_at_ms),
            until_ms: Some(all[14].created_at_ms),
            ..DeployFilter::default()
        };
        assert_eq!(
            storage
                .list_deploys(&window, None, 100)
                .await
                .unwrap()
                .len(),
            4
        );
    }

    pub async fn the_last_good_deploy_of_a_site_is_found(storage: Storage) {
        let p = project(&storage).await;
        storage
            .upsert_deploys(&[
                deploy(p, 1, "staging-site", "ready"),
                deploy(p, 4, "staging-site", "ready"),
                deploy(p, 7, "staging-site", "error"),
                deploy(p, 9, "prod-site", "ready"),
            ])
            .await
            .unwrap();
        let good = storage
            .latest_deploy_in_state("staging-site", &DeployState::Ready)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(good.deploy_id, "d00004");
        assert!(storage
            .latest_deploy_in_state("other", &DeployState::Ready)
            .await
            .unwrap()
            .is_none());
    }

    fn run(project_id: i64, run_id: i64, sha: &str, branch: &str, t: i64) -> WorkflowRunRecord {
        WorkflowRunRecord {
            run_id,
            project_id,
            workflow: "ci.yml".into(),
            run_number: run_id,
            run_attempt: 1,
            event: "push".into(),
            branch: Some(branch.into()),
            head_sha: sha.into(),
            status: "completed".into(),
            conclusion: Some("success".into()),
            actor: Some("ana".into()),
            html_url: None,
            created_at_ms: t,
            updated_at_ms: t,
            synced_at_ms: t,
        }
    }

    pub async fn workflow_runs_link_to_deploys_by_commit_and_branch(storage: Storage) {
        let p = project(&storage).await;
        storage
            .upsert_runs(&[
                run(p, 10, "abc", "develop", 1_000),
                run(p, 11, "abc", "develop", 2_000),
                run(p, 12, "abc", "main", 3_000),
            ])
            .await
            .unwrap();
        assert_eq!(
            storage
                .run_for_commit("abc", "develop")
                .await
                .unwrap()
                .unwrap()
                .run_id,
            11
        );
        assert!(storage
            .run_for_commit("def", "develop")
            .await
            .unwrap()
            .is_none());
        let mut updated = run(p, 11, "abc", "develop", 2_000);
        updated.run_attempt = 2;
        updated.conclusion = Some("failure".into());
        storage.upsert_runs(&[updated]).await.unwrap();
        let page = storage.list_runs(p, None, 2).await.unwrap();
        assert_eq!(page.iter().map(|r| r.run_id).collect::<Vec<_>>(), [12, 11]);
        assert_eq!(page[1].conclusion.as_deref(), Some("failure"));
        let rest = storage
            .list_runs(p, Some((page[1].created_at_ms, page[1].run_id)), 2)
            .await
            .unwrap();
        assert_eq!(rest.iter().map(|r| r.run_id).collect::<Vec<_>>(), [10]);
    }

    pub async fn jobs_of_a_run_are_replaced_as_a_whole(storage: Storage) {
        let p = project(&storage).await;
        storage
            .upsert_runs(&[run(p, 10, "abc", "develop", 1_000)])
            .await
            .unwrap();
        let job = |id: i64, name: &str, t: i64| WorkflowJobRecord {
            job_id: id,
            run_id: 10,
            name: name.into(),
            status: "completed".into(),
            conclusion: Some("success".into()),
            started_at_ms: Some(t),
            completed_at_ms: Some(t + 10),
            steps_json: r#"[{"name":"Smoke","status":"completed"}]"#.into(),
        };
        storage
            .replace_jobs(10, &[job(1, "build", 1), job(2, "deploy-staging", 2)])
            .await
            .unwrap();
        storage
            .replace_jobs(10, &[job(3, "build", 5), job(4, "deploy-staging", 6)])
            .await
            .unwrap();
        let names: Vec<(i64, String)> = storage
            .jobs_of_run(10)
            .await
            .unwrap()
            .into_iter()
            .map(|j| (j.job_id, j.name))
            .collect();
        assert_eq!(
            names,
            [(3, "build".to_string()), (4, "deploy-staging".to_string())]
        );
    }

    pub async fn test_results_are_stored_once_per_attempt_and_read_newest_first(storage: Storage) {
        let p = project(&storage).await;
        let mut runs: Vec<WorkflowRunRecord> = (1..=4)
            .map(|i| {
                run(
                    p,
                    100 + i,
                    if i < 3 { "aaa" } else { "bbb" },
                    "develop",
                    i * 1_000,
                )
            })
            .collect();
        runs[1].status = "in_progress".into();
        storage.upsert_runs(&runs).await.unwrap();
        let job = |id: i64, run_id: i64| WorkflowJobRecord {
            job_id: id,
            run_id,
            name: "deploy-staging".into(),
            status: "completed".into(),
            conclusion: Some("success".into()),
            started_at_ms: Some(1),
            completed_at_ms: Some(2),
            steps_json: r#"[{"name":"Smoke","status":"completed"}]"#.into(),
        };
        for r in &runs {
            storage
                .replace_jobs(r.run_id, &[job(r.run_id * 10, r.run_id)])
                .await
                .unwrap();
        }
        // Finished runs with the deploy job, newest first.
        let finished = storage
            .runs_with_job(p, "deploy-staging", Some("develop"), true, 20)
            .await
            .unwrap();
        let ids: Vec<i64> = finished.iter().map(|r| r.run_id).collect();
        assert_eq!(ids, [104, 103, 101]);
        assert!(storage.results_read(&finished).await.unwrap().is_empty());

        let key = |k: &str| k.to_string();
        let outcome = |o: &str| o.to_string();
        storage
            .store_test_results(
                &runs[0],
                &[
                    (key("s › t"), outcome("failed")),
                    (key("s › u"), outcome("passed")),
                ],
                9,
            )
            .await
            .unwrap();
        storage
            .store_test_results(&runs[3], &[(key("s › t"), outcome("passed"))], 9)
            .await
            .unwrap();
        // A second read of the same attempt changes nothing.
        storage
            .store_test_results(&runs[3], &[(key("s › t"), outcome("failed"))], 10)
            .await
            .unwrap();
        // A run with nothing to read is remembered as read.
        storage.store_test_results(&runs[2], &[], 9).await.unwrap();
        let mut read = storage.results_read(&finished).await.unwrap();
        read.sort();
        assert_eq!(read, [(101, 1), (103, 1), (104, 1)]);

        let h = storage
            .test_histories(p, &[key("s › t"), key("s › u"), key("none")], 1)
            .await
            .unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(h["s › t"].len(), 1, "at most one per test");
        assert_eq!(
            (h["s › t"][0].run_id, h["s › t"][0].outcome.as_str()),
            (104, "passed")
        );
        let h = storage
            .test_histories(p, &[key("s › t")], 20)
            .await
            .unwrap();
        let t: Vec<(i64, &str, &str)> = h["s › t"]
            .iter()
            .map(|r| (r.run_id, r.outcome.as_str(), r.head_sha.as_str()))
            .collect();
        assert_eq!(t, [(104, "passed", "bbb"), (101, "failed", "aaa")]);
    }

    fn event(action: &str, actor: &str) -> NewAuditEvent {
        NewAuditEvent {
            actor_login: Some(actor.into()),
            actor_id: Some(7),
            role: Some("deployer".into()),
            action: action.into(),
            project: Some("AllIncompassing".into()),
            target_kind: Some("site".into()),
            target_id: Some("staging-site".into()),
            params: serde_json::json!({"branch": "develop"}),
            request_id: Some("req-1".into()),
            client_ip: Some("127.0.0.1".into()),
        }
    }

    pub async fn audit_rows_go_from_pending_to_an_outcome_exactly_once(storage: Storage) {
        let id = storage
            .record_audit(&event("deploy.restore", "ana"), AuditOutcome::Pending)
            .await
            .unwrap();
        let rows = storage
            .list_audit(&AuditFilter::default(), None, 10)
            .await
            .unwrap();
        assert_eq!(rows[0].outcome, AuditOutcome::Pending);
        assert!(rows[0].completed_at_ms.is_none());
        assert!(storage
            .complete_audit(id, AuditOutcome::Succeeded, None, &["dep-9".into()])
            .await
            .unwrap());
        assert!(!storage
            .complete_audit(id, AuditOutcome::Failed, Some("late"), &[])
            .await
            .unwrap());
        let row = &storage
            .list_audit(&AuditFilter::default(), None, 10)
            .await
            .unwrap()[0];
        assert_eq!(row.outcome, AuditOutcome::Succeeded);
        assert_eq!(row.upstream_ids_json, r#"["dep-9"]"#);
        assert_eq!(row.params_json, r#"{"branch":"develop"}"#);
        assert!(row.completed_at_ms.is_some());
    }

    pub async fn audit_rows_left_pending_become_unknown(storage: Storage) {
        let crashed = storage
            .record_audit(&event("deploy.trigger", "ana"), AuditOutcome::Pending)
            .await
            .unwrap();
        let finished = storage
            .record_audit(&event("deploy.trigger", "bo"), AuditOutcome::Succeeded)
            .await
            .unwrap();
        // The audit row of an action still being worked on (by a live peer)
        // is that action's to settle.
        let p = project(&storage).await;
        let greenroom::storage::Claim::Won(working) = storage
            .claim_action(
                &greenroom::storage::NewAction {
                    project_id: p,
                    kind: "deploy-staging".into(),
                    active_key: "p:deploy-staging".into(),
                    actor_login: Some("ana".into()),
                    summary: "Deploy develop".into(),
                    target_json: "{}".into(),
                    owner: "peer".into(),
                },
                greenroom::storage::now_ms(),
                60_000,
                600_000,
            )
            .await
            .unwrap()
        else {
            panic!("the claim wins");
        };
        let of_action = storage
            .record_audit(
                &event("action.deploy-staging", "ana"),
                AuditOutcome::Pending,
            )
            .await
            .unwrap();
        storage
            .set_action_audit(working.id, of_action)
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let marked = storage
            .mark_abandoned_audits_unknown(greenroom::storage::now_ms())
            .await
            .unwrap();
        assert_eq!(marked, 1);
        // A live peer marked unknown by a restarting instance before it
        // linked the row still records the truth when it learns it.
        assert!(storage
            .settle_audit(crashed, AuditOutcome::Succeeded, Some("done"), &[])
            .await
            .unwrap());
        assert!(!storage
            .settle_audit(crashed, AuditOutcome::Failed, Some("late"), &[])
            .await
            .unwrap());
        let rows = storage
            .list_audit(&AuditFilter::default(), None, 10)
            .await
            .unwrap();
        let by_id = |id| rows.iter().find(|r| r.id == id).unwrap();
        assert_eq!(by_id(crashed).outcome, AuditOutcome::Succeeded);
        assert_eq!(by_id(of_action).outcome, AuditOutcome::Pending);
        assert_eq!(by_id(finished).outcome, AuditOutcome::Succeeded);
    }

    pub async fn audit_log_filters_and_pages(storage: Storage) {
        for i in 0..7 {
            let actor = if i % 2 == 0 { "ana" } else { "bo" };
            storage
                .record_audit(&event("sign_in", actor), AuditOutcome::Succeeded)
                .await
                .unwrap();
        }
        storage
            .record_audit(&event("sign_in", "mallory"), AuditOutcome::Refused)
            .await
            .unwrap();
        let ana = AuditFilter {
            actor_login: Some("ana".into()),
            ..AuditFilter::default()
        };
        assert_eq!(storage.list_audit(&ana, None, 100).await.unwrap().len(), 4);
        let refused = AuditFilter {
            outcome: Some(AuditOutcome::Refused),
            ..AuditFilter::default()
        };
        let rows = storage.list_audit(&refused, None, 100).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].actor_login.as_deref(), Some("mallory"));
        let first: Vec<i64> = storage
            .list_audit(&AuditFilter::default(), None, 5)
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        let cursor = AuditCursor {
            occurred_at_ms: i64::MAX,
            id: i64::MAX,
        };
        let all = storage
            .list_audit(&AuditFilter::default(), Some(cursor), 100)
            .await
            .unwrap();
        assert_eq!(all.len(), 8);
        let next = storage
            .list_audit(&AuditFilter::default(), Some(all[4].cursor()), 100)
            .await
            .unwrap();
        assert_eq!(first, all[..5].iter().map(|r| r.id).collect::<Vec<_>>());
        assert_eq!(
            next.iter().map(|r| r.id).collect::<Vec<_>>(),
            all[5..].iter().map(|r| r.id).collect::<Vec<_>>()
        );
    }

    pub async fn secret_reports_replace_and_hand_back_the_previous_one(storage: Storage) {
        let p = project(&storage).await;
        assert_eq!(storage.secret_report(p).await.unwrap(), None);
        assert!(storage
            .store_secret_report(p, None, 10, "one")
            .await
            .unwrap());
        assert!(
            !storage
                .store_secret_report(p, None, 11, "two")
                .await
                .unwrap(),
            "a second first report loses: one was stored meanwhile"
        );
        assert!(
            !storage
                .store_secret_report(p, Some(9), 20, "two")
                .await
                .unwrap(),
            "not the report read"
        );
        assert!(storage
            .store_secret_report(p, Some(10), 20, "two")
            .await
            .unwrap());
        let now = storage.secret_report(p).await.unwrap().unwrap();
        assert_eq!((now.checked_at_ms, now.report_json.as_str()), (20, "two"));
        // Two instances swapping from the same report: exactly one wins.
        let (a, b) = tokio::join!(
            storage.store_secret_report(p, Some(20), 30, "a"),
            storage.store_secret_report(p, Some(20), 31, "b")
        );
        assert!(
            a.unwrap() ^ b.unwrap(),
            "one of two swaps from the same report"
        );
        // Reports go with their project.
        storage
            .dismiss_finding(p, "x", "why", None, "ada")
            .await
            .unwrap();
        assert!(storage.delete_project(p).await.unwrap());
        assert_eq!(storage.secret_report(p).await.unwrap(), None);
    }

    pub async fn dismissals_are_kept_undone_and_listed(storage: Storage) {
        let p = project(&storage).await;
        let now = greenroom::storage::now_ms();
        let a = storage
            .dismiss_finding(p, "missing:KEY:github", "rotating today", None, "ada")
            .await
            .unwrap()
            .unwrap();
        let b = storage
            .dismiss_finding(p, "scan-disabled", "on purpose", Some(now + 60_000), "ada")
            .await
            .unwrap()
            .unwrap();
        // One active dismissal per finding, even when two arrive at once.
        let (x, y) = tokio::join!(
            storage.dismiss_finding(p, "dup", "one", None, "ada"),
            storage.dismiss_finding(p, "dup", "two", None, "bo")
        );
        assert!(x.unwrap().is_some() ^ y.unwrap().is_some());
        // A dismissal whose date has passed is closed by the next one.
        storage
            .dismiss_finding(p, "old", "then", Some(now - 1), "ada")
            .await
            .unwrap()
            .unwrap();
        let again = storage
            .dismiss_finding(p, "old", "now", None, "ada")
            .await
            .unwrap();
        assert!(
            again.is_some(),
            "an expired dismissal does not block a new one"
        );
        let listed: Vec<_> = storage
            .dismissals(p)
            .await
            .unwrap()
            .into_iter()
            .filter(|d| d.finding_id != "dup" && d.finding_id != "old")
            .collect();
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().all(|d| d.active_at(now)));
        let later = listed.iter().find(|d| d.id == b).unwrap();
        assert!(!later.active_at(now + 60_000), "ends at its date");
        let undone = storage.undo_dismissal(p, a, "bo").await.unwrap().unwrap();
        assert_eq!(undone.undone_by.as_deref(), Some("bo"));
        assert!(!undone.active_at(now));
        assert_eq!(
            storage.undo_dismissal(p, a, "bo").await.unwrap(),
            None,
            "once"
        );
        assert_eq!(
            storage.undo_dismissal(p + 1, b, "bo").await.unwrap(),
            None,
            "only its project's"
        );
        let listed = storage.dismissals(p).await.unwrap();
        let active: Vec<&str> = listed
            .iter()
            .filter(|d| d.active_at(now))
            .map(|d| d.finding_id.as_str())
            .collect();
        assert_eq!(active.len(), 3, "{active:?}");
        assert!(!active.contains(&"missing:KEY:github"));
    }

    pub async fn deleting_a_project_removes_its_cached_rows(storage: Storage) {
        // Foreign keys must be enforced on both backends (SQLite needs them switched on).
        let p = project(&storage).await;
        storage
            .upsert_deploys(&[deploy(p, 1, "staging-site", "ready")])
            .await
            .unwrap();
        let orphan = deploy(p + 1000, 2, "staging-site", "ready");
        assert!(
            storage.upsert_deploys(&[orphan]).await.is_err(),
            "a deploy of an unknown project is refused"
        );
        assert!(storage.delete_project(p).await.unwrap());
        assert_eq!(storage.count_deploys(p).await.unwrap(), 0);
    }

    pub async fn sessions_are_stored_loaded_expired_and_ended(storage: Storage) {
        use tower_sessions_core::session::{Id, Record};
        use tower_sessions_core::session_store::{ExpiredDeletion, SessionStore};
        let later = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
        let mut record = Record {
            id: Id::default(),
            data: [(
                "greenroom.user".to_string(),
                serde_json::json!({ "login": "ada" }),
            )]
            .into_iter()
            .collect(),
            expiry_date: later,
        };
        storage.create(&mut record).await.unwrap();
        let loaded = storage.load(&record.id).await.unwrap().expect("stored");
        assert_eq!(loaded.data, record.data);
        assert_eq!(loaded.expiry_date.unix_timestamp(), later.unix_timestamp());
        // An id that exists is not overwritten by create: it draws a new one.
        let mut clash = Record {
            id: record.id,
            data: Default::default(),
            expiry_date: later,
        };
        storage.create(&mut clash).await.unwrap();
        assert_ne!(clash.id, record.id);
        assert_eq!(
            storage.load(&record.id).await.unwrap().unwrap().data,
            record.data
        );
        // Save replaces; an expired record is never loaded and is swept.
        record.data.insert("k".into(), serde_json::json!(1));
        storage.save(&record).await.unwrap();
        assert_eq!(
            storage.load(&record.id).await.unwrap().unwrap().data.len(),
            2
        );
        let mut expired = Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: time::OffsetDateTime::now_utc() - time::Duration::seconds(1),
        };
        storage.create(&mut expired).await.unwrap();
        assert!(storage.load(&expired.id).await.unwrap().is_none());
        assert_eq!(storage.session_count().await.unwrap(), 3);
        storage.delete_expired().await.unwrap();
        assert_eq!(storage.session_count().await.unwrap(), 2);
        // Ending all but one (the other was just loaded, so this instance
        // holds it in memory: it must forget it too); then deleting that one.
        assert!(storage.load(&clash.id).await.unwrap().is_some());
        assert_eq!(
            storage
                .delete_sessions_except(Some(&record.id.to_string()))
                .await
                .unwrap(),
            1
        );
        assert!(storage.load(&clash.id).await.unwrap().is_none());
        storage.delete(&record.id).await.unwrap();
        assert!(storage.load(&record.id).await.unwrap().is_none());
        assert_eq!(storage.session_count().await.unwrap(), 0);
        // A request still in flight when its session ended saves it at its
        // end: the session stays ended.
        storage.save(&record).await.unwrap();
        assert!(storage.load(&record.id).await.unwrap().is_none());
        assert_eq!(storage.session_count().await.unwrap(), 0);
    }

    pub async fn leases_are_exclusive_until_they_expire(storage: Storage) {
        let t = 1_000_000;
        assert!(storage
            .try_acquire_lease("sync", "a", t, 5_000)
            .await
            .unwrap());
        assert!(!storage
            .try_acquire_lease("sync", "b", t + 1_000, 5_000)
            .await
            .unwrap());
        assert!(
            storage
                .try_acquire_lease("sync", "a", t + 2_000, 5_000)
                .await
                .unwrap(),
            "the holder renews"
        );
        assert!(
            !storage
                .try_acquire_lease("sync", "b", t + 6_000, 5_000)
                .await
                .unwrap(),
            "renewed until t + 7 s"
        );
        assert!(
            storage
                .try_acquire_lease("sync", "b", t + 7_001, 5_000)
                .await
                .unwrap(),
            "expired: b takes over"
        );
        assert_eq!(storage.lease_holder("sync").await.unwrap().unwrap().0, "b");
        storage.release_lease("sync", "a").await.unwrap();
        assert_eq!(
            storage.lease_holder("sync").await.unwrap().unwrap().0,
            "b",
            "only the holder releases"
        );
        storage.release_lease("sync", "b").await.unwrap();
        assert!(storage
            .try_acquire_lease("sync", "a", t + 7_002, 5_000)
            .await
            .unwrap());
    }

    pub async fn actions_are_claimed_once_per_window(storage: Storage) {
        use greenroom::storage::{ActionState, Claim, NewAction};
        let p = project(&storage).await;
        let new = NewAction {
            project_id: p,
            kind: "redeploy-last-good".into(),
            active_key: "AllIncompassing:redeploy-last-good".into(),
            actor_login: Some("dev-deployer".into()),
            summary: "Publish d1 again".into(),
            target_json: "{}".into(),
            owner: "a".into(),
        };
        let t = 10_000_000;
        let Claim::Won(first) = storage
            .claim_action(&new, t, 60_000, 600_000)
            .await
            .unwrap()
        else {
            panic!("the first claim wins");
        };
        assert_eq!(first.state, ActionState::Starting);
        let Claim::AlreadyUnderWay(same) = storage
            .claim_action(&new, t + 1, 60_000, 600_000)
            .await
            .unwrap()
        else {
            panic!("a second claim finds the first");
        };
        assert_eq!(same.id, first.id);
        storage
            .update_action(
                first.id,
                ActionState::Succeeded,
                Some("d1"),
                Some("done"),
                "[]",
                t + 1_000,
                None,
            )
            .await
            .unwrap();
        // Finished, but within its window: still the same action.
        assert!(matches!(
            storage.claim_action(&new, t + 30_000, 60_000, 600_000).await.unwrap(),
            Claim::AlreadyUnderWay(a) if a.id == first.id && a.state == ActionState::Succeeded
        ));
        // A finished action stays finished.
        storage
            .update_action(
                first.id,
                ActionState::Failed,
                None,
                None,
                "[]",
                t + 2_000,
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            storage.get_action(first.id).await.unwrap().unwrap().state,
            ActionState::Succeeded
        );
        // Only its owner moves an action once it has one.
        let other = NewAction {
            active_key: "AllIncompassing:deploy-staging".into(),
            kind: "deploy-staging".into(),
            ..new.clone()
        };
        let Claim::Won(held) = storage
            .claim_action(&other, t, 60_000, 600_000)
            .await
            .unwrap()
        else {
            panic!("another key is claimed apart");
        };
        storage
            .update_action(
                held.id,
                ActionState::Failed,
                None,
                None,
                "[]",
                t + 10,
                Some("intruder"),
            )
            .await
            .unwrap();
        assert_eq!(
            storage.get_action(held.id).await.unwrap().unwrap().state,
            ActionState::Starting
        );
        // An outcome that stays unknown ends the action but keeps the key for
        // the stale window, not the short one: the vendor may still act.
        storage
            .give_up_action(held.id, "could not find out", "[]", t + 1_000, Some("a"))
            .await
            .unwrap();
        let gone = storage.get_action(held.id).await.unwrap().unwrap();
        assert_eq!(gone.state, ActionState::Unknown);
        assert!(gone.finished_at_ms.is_some());
        assert!(matches!(
            storage.claim_action(&other, t + 61_001 + 60_000, 60_000, 600_000).await.unwrap(),
            Claim::AlreadyUnderWay(a) if a.id == held.id
        ));
        let Claim::Won(retry) = storage
            .claim_action(&other, t + 1_000 + 600_001, 60_000, 600_000)
            .await
            .unwrap()
        else {
            panic!("after the stale window a retry wins");
        };
        assert_ne!(retry.id, held.id);
        storage
            .update_action(
                retry.id,
                ActionState::Succeeded,
                None,
                None,
                "[]",
                t + 601_002,
                Some("a"),
            )
            .await
            .unwrap();
        // After the window, a new one.
        let Claim::Won(second) = storage
            .claim_action(&new, t + 61_001, 60_000, 600_000)
            .await
            .unwrap()
        else {
            panic!("after the window a new claim wins");
        };
        assert_ne!(second.id, first.id);
        // An unfinished claim whose instance died stops blocking after `stale`.
        assert!(matches!(
            storage.claim_action(&new, t + 61_001 + 600_001, 60_000, 600_000).await.unwrap(),
            Claim::Won(a) if a.id != second.id
        ));
        assert_eq!(storage.recent_actions(p, "", 10).await.unwrap().len(), 5);
        // The two unfinished ones lost their owner's heartbeat: each is
        // adopted once, by whoever asks first.
        let now = t + 61_001 + 600_001 + 10_000;
        let adopted = storage
            .adopt_orphaned_actions("b", &[], now, 5_000)
            .await
            .unwrap();
        assert_eq!(adopted.len(), 2);
        assert!(adopted.iter().all(|a| a.owner.as_deref() == Some("b")));
        assert!(storage
            .adopt_orphaned_actions("c", &[], now, 5_000)
            .await
            .unwrap()
            .is_empty());
        // While their new owner's heartbeat goes on, nobody else takes them.
        let ids: Vec<i64> = adopted.iter().map(|a| a.id).collect();
        storage
            .heartbeat_actions("b", &ids, now + 4_000)
            .await
            .unwrap();
        assert!(storage
            .adopt_orphaned_actions("c", &[], now + 8_000, 5_000)
            .await
            .unwrap()
            .is_empty());
        // Another instance's heartbeat does not count, and it learns the
        // actions are not its own.
        assert_eq!(
            storage
                .heartbeat_actions("c", &ids, now + 9_500)
                .await
                .unwrap(),
            ids
        );
        assert_eq!(
            storage
                .adopt_orphaned_actions("c", &[], now + 9_500, 5_000)
                .await
                .unwrap()
                .len(),
            2
        );
        // A finished action is never adopted.
        storage
            .update_action(
                ids[0],
                ActionState::Failed,
                None,
                None,
                "[]",
                now + 10_000,
                None,
            )
            .await
            .unwrap();
        // An instance never adopts what it is working on itself.
        assert!(storage
            .adopt_orphaned_actions("d", &[ids[1]], now + 60_000, 5_000)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            storage
                .adopt_orphaned_actions("d", &[], now + 60_000, 5_000)
                .await
                .unwrap()
                .len(),
            1
        );
    }

    pub async fn notifications_are_claimed_once(storage: Storage) {
        assert!(storage
            .claim_notification("action:1:started", 1)
            .await
            .unwrap());
        assert!(!storage
            .claim_notification("action:1:started", 2)
            .await
            .unwrap());
        storage
            .complete_notification(
                "action:1:started",
                false,
                Some("Slack failed to answer (500)"),
            )
            .await
            .unwrap();
        assert!(storage
            .claim_notification("action:1:ended", 3)
            .await
            .unwrap());
        storage
            .complete_notification("action:1:ended", true, None)
            .await
            .unwrap();
        let failed = storage.failed_notifications(10).await.unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].0, "action:1:started");
        assert!(failed[0].2.contains("500"));
    }

    pub async fn sync_status_keeps_the_error_and_since_when(storage: Storage) {
        let p = project(&storage).await;
        storage
            .record_sync_success(p, "netlify", 1_000, true)
            .await
            .unwrap();
        storage
            .record_sync_failure(p, "netlify", 2_000, "Netlify failed (503)")
            .await
            .unwrap();
        storage
            .record_sync_failure(p, "netlify", 3_000, "Netlify failed (502)")
            .await
            .unwrap();
        let s = &storage.sync_statuses(p).await.unwrap()[0];
        assert_eq!(s.last_success_ms, Some(1_000), "the last good time stays");
        assert_eq!(
            s.error_since_ms,
            Some(2_000),
            "failing since the first failure"
        );
        assert_eq!(s.error.as_deref(), Some("Netlify failed (502)"));
        assert_eq!(s.last_attempt_ms, Some(3_000));
        assert!(s.full_load_done);
        assert_eq!(
            storage.change_mark(p).await.unwrap().mark,
            2_000,
            "the first failure is a change"
        );
        storage
            .record_sync_success(p, "netlify", 4_000, false)
            .await
            .unwrap();
        let s = &storage.sync_statuses(p).await.unwrap()[0];
        assert_eq!((s.error.as_deref(), s.error_since_ms), (None, None));
        assert_eq!(
            storage.change_mark(p).await.unwrap().mark,
            2_000,
            "nothing new: the mark stays"
        );
        storage
            .record_sync_success(p, "netlify", 5_000, true)
            .await
            .unwrap();
        assert_eq!(storage.change_mark(p).await.unwrap().mark, 5_000);
    }

    pub async fn change_marks_of_every_project_come_in_one_call(storage: Storage) {
        let p = project(&storage).await;
        let q = storage.upsert_project("Other", "{}").await.unwrap().id;
        storage
            .record_sync_success(p, "netlify", 1_000, true)
            .await
            .unwrap();
        storage
            .record_sync_success(p, "github", 3_000, false)
            .await
            .unwrap();
        let before = storage.calls();
        let mut marks = storage.change_marks().await.unwrap();
        assert_eq!(storage.calls() - before, 1, "one call for every project");
        marks.sort_by_key(|m| m.project_id);
        let of = |id: i64| *marks.iter().find(|m| m.project_id == id).unwrap();
        assert_eq!((of(p).mark, of(p).attempted_ms), (1_000, 3_000));
        assert_eq!(
            of(p).deploys_mark,
            storage.deploys_change_mark().await.unwrap()
        );
        assert_eq!((of(q).mark, of(q).attempted_ms), (0, 0), "never synced");
        assert_eq!(of(p), storage.change_mark(p).await.unwrap());
        assert_eq!(
            storage.counted_apart().calls(),
            0,
            "a handle counted apart starts from nothing"
        );
    }

    pub async fn sign_in_attempts_are_counted_per_client_and_minute_for_every_instance(
        storage: Storage,
    ) {
        // Another instance on the same database: a second handle.
        let other = storage.counted_apart();
        let minute = 29_000_000;
        assert_eq!(
            storage
                .count_sign_in_attempt("10.0.0.1", minute)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            other
                .count_sign_in_attempt("10.0.0.1", minute)
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            storage
                .count_sign_in_attempt("10.0.0.2", minute)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            other
                .count_sign_in_attempt("10.0.0.1", minute + 1)
                .await
                .unwrap(),
            1,
            "a new minute starts again"
        );
        // Once the old minutes are forgotten, their counts start again.
        storage
            .forget_sign_in_attempts_before(minute + 1)
            .await
            .unwrap();
        assert_eq!(
            storage
                .count_sign_in_attempt("10.0.0.1", minute)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            other
                .count_sign_in_attempt("10.0.0.1", minute + 1)
                .await
                .unwrap(),
            2,
            "the current minute is kept"
        );
        // Two instances, each with its own limiter, on one database.
        let here = greenroom::auth::rate_limit::SignInLimiter::new(2);
        let there = greenroom::auth::rate_limit::SignInLimiter::new(2);
        let ip: std::net::IpAddr = "10.9.9.9".parse().unwrap();
        let now = (minute + 5) * 60_000 + 15_000;
        assert!(here.attempt(&storage, ip, now).await.is_ok());
        assert!(there.attempt(&other, ip, now).await.is_ok());
        assert_eq!(
            here.attempt(&storage, ip, now).await,
            Err(45),
            "the third attempt of the minute, whichever instance counts it"
        );
        // One IPv6 client is its /64: a new address in it does not reset the count.
        let a: std::net::IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: std::net::IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert!(here.attempt(&storage, a, now).await.is_ok());
        assert!(there.attempt(&other, b, now).await.is_ok());
        assert!(here.attempt(&storage, b, now).await.is_err());
    }
}
