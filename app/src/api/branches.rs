//! The Branches page's data: a project's Supabase branches as sync last
//! stored them (`greenroom::branch_sync`), arranged by the core
//! (`greenroom::branches`). Host, port, user and version of a branch's
//! database only; its password and JWT secret are never read.

use crate::model::{ApiError, BranchesView};
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

/// `GET /api/branches?project=NAME`: the project's branches, runs,
/// attention, cost and backups, as stored by the last sync.
#[server(prefix = "/api", endpoint = "branches", input = GetUrl)]
pub async fn get_branches(#[server(default)] project: String) -> Result<BranchesView, ApiError> {
    super::with_status(
        async {
            let user = super::authorize("/api/branches")?;
            view(&user, &project).await
        }
        .await,
    )
}

/// The page as HTML (`/api/fragments/page`).
#[cfg(feature = "ssr")]
pub(super) async fn page(query: &str) -> Result<String, ApiError> {
    #[derive(serde::Deserialize)]
    struct Q {
        #[serde(default)]
        project: String,
    }
    use leptos::server_fn::error::ServerFnUrlError;
    let q: Q = super::read_query(query)?;
    // A form post that failed comes back with its error in `__err` (the
    // newest last when several did).
    let posted = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap_or_default()
        .into_iter()
        .rfind(|(k, _)| k == "__err")
        .map(|(_, e)| ServerFnUrlError::<ApiError>::decode_err(&e).to_string());
    let user = super::with_status(super::authorize("/api/branches"))?;
    let v = super::with_status(view(&user, &q.project).await)?;
    Ok(crate::views::branches::html(&v, posted.as_deref()))
}

#[cfg(feature = "ssr")]
pub(super) async fn view(
    user: &Option<greenroom::auth::SessionUser>,
    project: &str,
) -> Result<BranchesView, ApiError> {
    use crate::model::{BranchSection, CostView};
    use greenroom::branches::layout::{billed, Section};
    use greenroom::branches::{cost, Snapshot};
    use greenroom::domain::Role;
    let services = super::services()?;
    let t = super::secrets::select(&services, project)?;
    let now = greenroom::storage::now_ms();
    let mark = services.ops.overviews.mark(t.project_id).await?;
    let stored = services.storage.branch_snapshot(t.project_id).await?;
    let snapshot: Option<Snapshot> = match stored {
        Some(json) => Some(Snapshot::parse(&json).map_err(|e| {
            ApiError::Unavailable(format!(
                "The stored branches could not be read ({e}); the next sync pass stores them again."
            ))
        })?),
        None => None,
    };
    let prices = services.config.branches.prices();
    let rules = services.config.branches.rules();
    let s = snapshot.clone().unwrap_or_default();
    let repo = greenroom::sync::repo_of(&t.project);
    let mut sections: Vec<BranchSection> = Section::ALL
        .iter()
        .map(|sec| BranchSection {
            key: sec.key().into(),
            title: sec.title().into(),
            empty: sec.empty().into(),
            branches: Vec::new(),
        })
        .collect();
    let mut attention = Vec::new();
    let mut branches: Vec<&greenroom::providers::supabase::Branch> = s.branches.iter().collect();
    branches.sort_by(|a, b| a.name.cmp(&b.name));
    for b in branches {
        let v = convert::branch(b, &s, &rules, &prices, &repo, now);
        for a in &v.attention {
            attention.push(format!("{}: {a}", b.name));
        }
        let i = Section::ALL
            .iter()
            .position(|sec| *sec == Section::of(b))
            .unwrap_or(2);
        sections[i].branches.push(v);
    }
    let running = s.branches.iter().filter(|b| billed(b)).count();
    let cost = CostView {
        size: prices.branch_size.clone(),
        hourly: prices.branch_hourly().map(cost::usd),
        running,
        monthly: prices.monthly(running).map(cost::usd),
        warning: cost::SPEND_CAP_WARNING.into(),
    };
    let backups = s
        .backups
        .as_ref()
        .map(|b| convert::backups(b, &t.project, now));
    Ok(BranchesView {
        project: t.project.name.to_string(),
        configured: t.project.supabase.is_some(),
        read_at_ms: snapshot.as_ref().map(|s| s.read_at_ms).filter(|ms| *ms > 0),
        now_ms: now,
        mark,
        sections,
        attention,
        cost,
        backups,
        problems: s.problems.values().cloned().collect(),
        can_create: super::has_role(user, Role::Deployer),
        can_delete: super::has_role(user, Role::Admin),
        operations: services
            .storage
            .recent_actions(t.project_id, "branch-", 10)
            .await?
            .iter()
            .map(super::convert::action_view)
            .collect(),
    })
}

