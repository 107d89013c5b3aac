-- One row per unit exposed to an experiment in a phase, from the enricher's deduplicated
-- exposures that fell inside a running phase (the enricher decides phase membership; this
-- view only aggregates). First exposure wins: the unit's variant is the one it saw first; a
-- unit seen in more than one variant is kept with multiple_variants = TRUE and left out of
-- every metric.
WITH exposures AS (
  SELECT experiment_key, phase, unit_id, variation_id, `timestamp`
  FROM `${dataset}.exposures`
  WHERE in_running_phase
),
first_exposure AS (
  SELECT experiment_key, phase, unit_id, variation_id, `timestamp` AS first_exposed_at
  FROM exposures
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY experiment_key, phase, unit_id ORDER BY `timestamp`, variation_id
  ) = 1
),
variants AS (
  SELECT experiment_key, phase, unit_id, COUNT(DISTINCT variation_id) AS variants
  FROM exposures
  GROUP BY experiment_key, phase, unit_id
)
SELECT
  f.experiment_key,
  f.phase,
  f.unit_id,
  f.variation_id,
  f.first_exposed_at,
  v.variants > 1 AS multiple_variants
FROM first_exposure AS f
JOIN variants AS v
  ON v.experiment_key = f.experiment_key AND v.phase = f.phase AND v.unit_id = f.unit_id
