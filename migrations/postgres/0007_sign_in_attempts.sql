-- Sign-in attempts per client address and minute, in the database so that
-- every instance sharing it counts the same window (the sign-in rate limit).
-- Minutes before the previous one are deleted as new ones start.
CREATE TABLE sign_in_attempts (
    client   TEXT   NOT NULL,
    minute   BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    PRIMARY KEY (client, minute)
);
