//! Supabase branches and backups, as the console reads them: what a branch's
//! statuses mean to a person, what a branch costs, which branches need
//! attention, what a project's backups can restore, and which names Supabase
//! takes. Pure logic over what the Management API answers; no I/O.

pub mod attention;
pub mod backups;
pub mod cost;
pub mod layout;
pub mod name;
pub mod snapshot;
pub mod status;

pub use attention::{attention_for, AttentionRules, BranchAttention, BranchFacts};
pub use backups::{summarize_backups, BackupSummary, BackupWarning, RestoreWindow};
pub use cost::PriceTable;
pub use name::{check_branch_name, NameProblem};
pub use snapshot::{Connection, RunLog, Snapshot};
pub use status::{BranchPhase, BranchStatus, ProjectStatus};
