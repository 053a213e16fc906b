//! A run's artifacts and job logs: listed on the run page, opened on the
//! artifact page (`/runs/{run}/artifacts/{id}`), a job's log on its own page
//! (`/runs/{run}/jobs/{job}/log`). The core downloads, checks, parses and
//! masks (`greenroom::artifacts`); this maps the result into the view model.
//! Anyone who may read the run may open its artifacts.

use crate::model::{
    ApiError, ArtifactRow, ArtifactView, CaseView, FileRow, JobLogView, LineView, LogView,
    PieceView, ReportView, ResultMark, RunArtifacts, CASES_SHOWN,
};
use greenroom::artifacts::{log, ArtifactError, Entry, Report};
use greenroom::providers::github::{Artifact, Repo};
use greenroom::storage::WorkflowRunRecord;
use greenroom::sync::SyncTarget;

impl From<ArtifactError> for ApiError {
    fn from(e: ArtifactError) -> Self {
        let text = capitalised(&e.to_string());
        match e {
            ArtifactError::Expired | ArtifactError::Gone => ApiError::NotFound(text),
            ArtifactError::Refused(_) => ApiError::Conflict(text),
            ArtifactError::Vendor(_) => ApiError::Upstream(text),
            ArtifactError::Disk(_) | ArtifactError::Evicted => ApiError::Unavailable(text),
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A run Greenroom knows, with its project and repository.
pub(crate) struct KnownRun {
    pub run: WorkflowRunRecord,
    pub target: SyncTarget,
    pub repo: Repo,
}

/// Run `run_id` as stored by sync, with the project it belongs to.
pub(crate) async fn known_run(
    services: &greenroom::Services,
    run_id: i64,
) -> Result<KnownRun, ApiError> {
    let (run, target) = services
        .ops
        .run_and_target(&services.storage, run_id)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "No workflow run {run_id} of a configured project is known. It may be older than the first sync, or the link is wrong."
            ))
        })?;
    let target = target.clone();
    let repo = greenroom::sync::repo_of(&target.project);
    Ok(KnownRun { run, target, repo })
}

fn row(a: &Artifact) -> ArtifactRow {
    ArtifactRow {
        id: a.id,
        name: a.name.clone(),
        size_bytes: a.size_in_bytes,
        created_at: a.created_at.clone(),
        expires_at: a.expires_at.clone(),
        expired: a.expired,
    }
}

/// The run's artifacts for its page; a failure to list them is said on the
/// page, not an error of the whole page.
pub(super) async fn of_run(
    services: &greenroom::Services,
    target: Option<&SyncTarget>,
    run_id: i64,
) -> RunArtifacts {
    let listed = match target {
        None => Err("the run belongs to no configured project".to_string()),
        Some(t) => services
            .ops
            .artifacts
            .list(&greenroom::sync::repo_of(&t.project), run_id as u64)
            .await
            .map(|list| list.iter().map(row).collect())
            .map_err(|e| ApiError::from(e).to_string()),
    };
    RunArtifacts { run_id, listed }
}

fn file_rows(entries: &[Entry]) -> Vec<FileRow> {
    entries
        .iter()
        .map(|e| FileRow {
            path: e.path.clone(),
            size_bytes: e.size,
        })
        .collect()
}

fn report_view(path: &str, r: &Report, in_archive: &dyn Fn(&str) -> Option<String>) -> ReportView {
    let counts = r.counts();
    let all = r.failures_first();
    let cases = all
        .iter()
        .take(CASES_SHOWN)
        .map(|(s, c)| CaseView {
            suite: s.name.clone(),
            name: c.name.clone(),
            classname: c.classname.clone(),
            file: c.file.clone(),
            outcome: c.outcome.as_str().to_string(),
            time_secs: c.time_secs,
            message: c.message.clone(),
            trace: c.trace.clone(),
            output: c.output.clone(),
            attachments: c
                .attachments
                .iter()
                .map(|a| (a.clone(), in_archive(a)))
                .collect(),
            flaky: false,
            history: Vec::new(),
        })
        .collect();
    ReportView {
        path: path.to_string(),
        error: None,
        total: counts.total,
        failed: counts.failed,
        errors: counts.errors,
        skipped: counts.skipped,
        cases,
        cases_omitted: r.cases_omitted + all.len().saturating_sub(CASES_SHOWN),
    }
}

