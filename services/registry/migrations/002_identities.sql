-- Registry schema, version 2: tokens belong to identities. An identity is a named person or
-- service; it may hold several tokens (rotation, one per machine), and it is what the audit
-- log, experiment owners and approvals name. Approval guards compare identities, so an
-- editor can neither approve with a second token of their own nor name someone else as
-- owner and approve (the lifecycle guard also refuses whoever last changed the design).

ALTER TABLE api_tokens ADD COLUMN identity text;
UPDATE api_tokens SET identity = name;
ALTER TABLE api_tokens ALTER COLUMN identity SET NOT NULL;

-- Services (SDK back ends, automation, the local bootstrap admin) act but never approve.
ALTER TABLE api_tokens ADD COLUMN kind text NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'service'));
UPDATE api_tokens SET kind = 'service' WHERE role = 'sdk' OR name = 'bootstrap-admin';

CREATE INDEX api_tokens_identity ON api_tokens (identity);
