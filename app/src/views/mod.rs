//! Read-only parts of the pages, rendered to HTML on the server and
//! placed into the page as fragments. Compiled only for the server: the
//! browser bundle carries the interactive pieces alone (the action dialog,
//! the live view, the filters), which keeps the first load small.

pub mod actions;
pub mod activity;
pub mod artifacts;
pub mod branches;
pub mod charts;
pub mod deploy;
pub mod history;
pub mod overview;
pub mod parts;
pub mod secrets;
pub mod shell;
