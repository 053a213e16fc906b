//! The view model: plain data that server functions return and views and
//! pages display. Serde only; no server code, no components. Server
//! functions (`api`) and views both depend on it, and neither on the other.

pub mod actions;
pub mod activity;
pub mod artifacts;
pub mod branches;
pub mod deploy_row;
pub mod deploys;
pub mod error;
pub mod fragments;
pub mod secrets;
pub mod shell;

pub use actions::{ActionView, PlanView, ProgressView, StartedView};
pub use activity::{ActivityPage, ActivityQuery, ActivityRow, ACTIVITY_PAGE};
pub use artifacts::{
    ArtifactRow, ArtifactView, CaseView, FileRow, JobLogView, LineView, LogView, PieceView,
    ReportView, ResultMark, RunArtifacts, CASES_SHOWN,
};
pub use branches::{
    BackupRow, BackupsView, BranchRunStep, BranchRunView, BranchSection, BranchView, BranchesView,
    ConnectionView, CostView,
};
pub use deploy_row::DeployRow;
pub use deploys::{
    AttentionView, DeployDetail, HistoryPage, HistoryQuery, JobView, LiveView, OverviewView,
    RunView, StepView, SyncView, TrendsView, WeekView, HISTORY_PAGE,
};
pub use error::ApiError;
pub use fragments::{DeployHtml, OverviewHtml, PlanHtml};
pub use secrets::{
    CellView, ColumnView, DismissalView, FindingView, NeedView, SecretRow, SecretsQuery,
    SecretsView,
};
pub use shell::{ProjectSummary, ShellFrame, ShellInfo, SignInState, StatusView, UserView};
