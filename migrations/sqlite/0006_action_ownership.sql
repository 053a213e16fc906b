-- Actions gain the state `unknown` (the vendor was asked but its answer never
-- came: the reconciler asks it what happened), and an owner with a heartbeat:
-- the instance working on an action renews `heartbeat_at_ms`; an unfinished
-- action whose heartbeat stops is adopted by exactly one live instance.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt.
CREATE TABLE actions_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL,
    active_key      TEXT    UNIQUE,
    state           TEXT    NOT NULL CHECK (state IN ('starting', 'running', 'unknown', 'succeeded', 'failed')),
    actor_login     TEXT,
    audit_id        INTEGER,
    summary         TEXT    NOT NULL,
    target_json     TEXT    NOT NULL,
    upstream_ref    TEXT,
    message         TEXT,
    progress_json   TEXT    NOT NULL,
    started_at_ms   INTEGER NOT NULL,
    updated_at_ms   INTEGER NOT NULL,
    finished_at_ms  INTEGER,
    owner           TEXT,
    heartbeat_at_ms INTEGER
);
INSERT INTO actions_new (id, project_id, kind, active_key, state, actor_login, audit_id, summary,
    target_json, upstream_ref, message, progress_json, started_at_ms, updated_at_ms, finished_at_ms,
    heartbeat_at_ms)
SELECT id, project_id, kind, active_key, state, actor_login, audit_id, summary,
    target_json, upstream_ref, message, progress_json, started_at_ms, updated_at_ms, finished_at_ms,
    updated_at_ms
FROM actions;
DROP TABLE actions;
ALTER TABLE actions_new RENAME TO actions;
CREATE INDEX actions_by_project_time ON actions (project_id, started_at_ms DESC, id DESC);
CREATE INDEX actions_by_project_update ON actions (project_id, updated_at_ms DESC);
-- The reconciler's question: which unfinished actions lost their owner.
CREATE INDEX actions_unfinished ON actions (heartbeat_at_ms) WHERE finished_at_ms IS NULL;
