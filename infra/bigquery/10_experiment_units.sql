-- One row per unit exposed to an experiment: its variant and first exposure time.
-- First exposure wins; a unit seen in more than one variant of the experiment is left
-- out (it is counted in experiment_variant_exposures.excluded_units instead).
SELECT
  experiment_key,
  MIN(variation_id) AS variation_id,
  unit_id,
  MIN(`timestamp`) AS first_exposed_at
FROM `${dataset}.exposures`
GROUP BY experiment_key, unit_id
HAVING COUNT(DISTINCT variation_id) = 1
