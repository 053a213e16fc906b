//! Secret coverage: which keys must exist where (configured, the playbook's
//! defaults, and what the repository's own files name), what Netlify,
//! GitHub Actions and an uploaded `.env.local` actually hold, and the
//! findings that follow, without a value ever leaving this module: readable
//! values are compared through keyed fingerprints and shown as group letters.
//!
//! The engine is pure (`coverage` over already-read `Sources`); `gather`
//! reads the vendors. The CLI gate and the page share both.

pub mod coverage;
pub mod discover;
pub mod filter;
pub mod findings;
pub mod fingerprint;
pub mod gather;
pub mod jwt;
pub mod location;
pub mod netlify;
pub mod placeholder;
pub mod requirements;
pub mod sources;

pub use coverage::{coverage, Cell, Coverage, Outcome, Verdict};
pub use fingerprint::FingerprintKey;
pub use sources::Sources;
