-- The latest version of each experiment as the registry published it, with the settings
-- the analysis needs. The attribution window defaults to 72 hours when the experiment is
-- unknown to the registry (exposures produced straight to Kafka) or its snapshot lacks it.
SELECT
  key AS experiment_key,
  version,
  action AS last_action,
  changed_at,
  JSON_VALUE(snapshot, '$.name') AS name,
  JSON_VALUE(snapshot, '$.status') AS status,
  JSON_VALUE(snapshot, '$.variants[0].key') AS baseline_variation_id,
  COALESCE(SAFE_CAST(JSON_VALUE(snapshot, '$.attributionWindowHours') AS FLOAT64), 72) AS attribution_window_hours
FROM `${dataset}.experiments`
WHERE entity_type = 'experiment'
QUALIFY ROW_NUMBER() OVER (PARTITION BY key ORDER BY version DESC, changed_at DESC) = 1
