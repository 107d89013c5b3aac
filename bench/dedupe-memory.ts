// `make bench-dedupe`: memory of the enricher's dedupe state per million remembered messageIds,
// against a baseline measured in the same run: the same ids held in a plain array (the strings
// alone, the least any exact dedupe can keep). Pure: no stack needed. Run with --expose-gc.
//
//   BENCH_IDS (default 1000000) ids of 36 characters (UUID-like, as Segment clients send).
import { randomUUID } from 'node:crypto';
import { DedupeStore } from '../services/enricher/dedupe';

const IDS = Number(process.env.BENCH_IDS ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function heap(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

/** Heap bytes per id kept alive by `build` (which creates its own ids), measured around it. */
function perId(build: () => unknown): number {
  const before = heap();
  const kept = build();
  const after = heap();
  if (!kept) throw new Error('unreachable');
  return (after - before) / IDS;
}

/** A 36-character id as a flat string, the way decoding a record from a buffer produces it. */
const freshId = () => Buffer.from(randomUUID(), 'latin1').toString('latin1');

const t0 = Date.now();
const arrayBytes = perId(() => Array.from({ length: IDS }, freshId));
const storeBytes = perId(() => {
  const store = new DedupeStore(24 * 3_600_000);
  // One arrival every 10 ms: ids spread over many arrival buckets, as in production.
  for (let i = 0; i < IDS; i++) store.remember('e', freshId(), i * 10);
  return store;
});
const mb = (bytes: number) => ((bytes * 1_000_000) / 1024 / 1024).toFixed(0);
console.log(`dedupe state: ${IDS} ids of 36 characters (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
console.log(
  `  baseline, the ids in an array: ${arrayBytes.toFixed(0)} B/id = ${mb(arrayBytes)} MiB per million`,
);
console.log(
  `  DedupeStore (map + arrival buckets): ${storeBytes.toFixed(0)} B/id = ${mb(storeBytes)} MiB per million`,
);
console.log(`ratio dedupe store / ids alone: ${(storeBytes / arrayBytes).toFixed(2)}`);
