-- Per experiment and variant: the exposed units (deduplicated, first exposure wins, units
-- seen in several variants left out) and the experiment's count of units left out.
WITH excluded AS (
  SELECT experiment_key, COUNT(*) AS excluded_units
  FROM (
    SELECT experiment_key, unit_id
    FROM `${dataset}.exposures`
    GROUP BY experiment_key, unit_id
    HAVING COUNT(DISTINCT variation_id) > 1
  )
  GROUP BY experiment_key
)
SELECT
  u.experiment_key,
  u.variation_id,
  COUNT(*) AS exposed_units,
  MIN(u.first_exposed_at) AS first_exposure_at,
  MAX(u.first_exposed_at) AS last_first_exposure_at,
  COALESCE(MAX(x.excluded_units), 0) AS excluded_units
FROM `${dataset}.experiment_units` AS u
LEFT JOIN excluded AS x
  ON x.experiment_key = u.experiment_key
GROUP BY u.experiment_key, u.variation_id
