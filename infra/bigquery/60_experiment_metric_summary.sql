-- Per experiment, variant and metric: everything a t-test or z-test needs.
--   units              exposed units of the variant (the denominator; zeros included)
--   converted_units    units with at least one event of the metric
--   events, events_sum_squares   sum over units of the per-unit event count, and of its square
--   value_sum, value_sum_squares sum over units of the per-unit value, and of its square
-- Every metric seen in an experiment gets a row for every variant, zeros included.
WITH exposed AS (
  SELECT experiment_key, variation_id, exposed_units AS units
  FROM `${dataset}.experiment_variant_exposures`
),
metrics AS (
  SELECT DISTINCT experiment_key, metric
  FROM `${dataset}.experiment_unit_metrics`
),
per_variant AS (
  SELECT
    experiment_key,
    variation_id,
    metric,
    COUNT(*) AS converted_units,
    SUM(events) AS events,
    SUM(events * events) AS events_sum_squares,
    SUM(value) AS value_sum,
    SUM(value * value) AS value_sum_squares
  FROM `${dataset}.experiment_unit_metrics`
  GROUP BY experiment_key, variation_id, metric
)
SELECT
  x.experiment_key,
  x.variation_id,
  m.metric,
  x.units,
  COALESCE(p.converted_units, 0) AS converted_units,
  COALESCE(p.events, 0) AS events,
  COALESCE(p.events_sum_squares, 0) AS events_sum_squares,
  COALESCE(p.value_sum, 0) AS value_sum,
  COALESCE(p.value_sum_squares, 0) AS value_sum_squares,
  SAFE_DIVIDE(COALESCE(p.converted_units, 0), x.units) AS conversion_rate,
  SAFE_DIVIDE(COALESCE(p.value_sum, 0), x.units) AS value_per_unit
FROM exposed AS x
JOIN metrics AS m
  ON m.experiment_key = x.experiment_key
LEFT JOIN per_variant AS p
  ON p.experiment_key = x.experiment_key
  AND p.variation_id = x.variation_id
  AND p.metric = m.metric
