-- The overview's read model asks each page view for the project's change
-- mark: the newest action update must be an index lookup, not a scan of
-- the project's actions.
CREATE INDEX actions_by_project_update ON actions (project_id, updated_at_ms DESC);
