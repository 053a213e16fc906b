//! The secret coverage page's data and what can be done on it: re-check a
//! project now, compare an uploaded `.env.local` (checked and forgotten),
//! dismiss a finding and undo that (admins). Every answer carries names,
//! states, letters and dates; never a value.

use crate::model::{ApiError, SecretsQuery, SecretsView};
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

/// `GET /api/secrets?query[project]=&query[problems]=1&query[location]=&query[key]=`:
/// the project's stored report, filtered.
#[server(prefix = "/api", endpoint = "secrets", input = GetUrl)]
pub async fn get_secrets(#[server(default)] query: SecretsQuery) -> Result<SecretsView, ApiError> {
    super::with_status(
        async {
            let user = super::authorize("/api/secrets")?;
            stored(&user, &query).await
        }
        .await,
    )
}

/// `POST /api/secrets/recheck` (`project=NAME`): reads the project's stores
/// now and stores the report; returns when it was made. A plain form post
/// is redirected back to the page.
#[server(prefix = "/api", endpoint = "secrets/recheck")]
pub async fn recheck_secrets(#[server(default)] project: String) -> Result<i64, ApiError> {
    super::with_status(
        async {
            super::authorize("/api/secrets/recheck")?;
            let services = super::services()?;
            let t = select(&services, &project)?;
            let done = services.ops.secrets.refresh(t).await?;
            Ok(done.checked_at_ms)
        }
        .await,
    )
}

/// `POST /api/fragments/secrets-env-local` (`project=NAME&text=…`): the
/// page as HTML, checked with this `.env.local` against a fresh read of
/// the stores. The file is parsed in memory and dropped; only key names,
/// states and letters come back.
#[server(prefix = "/api", endpoint = "fragments/secrets-env-local")]
pub async fn check_env_local(
    #[server(default)] project: String,
    #[server(default)] text: String,
) -> Result<String, ApiError> {
    super::with_status(
        async {
            let user = super::authorize("/api/fragments/secrets-env-local")?;
            let services = super::services()?;
            let t = select(&services, &project)?;
            compare(&user, &services, t, text).await
        }
        .await,
    )
}

/// The report of `t` checked with this `.env.local` against a fresh read of
/// the stores, as HTML. The text is dropped here, unread by anything else.
#[cfg(feature = "ssr")]
async fn compare(
    user: &Option<greenroom::auth::SessionUser>,
    services: &greenroom::Services,
    t: &greenroom::sync::SyncTarget,
    text: String,
) -> Result<String, ApiError> {
    let who = user.as_ref().map(|u| u.login.as_str()).unwrap_or("");
    let report = services.ops.secrets.with_env_local(t, who, &text).await?;
    drop(text);
    let query = SecretsQuery {
        project: Some(t.project.name.to_string()),
        ..Default::default()
    };
    let v = view(user, services, t, &report, None, &query).await?;
    Ok(crate::views::secrets::html(&v, &query))
}

/// A `.env.local` posted to `/secrets` (the page's upload form), for the
/// render that answers the post: taken once, by the page, then gone. Not
/// `Debug`, so it cannot be printed by accident.
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct EnvLocalUpload(std::sync::Arc<std::sync::Mutex<Option<Result<String, String>>>>);

#[cfg(feature = "ssr")]
impl EnvLocalUpload {
    /// The file's text, to compare.
    pub fn file(text: String) -> Self {
        Self(std::sync::Arc::new(std::sync::Mutex::new(Some(Ok(text)))))
    }

    /// A post that could not be used, with what to tell the person.
    pub fn refused(why: String) -> Self {
        Self(std::sync::Arc::new(std::sync::Mutex::new(Some(Err(why)))))
    }

    fn take(&self) -> Option<Result<String, String>> {
        self.0.lock().ok().and_then(|mut u| u.take())
    }
}

