-- Registry schema, version 1. Entities are stored as JSON documents (the API shape) with an
-- optimistic-concurrency version; governance tables (audit, outbox, tokens) are relational.

CREATE TABLE api_tokens (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  role        text NOT NULL CHECK (role IN ('viewer', 'editor', 'admin', 'sdk')),
  -- SHA-256 (hex) of the token; the token itself is shown once, at creation, and never stored.
  token_hash  text NOT NULL UNIQUE,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

CREATE TABLE flags (
  key         text PRIMARY KEY,
  version     bigint NOT NULL,
  doc         jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE segments (
  key         text PRIMARY KEY,
  version     bigint NOT NULL,
  doc         jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE experiments (
  key         text PRIMARY KEY,
  version     bigint NOT NULL,
  status      text NOT NULL,
  doc         jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX experiments_status ON experiments (status);

-- The experiment log: append-only. The trigger below makes entries immutable even for
-- code that has write access to the table.
CREATE TABLE audit_log (
  id           bigserial PRIMARY KEY,
  entity_type  text NOT NULL,
  entity_key   text NOT NULL,
  action       text NOT NULL,
  actor        text NOT NULL,
  at           timestamptz NOT NULL DEFAULT clock_timestamp(),
  version      bigint,
  before       jsonb,
  after        jsonb,
  diff         jsonb NOT NULL
);
CREATE INDEX audit_entity ON audit_log (entity_type, entity_key, id);
CREATE INDEX audit_actor ON audit_log (actor, id);
CREATE INDEX audit_at ON audit_log (at);

CREATE FUNCTION audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log entries are immutable';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_immutable();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_immutable();

-- Transactional outbox: written in the change's transaction, relayed to Kafka in sequence
-- order, marked published only after the broker acknowledged.
CREATE TABLE outbox (
  sequence      bigserial PRIMARY KEY,
  entity_type   text NOT NULL CHECK (entity_type IN ('flag', 'experiment')),
  entity_key    text NOT NULL,
  version       bigint NOT NULL,
  action        text NOT NULL,
  actor         text NOT NULL,
  changed_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  snapshot      jsonb,
  published_at  timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (sequence) WHERE published_at IS NULL;
