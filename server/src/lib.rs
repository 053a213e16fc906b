//! Greenroom's server: axum routes, layers, static files, and the wiring that
//! puts the core library's services behind the Leptos app.
#![recursion_limit = "256"]

pub mod api_status;
pub mod artifact_files;
pub mod assets;
pub mod auth;
pub mod cli;
pub mod client_address;
pub mod env_local_upload;
pub mod error;
pub mod export;
pub mod health;
pub mod limits;
pub mod live;
pub mod page_cache;
pub mod request_id;
pub mod secrets_check;
pub mod security;
pub mod session_key;
pub mod startup;
pub mod telemetry;

pub use error::ServerError;
pub use startup::Application;
