-- The metrics each experiment declares in the registry, one row per metric: its name (the
-- declared name, else the event), the event it counts, its aggregation (conversion, count,
-- sum, mean), its role (primary, secondary, guardrail) and whether lower is better (`inverse`:
-- errors, latency; a rise is then the harmful direction). Only declared metrics are analysed.
WITH latest AS (
  SELECT key AS experiment_key, snapshot
  FROM `${dataset}.experiments`
  WHERE entity_type = 'experiment' AND snapshot IS NOT NULL
  QUALIFY ROW_NUMBER() OVER (PARTITION BY key ORDER BY version DESC, changed_at DESC) = 1
),
declared AS (
  SELECT experiment_key, 'primary' AS role, m FROM latest, UNNEST(JSON_QUERY_ARRAY(snapshot, '$.primaryMetrics')) AS m
  UNION ALL
  SELECT experiment_key, 'secondary' AS role, m FROM latest, UNNEST(JSON_QUERY_ARRAY(snapshot, '$.secondaryMetrics')) AS m
  UNION ALL
  SELECT experiment_key, 'guardrail' AS role, m FROM latest, UNNEST(JSON_QUERY_ARRAY(snapshot, '$.guardrailMetrics')) AS m
)
SELECT
  experiment_key,
  COALESCE(JSON_VALUE(m, '$.name'), JSON_VALUE(m, '$.event')) AS metric,
  JSON_VALUE(m, '$.event') AS event,
  JSON_VALUE(m, '$.aggregation') AS aggregation,
  role,
  COALESCE(JSON_VALUE(m, '$.inverse') = 'true', FALSE) AS inverse
FROM declared