#[cfg(feature = "ssr")]
mod convert {
    use crate::model::{
        BackupRow, BackupsView, BranchRunStep, BranchRunView, BranchView, ConnectionView,
    };
    use greenroom::branches::backups::parse_backup_time;
    use greenroom::branches::layout::{billed, failed_step, phase_of, step_words};
    use greenroom::branches::{
        attention_for, cost, summarize_backups, AttentionRules, BranchFacts, BranchStatus,
        PriceTable, ProjectStatus, Snapshot,
    };
    use greenroom::providers::github::Repo;
    use greenroom::providers::supabase::{ActionRun, Backups, Branch};
    use greenroom::text::parse_ms;

    pub fn branch(
        b: &Branch,
        s: &Snapshot,
        rules: &AttentionRules,
        prices: &PriceTable,
        repo: &Repo,
        now: i64,
    ) -> BranchView {
        let status = BranchStatus::parse(&b.status);
        let preview = b
            .preview_project_status
            .as_deref()
            .map(ProjectStatus::parse);
        let created_ms = parse_ms(&b.created_at);
        let updated_ms = parse_ms(&b.updated_at);
        let attention = match (created_ms, updated_ms) {
            (Some(created_ms), Some(updated_ms)) => attention_for(
                &BranchFacts {
                    is_default: b.is_default,
                    persistent: b.persistent,
                    status: &status,
                    preview: preview.as_ref(),
                    created_ms,
                    updated_ms,
                    git_branch: b.git_branch.as_deref(),
                    last_commit_ms: b
                        .git_branch
                        .as_ref()
                        .and_then(|g| s.commits.get(g))
                        .copied(),
                },
                rules,
                prices,
                now,
            )
            .iter()
            .map(|a| a.words())
            .collect(),
            _ => vec!["Supabase sent times Greenroom cannot read for this branch.".into()],
        };
        BranchView {
            id: b.id.clone(),
            name: b.name.clone(),
            production: b.is_default,
            git_branch: b.git_branch.clone(),
            phase: phase_of(b).to_string(),
            status: b.status.clone(),
            status_words: status.words(),
            database: b.preview_project_status.clone(),
            database_words: preview.as_ref().map(ProjectStatus::words),
            persistent: b.persistent,
            created_ms,
            updated_ms,
            pr_number: b.pr_number,
            pr_url: b
                .pr_number
                .map(|n| format!("https://github.com/{}/{}/pull/{n}", repo.owner, repo.name)),
            deletion_scheduled_ms: b.deletion_scheduled_at.as_deref().and_then(parse_ms),
            hourly: billed(b)
                .then(|| prices.branch_hourly().map(cost::usd))
                .flatten(),
            connection: s.connections.get(&b.id).map(|c| ConnectionView {
                host: c.host.clone(),
                port: c.port,
                user: c.user.clone(),
                postgres_version: c.postgres_version.clone(),
            }),
            run: s.runs.get(&b.id).map(|r| run(r, s, &status)),
            attention,
        }
    }

    fn run(r: &ActionRun, s: &Snapshot, status: &BranchStatus) -> BranchRunView {
        let log = s.logs.get(&r.id);
        BranchRunView {
            id: r.id.clone(),
            started_ms: parse_ms(&r.created_at),
            steps: r
                .run_steps
                .iter()
                .map(|st| {
                    let ran = matches!(st.status.as_str(), "EXITED" | "DEAD");
                    let duration = match (parse_ms(&st.created_at), parse_ms(&st.updated_at)) {
                        (Some(a), Some(b)) if ran && b >= a => {
                            Some(crate::format::duration(((b - a) / 1000) as u64))
                        }
                        _ => None,
                    };
                    BranchRunStep {
                        name: st.name.clone(),
                        status: st.status.clone(),
                        status_words: step_words(&st.status),
                        duration,
                    }
                })
                .collect(),
            failed_step: failed_step(r, status),
            why: log.map(|l| l.why.clone()).unwrap_or_default(),
            log: log.map(|l| l.lines.clone()).unwrap_or_default(),
            omitted: log.map(|l| l.omitted).unwrap_or(0),
        }
    }

