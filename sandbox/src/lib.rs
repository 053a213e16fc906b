//! The vendor sandbox. The simulator itself arrives with issue 3; this crate reserves its place in the workspace.
