//! Interactive pieces shared by pages (they run in the browser too).

pub mod action_dialog;
pub mod server_rendered;
pub mod shell;