/// The artifact's file a report's attachment names: the same path, or the
/// path's tail (reports name files as the test run saw them, often
/// absolute, while the artifact holds them relative to its upload root).
fn attachment_path(entries: &[Entry], wanted: &str) -> Option<String> {
    let wanted = wanted.trim().trim_start_matches("./").replace('\\', "/");
    entries
        .iter()
        .find(|e| e.path == wanted)
        .or_else(|| {
            entries
                .iter()
                .filter(|e| wanted.ends_with(&format!("/{}", e.path)))
                .max_by_key(|e| e.path.len())
        })
        .map(|e| e.path.clone())
}

fn log_view(title: String, page: &log::LogPage, base_href: String) -> LogView {
    LogView {
        title,
        lines: page
            .lines
            .iter()
            .map(|l| LineView {
                number: l.number,
                pieces: l
                    .pieces
                    .iter()
                    .map(|p| PieceView {
                        text: p.text.clone(),
                        colour: p.style.colour,
                        bold: p.style.bold,
                        faint: p.style.faint,
                        italic: p.style.italic,
                        underline: p.style.underline,
                    })
                    .collect(),
                masked: l.masked,
                cut: l.cut,
            })
            .collect(),
        page: page.page,
        pages: page.pages,
        total_lines: page.total_lines,
        base_href,
    }
}

/// Each shown case's latest results and whether it is flaky: one query.
async fn with_history(
    services: &greenroom::Services,
    project_id: i64,
    mut reports: Vec<ReportView>,
) -> Result<Vec<ReportView>, ApiError> {
    use greenroom::artifacts::history::{is_flaky, test_key, STRIP};
    let keys: Vec<String> = reports
        .iter()
        .flat_map(|r| r.cases.iter().map(|c| test_key(&c.suite, &c.name)))
        .collect();
    if keys.is_empty() {
        return Ok(reports);
    }
    let histories = services
        .storage
        .test_histories(project_id, &keys, STRIP)
        .await?;
    for c in reports.iter_mut().flat_map(|r| r.cases.iter_mut()) {
        if let Some(h) = histories.get(&test_key(&c.suite, &c.name)) {
            c.flaky = is_flaky(h);
            c.history = h
                .iter()
                .map(|r| ResultMark {
                    run_id: r.run_id,
                    run_number: r.run_number,
                    run_attempt: r.run_attempt,
                    outcome: r.outcome.clone(),
                })
                .collect();
        }
    }
    Ok(reports)
}

#[derive(serde::Deserialize)]
struct ArtifactQuery {
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    page: Option<usize>,
}

/// `/runs/{run}/artifacts/{id}`: the artifact opened, with the text file
/// `?file=` shows a page (`&page=`) of.
pub(super) async fn artifact_page(
    run_id: i64,
    artifact_id: u64,
    query: &str,
) -> Result<String, ApiError> {
    let q: ArtifactQuery = super::read_query(query)?;
    let v = super::with_status(artifact_view(run_id, artifact_id, q).await)?;
    Ok(crate::views::artifacts::artifact_html(&v))
}

