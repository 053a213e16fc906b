-- Issue 5: sync bookkeeping, the sync lease, on-call actions and Slack
-- notifications sent once.

-- The workflow run a deploy came from (same commit SHA and branch), set by sync.
ALTER TABLE deploys ADD COLUMN run_id INTEGER;
-- History across every project, newest first (no project filter).
CREATE INDEX deploys_by_time ON deploys (created_at_ms DESC, deploy_id DESC);
-- Overview and alerts: newest deploys of a site in a state.
CREATE INDEX deploys_by_site_state_time ON deploys (site_id, state, created_at_ms DESC);

-- What each project's sync last did per source ('netlify', 'github'): when it
-- last succeeded, and the error it has been failing with since when. Pages
-- show the age of the data and the reason from here.
CREATE TABLE sync_status (
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    source          TEXT    NOT NULL,
    last_attempt_ms INTEGER,
    last_success_ms INTEGER,
    error           TEXT,
    error_since_ms  INTEGER,
    full_load_done  INTEGER NOT NULL DEFAULT 0,
    -- When a sync last found something new or changed: live views poll this.
    changed_at_ms   INTEGER,
    PRIMARY KEY (project_id, source)
);

-- The deploy each site serves now (Netlify's published_deploy), per sync.
CREATE TABLE site_live (
    site_id         TEXT    PRIMARY KEY,
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    deploy_id       TEXT,
    published_at_ms INTEGER,
    synced_at_ms    INTEGER NOT NULL
);

-- The head commit of each project's staging branch, per sync: staging is
-- behind when it serves something else.
CREATE TABLE branch_heads (
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    branch          TEXT    NOT NULL,
    sha             TEXT    NOT NULL,
    message         TEXT,
    committed_at_ms INTEGER,
    synced_at_ms    INTEGER NOT NULL,
    PRIMARY KEY (project_id, branch)
);

-- Leases: one instance at a time does a named job (the background sync).
CREATE TABLE leases (
    name          TEXT    PRIMARY KEY,
    holder        TEXT    NOT NULL,
    expires_at_ms INTEGER NOT NULL
);

-- On-call actions. `active_key` (project + kind) is unique while set: the
-- insert that wins it is the one that calls upstream; everyone else is told
-- the action is already under way.
CREATE TABLE actions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL,
    active_key      TEXT    UNIQUE,
    state           TEXT    NOT NULL CHECK (state IN ('starting', 'running', 'succeeded', 'failed')),
    actor_login     TEXT,
    audit_id        INTEGER,
    summary         TEXT    NOT NULL,
    target_json     TEXT    NOT NULL,
    upstream_ref    TEXT,
    message         TEXT,
    progress_json   TEXT    NOT NULL,
    started_at_ms   INTEGER NOT NULL,
    updated_at_ms   INTEGER NOT NULL,
    finished_at_ms  INTEGER
);
CREATE INDEX actions_by_project_time ON actions (project_id, started_at_ms DESC, id DESC);

-- Slack messages that were (or were tried to be) sent, keyed by the event, so
-- that each event is announced once however many instances see it.
CREATE TABLE notifications (
    event_key     TEXT    PRIMARY KEY,
    created_at_ms INTEGER NOT NULL,
    delivered     INTEGER,
    error         TEXT
);
