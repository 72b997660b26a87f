/**
 * Every ```ts / ```typescript snippet in README.md and docs/ type-checks, strict, against the
 * built package as a user imports it: `from 'samlite'` resolves through a node_modules/samlite
 * link to this repository, so to package.json's exports and dist/*.d.ts (npm test builds
 * first). One TypeScript program checks all snippets at once. A snippet that is deliberately
 * partial is fenced ```ts nocheck; the test says how many it skipped.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { codeBlocksOf, publishedMarkdown, readDoc } from './helpers/markdown.js';
import { assertBuilt, ROOT } from './helpers/run-cli.js';

const TS_LANGS = new Set(['ts', 'typescript']);

interface Snippet {
  page: string;
  /** Line of the snippet's first code line in its page. */
  line: number;
  text: string;
}

const snippets: Snippet[] = [];
const skipped: Snippet[] = [];
for (const page of publishedMarkdown()) {
  for (const block of codeBlocksOf(readDoc(page))) {
    if (!TS_LANGS.has(block.info[0] ?? '')) continue;
    (block.info.includes('nocheck') ? skipped : snippets).push({ page, line: block.line, text: block.text });
  }
}

/** What a user's strict project would use: ES modules (top-level await), Node's types. */
const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2023.d.ts'],
  types: ['node'],
  skipLibCheck: true,
};

const work = mkdtempSync(join(tmpdir(), 'samlite-snippets-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Type-check `list` in one program from a scratch project; the messages, each naming its page and line. */
function typeCheck(list: readonly Snippet[]): string[] {
  const dir = mkdtempSync(join(work, 'project-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'samlite'), 'dir');
  symlinkSync(join(ROOT, 'node_modules', '@types'), join(dir, 'node_modules', '@types'), 'dir');
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  const files = list.map((snippet, i) => {
    const file = join(dir, `snippet-${i}.ts`);
    // export {} keeps each snippet a module of its own, as a file of the user's would be.
    writeFileSync(file, `${snippet.text}\nexport {};\n`);
    return file;
  });
  const program = ts.createProgram(files, { ...COMPILER_OPTIONS, typeRoots: [join(dir, 'node_modules', '@types')] });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const index = d.file ? files.indexOf(d.file.fileName) : -1;
    if (!d.file || index < 0) return `TS${d.code}: ${message}`;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    const s = list[index];
    return `${s.page}:${s.line + line}: TS${d.code}: ${message}`;
  });
}

/**
 * A snippet that must fail, checked in the same program as the docs' own so the checker
 * cannot pass by checking nothing: the old README's line (the union of the two statistics
 * shapes has no common `family`) and an export that does not exist.
 */
const CONTROL: Snippet = {
  page: 'control.md',
  line: 10,
  text: [
    "import { Segmenter, resolveModel, loadImage } from 'samlite';",
    "const fast = await Segmenter.open(await resolveModel('builtin-fastsam'));",
    "const all = await fast.everything(await loadImage('photo.jpg'));",
    "if (all.stats.family === 'fastsam') console.log(all.stats.counts.kept);",
    "import('samlite').then((m) => m.noSuchExport);",
  ].join('\n'),
};

let checked: { docs: string[]; control: string[] } | undefined;
/** One program over every snippet and the control, checked on first use. */
function results(): { docs: string[]; control: string[] } {
  if (!checked) {
    assertBuilt();
    const messages = typeCheck([...snippets, CONTROL]);
    const isControl = (m: string) => m.startsWith(`${CONTROL.page}:`);
    checked = { docs: messages.filter((m) => !isControl(m)), control: messages.filter(isControl) };
  }
  return checked;
}

describe('TypeScript snippets in README.md and docs/', () => {
  it('are found, and the few deliberately partial ones are counted', () => {
    console.log(`docs snippets: ${snippets.length} type-checked, ${skipped.length} skipped (fenced \`ts nocheck\`)${skipped.map((s) => `\n  skipped: ${s.page}:${s.line}`).join('')}`);
    expect(snippets.length).toBeGreaterThanOrEqual(4);
    expect(skipped.length).toBeLessThanOrEqual(2);
  });

  it('type-check (strict) against the built package, imported as samlite', () => {
    expect(results().docs).toEqual([]);
  });

  it('would report a snippet that does not type-check (the checker is not a no-op)', () => {
    const { control } = results();
    expect(control.some((m) => m.startsWith('control.md:13: TS2339') && m.includes("'family'")), control.join('\n')).toBe(true);
    expect(control.some((m) => m.startsWith('control.md:14: TS2339') && m.includes('noSuchExport')), control.join('\n')).toBe(true);
  });
});
