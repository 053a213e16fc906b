//! Greenroom's core library: configuration, domain types and storage.
//!
//! Everything here is plain Rust with no Leptos, so the logic is tested without
//! a browser and the server functions in `app/` stay thin.

pub mod actions;
pub mod artifacts;
pub mod auth;
pub mod branch_sync;
pub mod branches;
pub mod client_ip;
pub mod config;
pub mod domain;
pub mod filters;
pub mod limits;
pub mod mask;
pub mod memory;
pub mod notify;
pub mod overview;
pub mod providers;
pub mod read_model;
pub mod runs;
pub mod secret;
pub mod secret_checks;
pub mod secrets;
pub mod services;
pub mod steps;
pub mod storage;
pub mod sync;
pub mod text;
pub mod trends;

pub use config::{Config, ConfigError, Mode};
pub use secret::Secret;
pub use services::{Services, SystemStatus};
pub use storage::{Storage, StorageError};

/// The version shown in the UI, the user agent and `/healthz`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
