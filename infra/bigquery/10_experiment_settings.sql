-- The latest version of each experiment as the registry published it, with the settings the
-- analysis needs: the baseline (first variant), the attribution window (72 h when the snapshot
-- lacks it), the variants with their weights (JSON, baseline first) and the current phase (the
-- latest one; the default phase of every analysis).
SELECT
  key AS experiment_key,
  version,
  action AS last_action,
  changed_at,
  JSON_VALUE(snapshot, '$.name') AS name,
  JSON_VALUE(snapshot, '$.status') AS status,
  JSON_VALUE(snapshot, '$.variants[0].key') AS baseline_variation_id,
  JSON_QUERY(snapshot, '$.variants') AS variants,
  COALESCE(SAFE_CAST(JSON_VALUE(snapshot, '$.attributionWindowHours') AS FLOAT64), 72) AS attribution_window_hours,
  (
    SELECT MAX(SAFE_CAST(JSON_VALUE(p, '$.number') AS INT64))
    FROM UNNEST(JSON_QUERY_ARRAY(snapshot, '$.phases')) AS p
  ) AS current_phase
FROM `${dataset}.experiments`
WHERE entity_type = 'experiment' AND snapshot IS NOT NULL
QUALIFY ROW_NUMBER() OVER (PARTITION BY key ORDER BY version DESC, changed_at DESC) = 1
