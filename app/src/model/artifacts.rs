//! A run's artifacts and their contents as the run and artifact pages show
//! them: test reports with failures first, logs a page at a time (already
//! masked), images and downloads. Every text here has been masked.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactRow {
    pub id: u64,
    pub name: String,
    pub size_bytes: u64,
    pub created_at: Option<String>,
    pub expires_at: Option<String>,
    pub expired: bool,
}

/// A run's artifacts, or why they could not be listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunArtifacts {
    pub run_id: i64,
    pub listed: Result<Vec<ArtifactRow>, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseView {
    pub suite: String,
    pub name: String,
    pub classname: Option<String>,
    pub file: Option<String>,
    /// `failed`, `error`, `skipped` or `passed`.
    pub outcome: String,
    pub time_secs: Option<f64>,
    pub message: Option<String>,
    pub trace: Option<String>,
    pub output: Option<String>,
    /// Files the case refers to; `Some(path)` where the artifact has it.
    pub attachments: Vec<(String, Option<String>)>,
    /// It failed and passed on one commit (a re-run or a retry).
    pub flaky: bool,
    /// Its latest results in this project's deploy-job runs, newest first.
    pub history: Vec<ResultMark>,
}

/// One past result of a test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultMark {
    pub run_id: i64,
    pub run_number: i64,
    pub run_attempt: i64,
    /// `passed`, `failed`, `error`, `skipped` or `flaky`.
    pub outcome: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportView {
    pub path: String,
    /// Why the file could not be read as a report.
    pub error: Option<String>,
    pub total: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
    /// Failures and errors first; at most [`CASES_SHOWN`].
    pub cases: Vec<CaseView>,
    /// Cases left out: over [`CASES_SHOWN`], or over the parser's cap.
    pub cases_omitted: usize,
}

/// Cases shown per report.
pub const CASES_SHOWN: usize = 500;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRow {
    pub path: String,
    pub size_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PieceView {
    pub text: String,
    /// ANSI colour 0–15, if any.
    pub colour: Option<u8>,
    pub bold: bool,
    pub faint: bool,
    pub italic: bool,
    pub underline: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineView {
    pub number: usize,
    pub pieces: Vec<PieceView>,
    pub masked: bool,
    pub cut: bool,
}

/// One page of a log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogView {
    pub title: String,
    pub lines: Vec<LineView>,
    pub page: usize,
    pub pages: usize,
    pub total_lines: usize,
    /// The page's address without its `page` parameter (`…?file=x&`), to
    /// which `page=N` is appended.
    pub base_href: String,
}

/// One artifact opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactView {
    pub run_id: i64,
    pub run_number: i64,
    pub project: String,
    pub artifact: ArtifactRow,
    /// The address of the artifact's page.
    pub href: String,
    /// Where its files are served (`…/raw?path=`).
    pub raw_href: String,
    pub reports: Vec<ReportView>,
    pub texts: Vec<FileRow>,
    pub images: Vec<FileRow>,
    pub downloads: Vec<FileRow>,
    pub archives: Vec<FileRow>,
    pub unparsed: Vec<FileRow>,
    /// The text file asked for (`?file=`), a page of it.
    pub shown: Option<LogView>,
    /// Why the file asked for could not be shown.
    pub shown_error: Option<String>,
}

/// A job's log page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobLogView {
    pub run_id: i64,
    pub run_number: i64,
    pub job_name: String,
    pub log: LogView,
}
