-- Secret coverage. A project's latest check as the engine reported it:
-- key names, group letters, dates and findings, never a value (the engine
-- has already turned values into letters), so the page renders from here.
CREATE TABLE secret_reports (
    project_id    BIGINT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    checked_at_ms BIGINT NOT NULL,
    report_json   TEXT    NOT NULL
);

-- Findings an admin dismissed, with why and until when. Undoing one keeps
-- the row (who undid it and when) so the history stays readable.
CREATE TABLE secret_dismissals (
    id              BIGSERIAL PRIMARY KEY,
    project_id      BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    finding_id      TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    until_ms        BIGINT,
    dismissed_by    TEXT    NOT NULL,
    dismissed_at_ms BIGINT NOT NULL,
    undone_by       TEXT,
    undone_at_ms    BIGINT
);
CREATE INDEX secret_dismissals_by_project ON secret_dismissals (project_id, finding_id);
-- One active dismissal per finding, however many admins submit at once. A
-- dismissal whose date has passed is closed (undone_at_ms = until_ms) when
-- the finding is dismissed again.
CREATE UNIQUE INDEX secret_dismissals_one_active ON secret_dismissals (project_id, finding_id)
    WHERE undone_at_ms IS NULL;
