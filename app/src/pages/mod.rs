//! One module per page.

pub mod activity;
pub mod branches;
pub mod deploy;
pub mod history;
pub mod home;
pub mod not_found;
pub mod secrets;
pub mod sign_in;