async fn artifact_view(
    run_id: i64,
    artifact_id: u64,
    q: ArtifactQuery,
) -> Result<ArtifactView, ApiError> {
    let services = super::services()?;
    let k = known_run(&services, run_id).await?;
    let artifacts = &services.ops.artifacts;
    let found = artifacts.find(&k.repo, run_id as u64, artifact_id).await?;
    let artifact = found.as_ref().ok_or_else(|| {
        ApiError::NotFound(format!(
            "Run #{} has no artifact {artifact_id}: open one from the run's page.",
            k.run.run_number
        ))
    })?;
    if artifact.expired {
        return Err(ArtifactError::Expired.into());
    }
    let opened = artifacts.open(&k.repo, artifact_id).await?;
    let known = services.ops.secrets.known_values(&k.target).await;
    let contents = artifacts.contents(&opened, &known).await?;
    let entries = &opened.checked.entries;
    let in_archive = |a: &str| attachment_path(entries, a);
    let reports = contents
        .reports
        .iter()
        .map(|(path, r)| match r {
            Ok(r) => report_view(path, r, &in_archive),
            Err(e) => ReportView {
                path: path.clone(),
                error: Some(e.clone()),
                total: 0,
                failed: 0,
                errors: 0,
                skipped: 0,
                cases: Vec::new(),
                cases_omitted: 0,
            },
        })
        .collect();
    let reports = with_history(&services, k.target.project_id, reports).await?;
    let href = format!("/runs/{run_id}/artifacts/{artifact_id}");
    let (mut shown, mut shown_error) = (None, None);
    if let Some(file) = q.file.filter(|f| !f.is_empty()) {
        if contents.texts.iter().any(|e| e.path == file) {
            match artifacts.text(&opened, &file).await {
                Ok(text) => {
                    let page = log::page(&text, &known, q.page.unwrap_or(1));
                    let base = format!("{href}?file={}&", crate::format::query_escape(&file));
                    shown = Some(log_view(file, &page, base));
                }
                Err(e) => shown_error = Some(e.to_string()),
            }
        } else {
            shown_error = Some(format!(
                "The artifact has no text file {file:?}; pick one from its list of logs."
            ));
        }
    }
    Ok(ArtifactView {
        run_id,
        run_number: k.run.run_number,
        project: k.target.project.name.to_string(),
        artifact: row(artifact),
        raw_href: format!("{href}/raw?path="),
        href,
        reports,
        texts: file_rows(&contents.texts),
        images: file_rows(&contents.images),
        downloads: file_rows(&contents.downloads),
        archives: file_rows(&contents.archives),
        unparsed: file_rows(&contents.unparsed),
        shown,
        shown_error,
    })
}

#[derive(serde::Deserialize)]
struct PageQuery {
    #[serde(default)]
    page: Option<usize>,
}

/// `/runs/{run}/jobs/{job}/log`: the job's log from GitHub, a page at a time.
pub(super) async fn job_log_page(
    run_id: i64,
    job_id: i64,
    query: &str,
) -> Result<String, ApiError> {
    let q: PageQuery = super::read_query(query)?;
    let v = super::with_status(job_log_view(run_id, job_id, q.page.unwrap_or(1)).await)?;
    Ok(crate::views::artifacts::job_log_html(&v))
}

async fn job_log_view(run_id: i64, job_id: i64, page: usize) -> Result<JobLogView, ApiError> {
    let services = super::services()?;
    let k = known_run(&services, run_id).await?;
    let job = services
        .storage
        .jobs_of_run(run_id)
        .await?
        .into_iter()
        .find(|j| j.job_id == job_id)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "Run #{} has no job {job_id}: open a job's log from the run's page.",
                k.run.run_number
            ))
        })?;
    let text = services
        .ops
        .artifacts
        .job_log(&k.repo, job_id as u64)
        .await?;
    let known = services.ops.secrets.known_values(&k.target).await;
    let page = log::page(&text, &known, page);
    Ok(JobLogView {
        run_id,
        run_number: k.run.run_number,
        job_name: job.name.clone(),
        log: log_view(
            job.name,
            &page,
            format!("/runs/{run_id}/jobs/{job_id}/log?"),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachments_are_found_by_path_or_by_its_tail() {
        let e = |p: &str| Entry {
            path: p.into(),
            index: 0,
            size: 1,
            kind: greenroom::artifacts::EntryKind::Image,
        };
        let entries = [
            e("screenshots/login.png"),
            e("login.png"),
            e("test-results/a/b.png"),
        ];
        assert_eq!(
            attachment_path(&entries, "screenshots/login.png").as_deref(),
            Some("screenshots/login.png")
        );
        assert_eq!(
            attachment_path(&entries, "/home/runner/work/app/screenshots/login.png").as_deref(),
            Some("screenshots/login.png")
        );
        assert_eq!(
            attachment_path(&entries, "C:\\w\\test-results\\a\\b.png").as_deref(),
            Some("test-results/a/b.png")
        );
        assert_eq!(attachment_path(&entries, "other.png"), None);
    }
}
