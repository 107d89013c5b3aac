-- Per unit and metric: events and summed value over the whole attribution window.
-- Only units with at least one event of the metric appear (the others are zeros).
SELECT
  experiment_key,
  variation_id,
  unit_id,
  metric,
  SUM(events) AS events,
  SUM(value) AS value
FROM `${dataset}.experiment_unit_metric_days`
GROUP BY experiment_key, variation_id, unit_id, metric
