-- Actions gain the state `unknown` (the vendor was asked but its answer never
-- came: the reconciler asks it what happened), and an owner with a heartbeat:
-- the instance working on an action renews `heartbeat_at_ms`; an unfinished
-- action whose heartbeat stops is adopted by exactly one live instance.
ALTER TABLE actions DROP CONSTRAINT actions_state_check;
ALTER TABLE actions ADD CONSTRAINT actions_state_check
    CHECK (state IN ('starting', 'running', 'unknown', 'succeeded', 'failed'));
ALTER TABLE actions ADD COLUMN owner TEXT;
ALTER TABLE actions ADD COLUMN heartbeat_at_ms BIGINT;
UPDATE actions SET heartbeat_at_ms = updated_at_ms;
-- The reconciler's question: which unfinished actions lost their owner.
CREATE INDEX actions_unfinished ON actions (heartbeat_at_ms) WHERE finished_at_ms IS NULL;
