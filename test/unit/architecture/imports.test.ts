// Architecture checks on the import graph: no import cycles anywhere in services/ and
// packages/, and the registry's dependency direction (services/registry/README.md, Layout):
// app.ts → feature plugins (<feature>/routes.ts) → services → stores → core/.
import { join } from 'node:path';
import { ROOT, cycles, importGraph, rel, sourceFiles } from './import-graph';

const files = [...sourceFiles(join(ROOT, 'services')), ...sourceFiles(join(ROOT, 'packages'))];
const graph = importGraph(files);
const REGISTRY = 'services/registry/';

/** Imports among our sources, as [importer, imported] relative paths. */
const edges = [...graph].flatMap(([from, targets]) => targets.map((to) => [rel(from), rel(to)] as const));
const registryEdges = edges.filter(([from]) => from.startsWith(REGISTRY));
const local = (path: string) => path.slice(REGISTRY.length);

describe('imports', () => {
  it('reads a graph of the sources (a sanity check of the resolver)', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(edges).toContainEqual([`${REGISTRY}server.ts`, `${REGISTRY}app.ts`]);
    expect(edges).toContainEqual([`${REGISTRY}flags/routes.ts`, 'packages/evaluation/src/index.ts']);
  });

  it('have no cycles in services/ and packages/ (type-only imports included)', () => {
    expect(cycles(graph).map((c) => c.map(rel).join(' → '))).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['d']],
      ['e', ['a']],
    ]);
    expect(cycles(g)).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('registry: only server.ts imports app.ts, and only app.ts imports the feature plugins', () => {
    const wrong = registryEdges.filter(
      ([from, to]) =>
        (to === `${REGISTRY}app.ts` && from !== `${REGISTRY}server.ts`) ||
        (/^services\/registry\/[a-z-]+\/routes\.ts$/.test(to) && from !== `${REGISTRY}app.ts`),
    );
    expect(wrong).toEqual([]);
  });

  it('registry: core/ depends on nothing else of the registry, and domain code not on http/', () => {
    const wrong = registryEdges.filter(([from, to]) => {
      if (!to.startsWith(REGISTRY)) return false;
      const [f, t] = [local(from), local(to)];
      if (f.startsWith('core/')) return !t.startsWith('core/');
      // Services, stores and models are the domain: HTTP stays in the plugins.
      if (/\/(service|store|model)\.ts$/.test(f)) return t.startsWith('http/');
      return false;
    });
    expect(wrong).toEqual([]);
  });
});
