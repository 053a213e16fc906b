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
    ("/api/shell-frame", Access::Public, false),
    ("/api/fragments/sign-in", Access::Public, false),
    ("/api/fragments/status", Access::Role(Role::Viewer), false),
    ("/api/status", Access::Role(Role::Viewer), false),
    ("/api/activity", Access::Role(Role::Viewer), false),
    ("/api/sessions/end-all", Access::Role(Role::Admin), true),
    ("/api/overview", Access::Role(Role::Viewer), false),
    // Not a server function: the live view's event stream (server/src/live.rs).
    ("/api/live", Access::Role(Role::Viewer), false),
    ("/api/deploys", Access::Role(Role::Viewer), false),
    ("/api/trends", Access::Role(Role::Viewer), false),
    ("/api/deploy", Access::Role(Role::Viewer), false),
    ("/api/run", Access::Role(Role::Viewer), false),
    ("/api/action", Access::Role(Role::Viewer), false),
    ("/api/fragments/activity", Access::Role(Role::Viewer), false),
    ("/api/fragments/overview", Access::Role(Role::Viewer), false),
    ("/api/fragments/history", Access::Role(Role::Viewer), false),
    ("/api/fragments/deploy", Access::Role(Role::Viewer), false),
    ("/api/fragments/run", Access::Role(Role::Viewer), false),
    // The read-only pages whole; each checks its own fragment's role too.
    ("/api/fragments/page", Access::Role(Role::Viewer), false),
    ("/api/actions/plan", Access::Role(Role::Deployer), false),
    (
        "/api/fragments/action-plan",
        Access::Role(Role::Deployer),
        false,
    ),
    ("/api/actions/start", Access::Role(Role::Deployer), true),
    ("/api/secrets", Access::Role(Role::Viewer), false),
    ("/api/branches", Access::Role(Role::Viewer), false),
    ("/api/branches/create", Access::Role(Role::Deployer), true),
    ("/api/branches/delete", Access::Role(Role::Admin), true),
    ("/api/branches/restore", Access::Role(Role::Admin), true),
    ("/api/fragments/secrets", Access::Role(Role::Viewer), false),
    // Reads the vendors and stores the report: any member may ask.
    ("/api/secrets/recheck", Access::Role(Role::Viewer), true),
    // Stores nothing: the file is compared and dropped.
    (
        "/api/fragments/secrets-env-local",
        Access::Role(Role::Viewer),
        false,
    ),
    ("/api/secrets/dismiss", Access::Role(Role::Admin), true),
    (
        "/api/secrets/undo-dismissal",
        Access::Role(Role::Admin),
        true,
    ),
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
