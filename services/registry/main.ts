// The registry process: configuration, logger, start, graceful shutdown. Nothing else.
import { ConfigError } from '../common/config';
import { Lifecycle } from '../common/lifecycle';
import { createLogger } from '../common/logger';
import { loadRegistryConfig } from './config';
import { startRegistry } from './server';

async function main(): Promise<void> {
  const config = loadRegistryConfig();
  const logger = createLogger('registry', config.LOG_LEVEL);
  const lifecycle = new Lifecycle(logger, config.REGISTRY_SHUTDOWN_TIMEOUT_MS);
  lifecycle.handleSignals();
  const registry = await startRegistry(config, logger);
  for (const step of registry.steps) lifecycle.onShutdown(step.name, step.run);
  logger.info({ url: registry.url }, 'registry listening');
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error('registry failed to start:', err);
  process.exit(1);
});
