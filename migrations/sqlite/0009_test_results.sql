-- Each finished deploy-job run's test results, read from its artifacts by
-- sync: one row per test (suite and name, masked) and run attempt, so that
-- a test's recent results and flakiness can be shown. Which run attempts
-- have been read (with or without results) is kept apart, so that a run
-- whose artifacts expired is not asked about again.
CREATE TABLE test_results (
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    run_id      INTEGER NOT NULL,
    run_attempt INTEGER NOT NULL,
    run_number  INTEGER NOT NULL,
    head_sha    TEXT    NOT NULL,
    run_at_ms   INTEGER NOT NULL,
    test_key    TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    PRIMARY KEY (project_id, run_id, run_attempt, test_key)
);
CREATE INDEX test_results_by_test ON test_results (project_id, test_key, run_at_ms);

CREATE TABLE test_result_reads (
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    run_id      INTEGER NOT NULL,
    run_attempt INTEGER NOT NULL,
    read_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (run_id, run_attempt)
);
