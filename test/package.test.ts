/**
 * What `npm pack` ships: everything the CLI and the library need (built-in models included),
 * the README and the docs pages it links to, and nothing else. --ignore-scripts: packing
 * must not rebuild dist/ under the other tests.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { linkTarget, linksOf, publishedMarkdown, readDoc } from './helpers/markdown.js';
import { ROOT } from './helpers/run-cli.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const registry = JSON.parse(readFileSync(join(ROOT, 'models', 'registry.json'), 'utf8'));

let packed: string[] | undefined;
function packedFiles(): string[] {
  if (packed) return packed;
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  packed = (JSON.parse(out)[0].files as { path: string }[]).map((f) => f.path).sort();
  return packed;
}

describe('npm package', () => {
  it('ships the CLI, the typed library, the catalog, the built-in models and the docs, and nothing else', () => {
    const files = packedFiles();
    // The annotation page is served by samlite itself: it ships built.
    for (const needed of ['bin/samlite', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/page/index.html', 'dist/page/app.js', 'dist/page/style.css', 'models/registry.json', 'LICENSE', 'README.md', 'docs/README.md', 'docs/models.md', 'package.json']) {
      expect(files).toContain(needed);
    }
    const builtins = registry.models.filter((m: { builtin?: boolean }) => m.builtin);
    expect(builtins.length).toBeGreaterThanOrEqual(2);
    for (const m of builtins) for (const f of Object.values(m.files) as { path: string }[]) expect(files).toContain(`models/${f.path}`);
    const stray = files.filter((f) => !/^(bin\/samlite|dist\/.+\.(js|d\.ts)|dist\/page\/(index\.html|style\.css)|models\/registry\.json|models\/builtin\/[^/]+\.onnx|LICENSE|README\.md|docs\/[^/]+\.md|docs\/images\/serve-[a-z-]+\.png|package\.json)$/.test(f));
    expect(stray).toEqual([]);
  });

  it('declares what a publishable package needs', () => {
    expect(pkg.license).toBe('Apache-2.0');
    expect(pkg.engines.node).toMatch(/^>=20/);
    expect(pkg.bin).toEqual({ samlite: 'bin/samlite' });
    expect(pkg.type).toBe('module');
    expect(pkg.types).toBe('./dist/index.d.ts');
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
  });

  it("README's commands work in a fresh clone: npx samlite, not a bare samlite that is not on PATH", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const commands = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1].split('\n')).filter((l) => l.includes('samlite'));
    expect(commands.length).toBeGreaterThanOrEqual(5);
    expect(commands.filter((l) => /(^|[|;&]\s*)samlite\b/.test(l))).toEqual([]);
    expect(readme).toContain('npm link');
  });

  it('the README and the docs pages link only to files the package ships (an installed copy reads whole)', () => {
    const files = new Set(packedFiles());
    const missing = publishedMarkdown().flatMap((page) =>
      linksOf(readDoc(page))
        .flatMap((href) => linkTarget(page, href)?.path ?? [])
        .filter((target) => !files.has(target))
        .map((target) => `${page} -> ${target}`),
    );
    expect(missing).toEqual([]);
  });
});
