//! Presentational pieces shared by pages.

pub mod shell;
