import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** The compiled entry point of a service (dist/ is built once by global-setup.ts). */
export function serviceMain(
  service: 'registry' | 'collector' | 'enricher' | 'sink' | 'results',
  file = 'main.js',
): string {
  const main = join(ROOT, 'dist', 'services', service, file);
  if (!existsSync(main)) throw new Error(`${main} is missing: the integration global setup builds dist/`);
  return main;
}