/// The secret coverage page as HTML (`/api/fragments/page`): the heading,
/// the re-check and upload forms, the error a form post was redirected
/// back with (`__err`), and the stored report, or the comparison with an
/// uploaded `.env.local` when this render answers the upload.
#[cfg(feature = "ssr")]
pub(super) async fn page(query: &str) -> Result<String, ApiError> {
    use leptos::server_fn::error::ServerFnUrlError;
    let q: SecretsQuery = super::read_query(query)?;
    // After several failed posts in a row the address holds one `__err`
    // each; the newest is the last.
    let posted = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap_or_default()
        .into_iter()
        .rfind(|(k, _)| k == "__err")
        .map(|(_, e)| ServerFnUrlError::<ApiError>::decode_err(&e).to_string());
    let user = super::with_status(super::authorize("/api/fragments/secrets"))?;
    let services = super::services()?;
    let t = super::with_status(select(&services, q.project.as_deref().unwrap_or("")))?;
    let upload = use_context::<EnvLocalUpload>().and_then(|u| u.take());
    let (compared, problem) = match upload {
        Some(Ok(text)) => match compare(&user, &services, t, text).await {
            Ok(html) => (Some(html), None),
            Err(e) => (None, Some(e.to_string())),
        },
        Some(Err(why)) => (None, Some(why)),
        None => (None, None),
    };
    let was_compared = compared.is_some();
    let body = match compared {
        Some(html) => html,
        None => {
            let v = super::with_status(stored(&user, &q).await)?;
            crate::views::secrets::html(&v, &q)
        }
    };
    Ok(crate::views::secrets::page_html(
        t.project.name.as_str(),
        posted.as_deref(),
        problem.as_deref(),
        was_compared,
        &body,
    ))
}

/// `POST /api/secrets/dismiss` (admin; `project`, `finding`, `reason`,
/// optional `until=YYYY-MM-DD`): hides a finding, audited.
#[server(prefix = "/api", endpoint = "secrets/dismiss")]
pub async fn dismiss_finding(
    #[server(default)] project: String,
    finding: String,
    #[server(default)] reason: String,
    #[server(default)] until: String,
) -> Result<i64, ApiError> {
    super::with_status(
        async {
            let user = signed_in(super::authorize("/api/secrets/dismiss")?)?;
            let services = super::services()?;
            let t = select(&services, &project)?;
            let until_ms = match until.trim() {
                "" => None,
                day => Some(
                    greenroom::text::parse_day(day).ok_or_else(|| {
                        ApiError::BadRequest(format!(
                            "{day:?} is not a date; use YYYY-MM-DD or leave it empty."
                        ))
                    })? + 86_400_000,
                ),
            };
            Ok(services
                .ops
                .secrets
                .dismiss(t, &user, &finding, &reason, until_ms)
                .await?)
        }
        .await,
    )
}

