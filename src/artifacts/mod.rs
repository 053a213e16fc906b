//! A run's smoke-test artifacts: the checked opening of their archives
//! ([`archive`]), their JUnit reports ([`junit`]) and which of their files
//! are images a browser may be shown ([`sniff`]).

pub mod archive;
pub mod junit;
pub mod sniff;

pub use archive::{ArchiveError, Checked, Entry, EntryKind, Limits};
pub use junit::{JunitError, Outcome, Report};
