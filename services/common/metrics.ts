import { Registry, collectDefaultMetrics } from 'prom-client';

/** A prom-client registry with Node's default metrics and a service label on every series. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
