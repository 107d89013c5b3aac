-- Per experiment, metric and variant: conversion rate and mean per unit with their lift
-- over the baseline variant (the first variant of the experiment in the registry, else the
-- alphabetically first), a two-proportion z-score for the conversion rate and a Welch
-- t-score for the value per unit. |z| or |t| above 1.96 is significant at 5% (two-sided,
-- large samples, one metric; correct for multiple metrics yourself).
WITH s AS (
  SELECT
    m.*,
    SAFE_DIVIDE(m.value_sum_squares - SAFE_DIVIDE(m.value_sum * m.value_sum, m.units), m.units - 1) AS value_variance
  FROM `${dataset}.experiment_metric_summary` AS m
),
baseline AS (
  SELECT
    s.experiment_key,
    COALESCE(MAX(cfg.baseline_variation_id), MIN(s.variation_id)) AS variation_id
  FROM s
  LEFT JOIN `${dataset}.experiment_settings` AS cfg
    ON cfg.experiment_key = s.experiment_key
  GROUP BY s.experiment_key
),
b AS (
  SELECT s.*
  FROM s
  JOIN baseline
    ON baseline.experiment_key = s.experiment_key
    AND baseline.variation_id = s.variation_id
)
SELECT
  s.experiment_key,
  s.metric,
  s.variation_id,
  b.variation_id AS baseline_variation_id,
  s.units,
  s.converted_units,
  s.conversion_rate,
  SAFE_DIVIDE(s.conversion_rate - b.conversion_rate, b.conversion_rate) AS conversion_lift,
  SAFE_DIVIDE(
    s.conversion_rate - b.conversion_rate,
    SQRT(
      SAFE_DIVIDE(s.converted_units + b.converted_units, s.units + b.units)
      * (1 - SAFE_DIVIDE(s.converted_units + b.converted_units, s.units + b.units))
      * (SAFE_DIVIDE(1, s.units) + SAFE_DIVIDE(1, b.units))
    )
  ) AS conversion_z,
  s.value_per_unit,
  SAFE_DIVIDE(s.value_per_unit - b.value_per_unit, b.value_per_unit) AS value_lift,
  SAFE_DIVIDE(
    s.value_per_unit - b.value_per_unit,
    SQRT(SAFE_DIVIDE(s.value_variance, s.units) + SAFE_DIVIDE(b.value_variance, b.units))
  ) AS value_t
FROM s
JOIN b
  ON b.experiment_key = s.experiment_key
  AND b.metric = s.metric
