-- Greenroom's first tables. Times are Unix milliseconds (INTEGER) so that both
-- backends sort and compare them the same way.

CREATE TABLE projects (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE,
    -- The project's configuration as last loaded (no secrets: tokens are never in config).
    config_json   TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

-- Netlify deploys of every site of every project: the deploy cache pages read.
CREATE TABLE deploys (
    site_id         TEXT    NOT NULL,
    deploy_id       TEXT    NOT NULL,
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    site_role       TEXT    NOT NULL CHECK (site_role IN ('staging', 'production')),
    context         TEXT    NOT NULL,
    branch          TEXT,
    state           TEXT    NOT NULL,
    commit_sha      TEXT,
    commit_message  TEXT,
    commit_url      TEXT,
    author          TEXT,
    deploy_url      TEXT,
    error_message   TEXT,
    created_at_ms   INTEGER NOT NULL,
    published_at_ms INTEGER,
    updated_at_ms   INTEGER NOT NULL,
    build_seconds   INTEGER,
    synced_at_ms    INTEGER NOT NULL,
    PRIMARY KEY (site_id, deploy_id)
);
-- History pages: newest first, keyset on (created_at_ms, deploy_id).
CREATE INDEX deploys_by_project_time ON deploys (project_id, created_at_ms DESC, deploy_id DESC);
CREATE INDEX deploys_by_site_time ON deploys (site_id, created_at_ms DESC, deploy_id DESC);
-- Linking a deploy to its workflow run.
CREATE INDEX deploys_by_commit ON deploys (commit_sha);

-- GitHub Actions runs of each project's configured workflow.
CREATE TABLE workflow_runs (
    run_id            INTEGER PRIMARY KEY,
    project_id        INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    workflow          TEXT    NOT NULL,
    run_number        INTEGER NOT NULL,
    run_attempt       INTEGER NOT NULL,
    event             TEXT    NOT NULL,
    branch            TEXT,
    head_sha          TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    conclusion        TEXT,
    actor             TEXT,
    html_url          TEXT,
    created_at_ms     INTEGER NOT NULL,
    updated_at_ms     INTEGER NOT NULL,
    synced_at_ms      INTEGER NOT NULL
);
CREATE INDEX workflow_runs_by_project_time ON workflow_runs (project_id, created_at_ms DESC, run_id DESC);
CREATE INDEX workflow_runs_by_commit ON workflow_runs (head_sha, branch);

-- Jobs of a run with their steps (a JSON array: name, status, conclusion, times).
CREATE TABLE workflow_jobs (
    job_id          INTEGER PRIMARY KEY,
    run_id          INTEGER NOT NULL REFERENCES workflow_runs(run_id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    conclusion      TEXT,
    started_at_ms   INTEGER,
    completed_at_ms INTEGER,
    steps_json      TEXT    NOT NULL
);
CREATE INDEX workflow_jobs_by_run ON workflow_jobs (run_id);

-- Append-only: rows are inserted as 'pending' before an upstream mutation and
-- completed after it; nothing deletes or rewrites their facts.
CREATE TABLE audit_events (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at_ms    INTEGER NOT NULL,
    completed_at_ms   INTEGER,
    actor_login       TEXT,
    actor_id          INTEGER,
    role              TEXT,
    action            TEXT    NOT NULL,
    project           TEXT,
    target_kind       TEXT,
    target_id         TEXT,
    params_json       TEXT    NOT NULL,
    outcome           TEXT    NOT NULL CHECK (outcome IN ('pending', 'succeeded', 'failed', 'unknown', 'refused')),
    message           TEXT,
    upstream_ids_json TEXT    NOT NULL,
    request_id        TEXT,
    client_ip         TEXT
);
CREATE INDEX audit_events_by_time ON audit_events (occurred_at_ms DESC, id DESC);
CREATE INDEX audit_events_by_actor ON audit_events (actor_login, occurred_at_ms DESC);
CREATE INDEX audit_events_pending ON audit_events (outcome) WHERE outcome = 'pending';
