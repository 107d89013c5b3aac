-- Per experiment, phase and variant: the units analysed (exposed in a running phase, first
-- exposure wins) and, separately, the units left out because they saw several variants,
-- counted in the variant they saw first.
SELECT
  experiment_key,
  phase,
  variation_id,
  COUNTIF(NOT multiple_variants) AS exposed_units,
  COUNTIF(multiple_variants) AS excluded_units,
  MIN(first_exposed_at) AS first_exposure_at,
  MAX(first_exposed_at) AS last_first_exposure_at
FROM `${dataset}.experiment_units`
GROUP BY experiment_key, phase, variation_id
