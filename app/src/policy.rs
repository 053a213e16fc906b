//! Who may call each server function: the one table the server's guard reads.
//! A server function missing from it is refused to everyone, and a test that
//! walks Leptos' registry fails, so none can be added without a role.

use greenroom::domain::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Signed in with at least this role.
    Role(Role),
}

/// Every server function's path and who may call it.
pub const POLICY: &[(&str, Access, bool)] = &[
    // (path, access, mutates)
    ("/api/sign-in-state", Access::Public, false),
    ("/api/shell", Access::Public, false),
    ("/api/status", Access::Role(Role::Viewer), false),
    ("/api/activity", Access::Role(Role::Viewer), false),
    ("/api/sessions/end-all", Access::Role(Role::Admin), true),
];

/// The access a server function requires; `None` when it has none declared.
pub fn required(path: &str) -> Option<Access> {
    POLICY
        .iter()
        .find(|(p, _, _)| *p == path)
        .map(|(_, a, _)| *a)
}

/// Whether a server function changes something.
pub fn mutates(path: &str) -> bool {
    POLICY.iter().any(|(p, _, m)| *p == path && *m)
}
