-- Per unit and declared metric: what the unit did within its attribution window, from the
-- enricher's attributed events (experiment_events; the enricher applied phases, first
-- exposure and the window). Every unit has a row for every metric, zeros included; units seen
-- in several variants are left out.
--   events          attributed events of the metric's event
--   value_sum       sum of their values (the collector's `value` field)
--   value           the unit's metric value by aggregation: conversion 1/0, count = events,
--                   sum and mean = value_sum (mean is a ratio: value_sum / events over units)
--   window_ends_at  when the unit's attribution window closes; until then it is in progress
SELECT
  u.experiment_key,
  u.phase,
  u.variation_id,
  u.unit_id,
  m.metric,
  m.aggregation,
  m.role,
  m.inverse,
  COUNT(e.event_id) AS events,
  COALESCE(SUM(e.value), 0) AS value_sum,
  CASE m.aggregation
    WHEN 'conversion' THEN IF(COUNT(e.event_id) > 0, 1, 0)
    WHEN 'count' THEN COUNT(e.event_id)
    ELSE COALESCE(SUM(e.value), 0)
  END AS value,
  TIMESTAMP_ADD(
    u.first_exposed_at,
    INTERVAL CAST(COALESCE(s.attribution_window_hours, 72) * 3600000 AS INT64) MILLISECOND
  ) AS window_ends_at
FROM `${dataset}.experiment_units` AS u
JOIN `${dataset}.experiment_metrics` AS m
  ON m.experiment_key = u.experiment_key
LEFT JOIN `${dataset}.experiment_settings` AS s
  ON s.experiment_key = u.experiment_key
LEFT JOIN `${dataset}.experiment_events` AS e
  ON e.experiment_key = u.experiment_key
  AND e.phase = u.phase
  AND e.unit_id = u.unit_id
  AND e.event = m.event
WHERE NOT u.multiple_variants
GROUP BY
  u.experiment_key, u.phase, u.variation_id, u.unit_id, u.first_exposed_at,
  m.metric, m.aggregation, m.role, m.inverse, s.attribution_window_hours
