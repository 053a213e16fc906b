-- Supabase branches, as sync last read them: the branch list, each
-- branch's database host/port/user/version (never its password or JWT
-- secret), the latest workflow runs with masked logs, and the backups, as
-- one JSON document per project, so the Branches page renders from here.
CREATE TABLE branch_snapshots (
    project_id    BIGINT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    read_at_ms    BIGINT  NOT NULL,
    snapshot_json TEXT    NOT NULL
);
