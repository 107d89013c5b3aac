-- Per unit, metric (track event name) and day: the unit's events within the attribution
-- window that starts at its first exposure. The grain the other metric views sum up.
SELECT
  u.experiment_key,
  u.variation_id,
  u.unit_id,
  e.event AS metric,
  DATE(e.`timestamp`) AS day,
  COUNT(*) AS events,
  SUM(COALESCE(e.value, 0)) AS value
FROM `${dataset}.experiment_units` AS u
JOIN `${dataset}.events` AS e
  ON e.unit_id = u.unit_id
LEFT JOIN `${dataset}.experiment_settings` AS s
  ON s.experiment_key = u.experiment_key
WHERE e.type = 'track'
  AND e.event IS NOT NULL
  AND e.`timestamp` >= u.first_exposed_at
  AND e.`timestamp` < TIMESTAMP_ADD(
    u.first_exposed_at,
    INTERVAL CAST(COALESCE(s.attribution_window_hours, 72) * 3600000 AS INT64) MILLISECOND
  )
GROUP BY u.experiment_key, u.variation_id, u.unit_id, e.event, DATE(e.`timestamp`)