/// `POST /api/secrets/undo-dismissal` (admin; `project`, `dismissal=ID`):
/// shows the finding again, audited.
#[server(prefix = "/api", endpoint = "secrets/undo-dismissal")]
pub async fn undo_dismissal(
    #[server(default)] project: String,
    dismissal: i64,
) -> Result<(), ApiError> {
    super::with_status(
        async {
            let user = signed_in(super::authorize("/api/secrets/undo-dismissal")?)?;
            let services = super::services()?;
            let t = select(&services, &project)?;
            services
                .ops
                .secrets
                .undo_dismissal(t, &user, dismissal)
                .await?;
            Ok(())
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn signed_in(
    user: Option<greenroom::auth::SessionUser>,
) -> Result<greenroom::auth::SessionUser, ApiError> {
    user.ok_or_else(|| ApiError::Unauthorized("Sign in to do this.".into()))
}

/// The project named (in any case), else the first configured.
#[cfg(feature = "ssr")]
pub(super) fn select<'a>(
    services: &'a greenroom::Services,
    project: &str,
) -> Result<&'a greenroom::sync::SyncTarget, ApiError> {
    let t = services.ops.select(project).ok_or_else(|| {
        ApiError::NotFound(
            "No project is configured; add a [[projects]] block to greenroom.toml.".into(),
        )
    })?;
    if !project.is_empty() && !t.project.name.as_str().eq_ignore_ascii_case(project) {
        return Err(ApiError::NotFound(format!(
            "No project is called {project:?}; pick one from the project switcher."
        )));
    }
    Ok(t)
}

/// The stored report of the query's project, as the filters show it.
#[cfg(feature = "ssr")]
pub(super) async fn stored(
    user: &Option<greenroom::auth::SessionUser>,
    query: &SecretsQuery,
) -> Result<SecretsView, ApiError> {
    let services = super::services()?;
    let t = select(&services, query.project.as_deref().unwrap_or(""))?;
    match services.ops.secrets.stored(t.project_id).await? {
        Some(s) => view(user, &services, t, &s.report, Some(s.checked_at_ms), query).await,
        None => Ok(not_checked(user, &services, t)),
    }
}

#[cfg(feature = "ssr")]
fn project_names(services: &greenroom::Services) -> Vec<String> {
    services
        .ops
        .targets
        .iter()
        .map(|t| t.project.name.to_string())
        .collect()
}

#[cfg(feature = "ssr")]
fn not_checked(
    user: &Option<greenroom::auth::SessionUser>,
    services: &greenroom::Services,
    t: &greenroom::sync::SyncTarget,
) -> SecretsView {
    use greenroom::domain::Role;
    SecretsView {
        project: t.project.name.to_string(),
        projects: project_names(services),
        checked_at_ms: None,
        env_local_checked: false,
        outcome: "unchecked".into(),
        columns: Vec::new(),
        all_columns: Vec::new(),
        rows: Vec::new(),
        findings: Vec::new(),
        dismissed: Vec::new(),
        past_dismissals: Vec::new(),
        open_findings: 0,
        problems: Vec::new(),
        unread: Vec::new(),
        can_dismiss: super::has_role(user, Role::Admin),
        can_recheck: super::has_role(user, Role::Viewer),
        sandbox: services.mode() == greenroom::Mode::Sandbox,
    }
}

/// `report` of project `t` as the page shows it to `user`, filtered.
#[cfg(feature = "ssr")]
async fn view(
    user: &Option<greenroom::auth::SessionUser>,
    services: &greenroom::Services,
    t: &greenroom::sync::SyncTarget,
    report: &greenroom::secrets::Coverage,
    checked_at_ms: Option<i64>,
    query: &SecretsQuery,
) -> Result<SecretsView, ApiError> {
    use crate::model::{DismissalView, FindingView};
    use greenroom::domain::Role;
    use greenroom::secret_checks::is_dismissed;
    use greenroom::secrets::filter::CoverageFilter;
    let now = greenroom::storage::now_ms();
    let dismissals = services.ops.secrets.dismissals(t.project_id).await?;
    let filter = CoverageFilter {
        problems_only: query.problems.as_deref().is_some_and(|p| !p.is_empty()),
        location: query.location.clone().filter(|l| !l.is_empty()),
        key: query.key.clone().filter(|k| !k.trim().is_empty()),
    };
    let shown = filter.apply(report, |f| is_dismissed(&dismissals, f, now));
    let dismissal_view = |d: &greenroom::storage::DismissalRecord| DismissalView {
        id: d.id,
        finding_id: d.finding_id.clone(),
        reason: d.reason.clone(),
        until_ms: d.until_ms,
        by: d.dismissed_by.clone(),
        at_ms: d.dismissed_at_ms,
        undone_by: d.undone_by.clone(),
        undone_at_ms: d.undone_at_ms,
    };
    let finding_view = |f: &greenroom::secrets::findings::Finding| FindingView {
        id: f.id.clone(),
        severity: convert::severity(f.severity).into(),
        key: f.key.clone(),
        title: f.title.clone(),
        detail: f.detail.clone(),
        fix: f.fix.clone(),
        dismissal: dismissals
            .iter()
            .find(|d| d.finding_id == f.id && d.active_at(now))
            .map(dismissal_view),
    };
    let (dismissed, findings): (Vec<_>, Vec<_>) = shown
        .findings
        .iter()
        .map(finding_view)
        .partition(|f| f.dismissal.is_some());
    Ok(SecretsView {
        project: t.project.name.to_string(),
        projects: project_names(services),
        checked_at_ms,
        env_local_checked: report.env_local_checked,
        outcome: convert::outcome(report.outcome).into(),
        columns: shown.columns.iter().map(convert::column).collect(),
        all_columns: report.columns.iter().map(|c| c.label.clone()).collect(),
        rows: shown.rows.iter().map(convert::row).collect(),
        findings,
        dismissed,
        past_dismissals: dismissals
            .iter()
            .filter(|d| !d.active_at(now))
            .map(dismissal_view)
            .collect(),
        open_findings: greenroom::secret_checks::open_findings(report, &dismissals, now),
        problems: report.problems.iter().map(ToString::to_string).collect(),
        unread: report
            .unread
            .iter()
            .map(|u| (u.source.clone(), u.reason.clone()))
            .collect(),
        can_dismiss: super::has_role(user, Role::Admin),
        can_recheck: super::has_role(user, Role::Viewer),
        sandbox: services.mode() == greenroom::Mode::Sandbox,
    })
}

#[cfg(feature = "ssr")]
impl From<greenroom::secret_checks::SecretCheckError> for ApiError {
    fn from(e: greenroom::secret_checks::SecretCheckError) -> Self {
        use greenroom::secret_checks::SecretCheckError as E;
        match e {
            E::Storage(s) => ApiError::Unavailable(s.to_string()),
            E::Invalid(m) => ApiError::BadRequest(m),
            E::NotFound(m) => ApiError::NotFound(m),
            E::Conflict(m) => ApiError::Conflict(m),
        }
    }
}

/// The engine's report in view-model terms.
#[cfg(feature = "ssr")]
mod convert {
    use crate::model::{CellView, ColumnView, NeedView, SecretRow};
    use greenroom::secrets::coverage::{Column, Outcome, Row, RowGroup};
    use greenroom::secrets::findings::Severity;
    use greenroom::secrets::{Cell, Verdict};

    pub fn severity(s: Severity) -> &'static str {
        match s {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }

    pub fn outcome(o: Outcome) -> &'static str {
        match o {
            Outcome::Ok => "ok",
            Outcome::Missing => "missing",
            Outcome::Unchecked => "unchecked",
        }
    }

    pub fn column(c: &Column) -> ColumnView {
        ColumnView {
            label: c.label.clone(),
            link: c.link.clone(),
        }
    }

    fn verdict(v: Verdict) -> &'static str {
        match v {
            Verdict::Present => "present",
            Verdict::Empty => "empty",
            Verdict::Missing => "missing",
            Verdict::Unknown => "unknown",
        }
    }

    /// The date part of an RFC 3339 time, as vendors give it.
    fn day(at: &str) -> &str {
        at.get(..10).unwrap_or(at)
    }

    pub fn cell(c: &Cell) -> CellView {
        let (state, text, detail) = match c {
            Cell::Readable { group: Some(g) } => (
                "readable",
                g.clone(),
                format!(
                    "Readable; value group {g} (the same letter in this row means the same value)"
                ),
            ),
            Cell::Readable { group: None } => (
                "readable",
                "~".into(),
                "Readable, but written with $ expansion, so not compared".into(),
            ),
            Cell::WriteOnly {
                updated_at,
                updated_by,
            } => {
                let mut detail = "Set; write-only (the vendor never returns the value)".to_string();
                if let Some(at) = updated_at {
                    detail.push_str(&format!("; updated {}", day(at)));
                }
                if let Some(by) = updated_by {
                    detail.push_str(&format!(" by {by}"));
                }
                ("write-only", "set".into(), detail)
            }
            Cell::Placeholder { kind } => ("placeholder", "empty".into(), kind.describe().into()),
            Cell::Absent => ("absent", "—".into(), "Not set here".into()),
            Cell::Unknown { reason } => ("unknown", "?".into(), format!("Unknown: {reason}")),
        };
        CellView {
            state: state.into(),
            text,
            detail,
        }
    }

    pub fn row(r: &Row) -> SecretRow {
        SecretRow {
            key: r.key.clone(),
            group: match r.group {
                RowGroup::Required => "required",
                RowGroup::Discovered => "discovered",
                RowGroup::Unrequired => "unrequired",
            }
            .into(),
            cells: r.cells.iter().map(cell).collect(),
            needs: r
                .needs
                .iter()
                .map(|n| NeedView {
                    target: n.target.clone(),
                    origin: n.origin.clone(),
                    verdict: verdict(n.verdict).into(),
                })
                .collect(),
        }
    }
}
