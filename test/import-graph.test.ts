/**
 * The shape of src/: no import circles (type-only imports count: a circle of types is still
 * two modules that cannot be understood apart), and the front ends stay on top — no library
 * module imports the CLI.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Relative imports and re-exports of one module, as paths of src/ files. */
export function relativeImports(file: string, text: string): string[] {
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
  const bare = [...text.matchAll(/(?:^|\n)\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
  return [...specs, ...bare].map((spec) => resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
}

/** Every cycle of the graph, each once, as a list of modules (Tarjan's strongly connected components). */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).includes(v);
      if (component.length > 1 || selfLoop) found.push(component.reverse());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const graph = new Map(sourceFiles(SRC).map((file) => [file, relativeImports(file, readFileSync(file, 'utf8'))] as const));
const name = (file: string) => relative(SRC, file);

describe('the import graph of src/', () => {
  it('finds cycles when there are some (the checker itself)', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
      ['e', ['e']],
    ]);
    expect(cycles(g).map((c) => c.sort().join(','))).toEqual(['a,b,c', 'e']);
    expect(relativeImports('/x/src/a/b.ts', "import type { T } from '../c/d.js';\nexport { u } from './e.js';\nimport './f.js';")).toEqual([
      '/x/src/c/d.ts',
      '/x/src/a/e.ts',
      '/x/src/a/f.ts',
    ]);
  });

  it('has no import circles', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(cycles(graph).map((c) => c.map(name).join(' -> '))).toEqual([]);
  });

  it('keeps the front ends on top: nothing outside src/cli/ imports it', () => {
    const offenders = [...graph].flatMap(([file, deps]) =>
      name(file).startsWith('cli/') ? [] : deps.filter((d) => name(d).startsWith('cli/')).map((d) => `${name(file)} imports ${name(d)}`),
    );
    expect(offenders).toEqual([]);
  });
});
