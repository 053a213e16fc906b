//! One module per page.

pub mod activity;
pub mod home;
pub mod not_found;
pub mod sign_in;
