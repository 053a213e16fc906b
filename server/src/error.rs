//! Errors that stop the server from starting or serving, each saying what to do.

use greenroom::{ConfigError, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Storage(#[from] StorageError),
    #[error("cannot listen on {addr}: {source} (is another process using the port? choose one with --listen)")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("site assets not found: looked in {searched}; build them with `cargo leptos build --release` or point --site-dir / GREENROOM_SITE_DIR at the folder")]
    SiteMissing { searched: String },
    #[error("the sandbox could not start: {0}")]
    Sandbox(String),
    #[error("{0}")]
    SessionKey(#[from] crate::session_key::KeyError),
    #[error("sign-in cannot be set up: {0}")]
    SignIn(String),
    #[error("the vendor clients cannot be set up: {0}")]
    Vendors(String),
    #[error("{0}")]
    Artifacts(String),
    #[error("{0}")]
    Check(String),
    #[error("{0}")]
    FingerprintKey(String),
    #[error("the server stopped with an error: {0}")]
    Serve(std::io::Error),
}
