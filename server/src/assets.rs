//! Where the compiled site lives and how its files are served.
//!
//! The release binary runs on its own: it looks for the site folder (the
//! output of `cargo leptos build --release`: `pkg/` plus `public/` assets)
//! given by `--site-dir` / `GREENROOM_SITE_DIR` / `site_dir`, else `site`
//! beside the binary, else `../site` from the binary (which is `target/site`
//! for `target/release/greenroom`). Hashed file names come from `hash.txt`,
//! which cargo-leptos writes beside the binary.

use axum::http::{header, HeaderValue};
use leptos::config::LeptosOptions;
use std::path::{Path, PathBuf};
use tower::Layer;
use tower_http::services::ServeDir;
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};

/// cargo-leptos' `name`: the stem of the JS, wasm and CSS files in `pkg/`.
pub const OUTPUT_NAME: &str = "greenroom";
const PKG_DIR: &str = "pkg";

/// The candidate site folders, most specific first.
pub fn site_candidates(configured: Option<&Path>) -> Vec<PathBuf> {
    if let Some(dir) = configured {
        return vec![dir.to_path_buf()];
    }
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    match exe_dir {
        Some(dir) => vec![dir.join("site"), dir.join("..").join("site")],
        None => vec![PathBuf::from("site")],
    }
}

/// The first candidate holding `pkg/`, or `None`.
pub fn find_site(configured: Option<&Path>) -> Option<PathBuf> {
    site_candidates(configured)
        .into_iter()
        .find(|d| d.join(PKG_DIR).is_dir())
}

/// Leptos' view of the site. File hashing is on exactly when `hash.txt` is
/// beside the binary, as Leptos reads it from there.
pub fn leptos_options(site_root: &Path, listen: std::net::SocketAddr) -> LeptosOptions {
    let hash_file_present = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("hash.txt").is_file()))
        .unwrap_or(false);
    LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_root.display().to_string())
        .site_pkg_dir(PKG_DIR)
        .site_addr(listen)
        .hash_files(hash_file_present)
        .build()
}

/// `/pkg`: with hashed names, cached for a year (a new build has new names);
/// without, revalidated each time. `.br`/`.gz` siblings written by
/// `cargo leptos build --release --precompress` are served when accepted.
pub fn pkg_service(site_root: &Path, hashed: bool) -> SetResponseHeader<ServeDir, HeaderValue> {
    let dir = ServeDir::new(site_root.join(PKG_DIR))
        .precompressed_br()
        .precompressed_gzip();
    let policy = if hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static(policy))
        .layer(dir)
}
