-- Sign-in sessions (tower-sessions records). The data holds who signed in and
-- their role; never a token.
CREATE TABLE sessions (
    id            TEXT    PRIMARY KEY,
    data_json     TEXT    NOT NULL,
    expires_at_ms BIGINT  NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at_ms);
