import { execSync } from 'node:child_process';
import { startContainers } from './containers';

/**
 * Picks the stack the integration tests run against. XP_TEST_STACK=local uses the
 * processes that `make up` started; XP_TEST_STACK=testcontainers starts containers;
 * unset means testcontainers when a Docker engine answers, local otherwise.
 */
export default async function globalSetup(): Promise<void> {
  const mode = process.env.XP_TEST_STACK ?? (dockerEngineReachable() ? 'testcontainers' : 'local');
  if (mode === 'testcontainers') {
    Object.assign(process.env, await startContainers());
  } else if (mode !== 'local') {
    throw new Error(`XP_TEST_STACK must be local or testcontainers, got ${mode}`);
  }
  process.env.XP_TEST_STACK = mode;
}

function dockerEngineReachable(): boolean {
  try {
    execSync('docker info', { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}
