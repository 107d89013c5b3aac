-- Registry schema, version 4: the ideas backlog.
--
-- An idea is a JSON document with a version, like flags, segments and experiments: the same
-- optimistic concurrency (If-Match) and the same audit log (entity_type 'idea'). Ideas are not
-- relayed to the registry-changes topic (its schema has flag and experiment types only).
-- Scores are not stored: they are computed when read, from the configured weights, so changing
-- the weights re-ranks the whole backlog at once.

CREATE TABLE ideas (
  key         text PRIMARY KEY,
  version     bigint NOT NULL,
  doc         jsonb NOT NULL,
  -- open, promoted (an experiment was created from it) or discarded; kept out of doc for filters.
  status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'promoted', 'discarded')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ideas_status ON ideas (status);