    pub fn backups(b: &Backups, project: &greenroom::config::Project, now: i64) -> BackupsView {
        let summary = summarize_backups(b, now);
        let project_ref = project
            .supabase
            .as_ref()
            .map(|s| s.project_ref.as_str())
            .unwrap_or("_");
        let mut rows: Vec<BackupRow> = b
            .backups
            .iter()
            .map(|x| BackupRow {
                status: x.status.clone(),
                at_ms: parse_backup_time(&x.inserted_at),
                kind: if x.is_physical_backup {
                    "physical".into()
                } else {
                    "logical".into()
                },
            })
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.at_ms));
        BackupsView {
            pitr_enabled: summary.pitr_enabled,
            window: summary.window.words(now),
            warnings: summary.warnings.iter().map(|w| w.words(now)).collect(),
            backups: rows,
            restore_url: format!(
                "https://supabase.com/dashboard/project/{}/database/backups/{}",
                crate::format::query_escape(project_ref),
                if summary.pitr_enabled {
                    "pitr"
                } else {
                    "scheduled"
                }
            ),
        }
    }
}

/// A branch operation as asked for.
#[cfg(feature = "ssr")]
enum Op {
    Create(greenroom::actions::BranchRequest),
    Delete {
        branch: String,
        confirm_name: String,
    },
    Restore {
        branch: String,
    },
}

/// Runs `op` on `project` for whoever asks at `path` (the policy decides
/// who may); says whether it started or was already under way.
#[cfg(feature = "ssr")]
async fn operate(path: &str, project: &str, op: Op) -> Result<crate::model::StartedView, ApiError> {
    let actor = super::actor(path)?;
    let services = super::services()?;
    let t = super::secrets::select(&services, project)?;
    let actions = &services.ops.actions;
    let s = match op {
        Op::Create(req) => actions.create_branch(t, &actor, req).await?,
        Op::Delete {
            branch,
            confirm_name,
        } => {
            actions
                .delete_branch(t, &actor, &branch, &confirm_name)
                .await?
        }
        Op::Restore { branch } => actions.restore_branch(t, &actor, &branch).await?,
    };
    Ok(super::convert::started_view(s))
}

/// `POST /api/branches/create` (deployer; `project`, `name`, optional
/// `git_branch`, `kind=preview|persistent`, `with_data=on`, `confirm=on`):
/// creates a Supabase branch, audited, announced and followed to its end.
/// Equal requests for the same project and name start it once.
#[server(prefix = "/api", endpoint = "branches/create")]
pub async fn create_branch(
    #[server(default)] project: String,
    #[server(default)] name: String,
    #[server(default)] git_branch: String,
    #[server(default)] kind: String,
    #[server(default)] with_data: String,
    #[server(default)] confirm: String,
) -> Result<crate::model::StartedView, ApiError> {
    super::with_status(
        async {
            let persistent = match kind.as_str() {
                "" | "preview" => false,
                "persistent" => true,
                other => {
                    return Err(ApiError::BadRequest(format!(
                        "kind {other:?} is not a branch kind; use preview or persistent"
                    )))
                }
            };
            if confirm.is_empty() {
                return Err(ApiError::BadRequest(
                    "Confirm that the branch is billed by the hour (the checkbox), then create it."
                        .into(),
                ));
            }
            let req = greenroom::actions::BranchRequest {
                name,
                git_branch: Some(git_branch),
                persistent,
                with_data: !with_data.is_empty(),
                branch_id: None,
            };
            operate("/api/branches/create", &project, Op::Create(req)).await
        }
        .await,
    )
}

/// `POST /api/branches/delete` (admin; `project`, `branch` id,
/// `confirm_name` typed exactly): schedules the branch's deletion.
#[server(prefix = "/api", endpoint = "branches/delete")]
pub async fn delete_branch(
    #[server(default)] project: String,
    #[server(default)] branch: String,
    #[server(default)] confirm_name: String,
) -> Result<crate::model::StartedView, ApiError> {
    super::with_status(
        async {
            let op = Op::Delete {
                branch,
                confirm_name,
            };
            operate("/api/branches/delete", &project, op).await
        }
        .await,
    )
}

/// `POST /api/branches/restore` (admin; `project`, `branch` id): takes
/// back a scheduled deletion while Supabase allows it.
#[server(prefix = "/api", endpoint = "branches/restore")]
pub async fn restore_branch(
    #[server(default)] project: String,
    #[server(default)] branch: String,
) -> Result<crate::model::StartedView, ApiError> {
    super::with_status(
        async { operate("/api/branches/restore", &project, Op::Restore { branch }).await }.await,
    )
}
