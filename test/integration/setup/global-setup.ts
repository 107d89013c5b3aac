import { execFileSync, execSync } from 'node:child_process';
import { join } from 'node:path';
import { startContainers } from './containers';

/**
 * Picks the stack the integration tests run against. XP_TEST_STACK=local uses the
 * processes that `make up` started; XP_TEST_STACK=testcontainers starts containers;
 * unset means testcontainers when a Docker engine answers, local otherwise.
 */
export default async function globalSetup(): Promise<void> {
  // Tests that run a service as a child process (kill -9, restarts) use dist/: build it once
  // here (incremental, so a fresh `make build` makes this quick). XP_TEST_SKIP_BUILD=1 skips it
  // for suites that spawn no service.
  const root = join(__dirname, '..', '..', '..');
  if (process.env.XP_TEST_SKIP_BUILD !== '1') {
    // The services import the evaluation core as a package (packages/evaluation/dist).
    execSync('npm run build:packages --silent', { cwd: root, stdio: 'inherit' });
    execFileSync(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: root,
        stdio: 'inherit',
      },
    );
  }
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
