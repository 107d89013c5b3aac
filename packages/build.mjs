// Builds one package of packages/ (run from its folder by its `build` script):
//   dist/index.mjs (ESM) and dist/index.cjs (CommonJS) with esbuild, dependencies external;
//   dist/types/ declarations with tsc (tsconfig.build.json of the package);
//   extra browser bundles when the package.json lists them under "xpBundles".
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import process from 'node:process';

const dir = process.cwd();
const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
rmSync(join(dir, 'dist'), { recursive: true, force: true });

const common = {
  entryPoints: [join(dir, 'src/index.ts')],
  bundle: true,
  external,
  target: 'es2020',
  sourcemap: true,
  logLevel: 'warning',
  platform: pkg.xpPlatform ?? 'neutral',
  mainFields: ['module', 'main'],
};
await build({ ...common, format: 'esm', outfile: join(dir, 'dist/index.mjs') });
await build({ ...common, format: 'cjs', outfile: join(dir, 'dist/index.cjs') });
for (const bundle of pkg.xpBundles ?? []) {
  // Self-contained bundles (dependencies included), minified, for browsers.
  await build({
    entryPoints: [join(dir, bundle.entry)],
    bundle: true,
    minify: true,
    format: bundle.format,
    globalName: bundle.globalName,
    outfile: join(dir, bundle.outfile),
    target: 'es2020',
    platform: 'browser',
    logLevel: 'warning',
    metafile: false,
  });
}
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'inherit' });
