//! A run's smoke-test artifacts: the checked opening of their archives
//! ([`archive`]), the cache of downloaded ones ([`store`]), their JUnit
//! reports ([`junit`]), their logs a page at a time with colours and
//! masking ([`log`]), which of their files are images a browser may be
//! shown ([`sniff`]), and what the pages ask of them ([`service`]).

pub mod archive;
pub mod history;
pub mod junit;
pub mod log;
pub mod service;
pub mod sniff;
pub mod store;

pub use archive::{ArchiveError, Checked, Entry, EntryKind, Limits};
pub use junit::{JunitError, Outcome, Report};
pub use service::{Artifacts, Contents, ResultsSummary, RunResults};
pub use store::{ArtifactError, ArtifactStore, Opened};
