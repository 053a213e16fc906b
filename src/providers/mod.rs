//! Typed clients for the vendors Greenroom talks to. They work the same
//! against the real services and the sandbox: only the base URL differs.
//! Every call has connect and total timeouts; every failure is a
//! [`ProviderError`] naming the vendor, the operation and what to do.

pub mod api;
pub mod error;
pub mod github;
pub mod http;
pub mod netlify;
pub mod slack;
pub mod supabase;

pub use error::{ErrorKind, ProviderError, Vendor};
