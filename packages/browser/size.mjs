// Prints the browser bundles' sizes (minified and gzip) and how much of them is re2js.
//   node packages/browser/size.mjs   (after npm run build -w packages/browser)
import { build } from 'esbuild';
import console from 'node:console';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dir = import.meta.dirname;
const rows = [];
for (const file of ['dist/xp.browser.min.mjs', 'dist/xp.global.min.js']) {
  const bytes = readFileSync(join(dir, file));
  rows.push({ build: file, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
}
const meta = await build({
  entryPoints: [join(dir, 'src/index.ts')],
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  write: false,
  metafile: true,
  target: 'es2020',
});
let re2 = 0;
let total = 0;
for (const [path, info] of Object.entries(meta.metafile.outputs)) {
  if (!path.endsWith('.js')) continue;
  for (const [input, { bytesInOutput }] of Object.entries(info.inputs)) {
    total += bytesInOutput;
    if (input.includes('re2js')) re2 += bytesInOutput;
  }
}
const withoutRe2 = await build({
  entryPoints: [join(dir, 'src/index.ts')],
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  write: false,
  external: ['re2js'],
  target: 'es2020',
});
const sdk = withoutRe2.outputFiles[0].contents;
rows.push({
  build: 'ESM without re2js (the SDK alone)',
  bytes: sdk.length,
  gzip: gzipSync(sdk, { level: 9 }).length,
});
console.table(rows);
console.log(`re2js: ${re2} of ${total} minified bytes (${((100 * re2) / total).toFixed(0)}%)`);
console.log(JSON.stringify(rows));
