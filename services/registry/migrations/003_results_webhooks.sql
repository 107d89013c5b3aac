-- Registry schema, version 3: results summaries and webhooks.
--
-- The results service records the summary of each refresh here (the latest per experiment);
-- the report is rendered from it. Webhooks notify stakeholders: every event becomes one
-- delivery row per subscribed webhook, written in the transaction that caused the event, and a
-- dispatcher sends the rows (signed, retried with backoff) and keeps them as the delivery log.
--
-- Lifecycle events come from a trigger on the experiment log rather than from the code that
-- performs transitions: every way of transitioning (API, YAML import, future paths) writes the
-- log in its transaction, so the trigger sees each transition exactly once, atomically with it.
-- The same trigger freezes the final results into the log when an experiment is concluded.

CREATE TABLE experiment_result_summaries (
  experiment_key  text PRIMARY KEY REFERENCES experiments (key) ON DELETE CASCADE,
  phase           integer NOT NULL,
  -- Deterministic id of the snapshot (its rows in BigQuery's experiment_results share it).
  snapshot_id     text NOT NULL,
  snapshot_at     timestamptz NOT NULL,
  summary         jsonb NOT NULL,
  recorded_by     text NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhooks (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  url         text NOT NULL,
  -- The HMAC-SHA256 key. Kept in clear because signing needs it; shown once at creation,
  -- never returned by the API again and never logged.
  secret      text NOT NULL,
  -- Event names subscribed to; empty means every event.
  events      text[] NOT NULL DEFAULT '{}',
  -- Experiment keys subscribed to; empty means every experiment.
  experiments text[] NOT NULL DEFAULT '{}',
  format      text NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'slack')),
  active      boolean NOT NULL DEFAULT true,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
  id               bigserial PRIMARY KEY,
  webhook_id       bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event            text NOT NULL,
  experiment_key   text,
  payload          jsonb NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  -- When the next attempt is due; a dispatcher claiming the row moves it past its timeout,
  -- so another instance does not send it concurrently.
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_status_code integer,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  delivered_at     timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);

-- One delivery per active webhook subscribed to the event and the experiment; returns how many.
CREATE FUNCTION enqueue_webhook_event(p_event text, p_experiment text, p_payload jsonb)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  INSERT INTO webhook_deliveries (webhook_id, event, experiment_key, payload)
  SELECT id, p_event, p_experiment, p_payload
  FROM webhooks
  WHERE active
    AND (cardinality(events) = 0 OR p_event = ANY (events))
    AND (cardinality(experiments) = 0 OR p_experiment IS NULL OR p_experiment = ANY (experiments));
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

CREATE FUNCTION experiment_transition_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  to_status text := substr(NEW.action, length('transitioned:') + 1);
  final jsonb;
  payload jsonb;
BEGIN
  payload := jsonb_build_object(
    'event', 'experiment.transitioned',
    'experimentKey', NEW.entity_key,
    'name', NEW.after ->> 'name',
    'from', NEW.before ->> 'status',
    'to', to_status,
    'actor', NEW.actor,
    'at', NEW.at,
    'version', NEW.version
  );
  PERFORM enqueue_webhook_event('experiment.transitioned', NEW.entity_key, payload);
  IF to_status = 'concluded' THEN
    SELECT r.summary INTO final FROM experiment_result_summaries AS r WHERE r.experiment_key = NEW.entity_key;
    -- Frozen in the append-only log: later refreshes change experiment_result_summaries, never this.
    INSERT INTO audit_log (entity_type, entity_key, action, actor, version, before, after, diff)
    VALUES ('experiment', NEW.entity_key, 'results:final', NEW.actor, NEW.version, NULL,
            jsonb_build_object(
              'results', final,
              'decision', NEW.after -> 'decision',
              'learnings', NEW.after -> 'summary'
            ),
            '[]'::jsonb);
    PERFORM enqueue_webhook_event('experiment.concluded', NEW.entity_key, jsonb_build_object(
      'event', 'experiment.concluded',
      'experimentKey', NEW.entity_key,
      'name', NEW.after ->> 'name',
      'actor', NEW.actor,
      'at', NEW.at,
      'decision', NEW.after -> 'decision',
      'learnings', NEW.after -> 'summary',
      'results', final
    ));
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER audit_log_experiment_transitions AFTER INSERT ON audit_log
  FOR EACH ROW
  WHEN (NEW.entity_type = 'experiment' AND NEW.action LIKE 'transitioned:%')
  EXECUTE FUNCTION experiment_transition_events();
