-- Per experiment, phase, variant and declared metric: the sufficient statistics the results
-- service (and any t-test or z-test) needs, summed over the variant's units, zeros included.
-- No statistics here: they are computed in one place, the results service.
--   units                       units analysed (the denominator)
--   units_in_progress           of which still inside their attribution window: counted with
--                               what they did so far ("to date", as GrowthBook does by default)
--   converted_units             units with at least one event of the metric
--   value_sum, value_sum_squares          sum over units of the unit's value, and of its square
--   events_sum, events_sum_squares        sum over units of the unit's event count, and its square
--   value_events_sum            sum over units of value_sum x events (ratio metrics, delta method)
SELECT
  experiment_key,
  phase,
  variation_id,
  metric,
  ANY_VALUE(aggregation) AS aggregation,
  ANY_VALUE(role) AS role,
  ANY_VALUE(inverse) AS inverse,
  COUNT(*) AS units,
  COUNTIF(window_ends_at > CURRENT_TIMESTAMP()) AS units_in_progress,
  COUNTIF(events > 0) AS converted_units,
  SUM(value) AS value_sum,
  SUM(value * value) AS value_sum_squares,
  SUM(events) AS events_sum,
  SUM(events * events) AS events_sum_squares,
  SUM(value_sum * events) AS value_events_sum
FROM `${dataset}.experiment_unit_metrics`
GROUP BY experiment_key, phase, variation_id, metric
