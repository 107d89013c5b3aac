-- Per experiment, variant, metric and day (UTC): the same aggregates as
-- experiment_metric_summary, cumulative up to the end of that day, for every day from the
-- experiment's first exposure to its last activity (days without news included).
WITH bounds AS (
  SELECT
    u.experiment_key,
    DATE(MIN(u.first_exposed_at)) AS first_day,
    GREATEST(DATE(MAX(u.first_exposed_at)), COALESCE(MAX(a.last_day), DATE(MAX(u.first_exposed_at)))) AS last_day
  FROM `${dataset}.experiment_units` AS u
  LEFT JOIN (
    SELECT experiment_key, MAX(day) AS last_day
    FROM `${dataset}.experiment_unit_metric_days`
    GROUP BY experiment_key
  ) AS a
    ON a.experiment_key = u.experiment_key
  GROUP BY u.experiment_key
),
days AS (
  SELECT b.experiment_key, day
  FROM bounds AS b
  CROSS JOIN UNNEST(GENERATE_DATE_ARRAY(b.first_day, b.last_day)) AS day
),
exposed AS (
  SELECT d.experiment_key, d.day, u.variation_id, COUNT(*) AS units
  FROM days AS d
  JOIN `${dataset}.experiment_units` AS u
    ON u.experiment_key = d.experiment_key
    AND DATE(u.first_exposed_at) <= d.day
  GROUP BY d.experiment_key, d.day, u.variation_id
),
unit_cumulative AS (
  SELECT d.experiment_key, d.day, m.variation_id, m.metric, m.unit_id,
    SUM(m.events) AS events,
    SUM(m.value) AS value
  FROM days AS d
  JOIN `${dataset}.experiment_unit_metric_days` AS m
    ON m.experiment_key = d.experiment_key
    AND m.day <= d.day
  GROUP BY d.experiment_key, d.day, m.variation_id, m.metric, m.unit_id
),
per_variant AS (
  SELECT experiment_key, day, variation_id, metric,
    COUNT(*) AS converted_units,
    SUM(events) AS events,
    SUM(events * events) AS events_sum_squares,
    SUM(value) AS value_sum,
    SUM(value * value) AS value_sum_squares
  FROM unit_cumulative
  GROUP BY experiment_key, day, variation_id, metric
),
metrics AS (
  SELECT DISTINCT experiment_key, metric
  FROM `${dataset}.experiment_unit_metric_days`
)
SELECT
  x.experiment_key,
  x.variation_id,
  m.metric,
  x.day,
  x.units,
  COALESCE(p.converted_units, 0) AS converted_units,
  COALESCE(p.events, 0) AS events,
  COALESCE(p.events_sum_squares, 0) AS events_sum_squares,
  COALESCE(p.value_sum, 0) AS value_sum,
  COALESCE(p.value_sum_squares, 0) AS value_sum_squares,
  SAFE_DIVIDE(COALESCE(p.converted_units, 0), x.units) AS conversion_rate
FROM exposed AS x
JOIN metrics AS m
  ON m.experiment_key = x.experiment_key
LEFT JOIN per_variant AS p
  ON p.experiment_key = x.experiment_key
  AND p.day = x.day
  AND p.variation_id = x.variation_id
  AND p.metric = m.metric
