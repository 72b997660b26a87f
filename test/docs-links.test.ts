/**
 * The published Markdown holds together: every relative link in README.md and docs/ leads
 * to a file of the repository, every #anchor to a heading of its target page under GitHub's
 * anchor rules, every page has a title and no two headings of a page share an anchor.
 * No network: links to other sites are not followed.
 */
import { existsSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { headingsOf, linkTarget, linksOf, publishedMarkdown, readDoc } from './helpers/markdown.js';
import { ROOT } from './helpers/run-cli.js';

const files = publishedMarkdown();

/** Anchors of each page, read once. */
const anchorCache = new Map<string, Set<string>>();
function anchorsOf(path: string): Set<string> {
  let anchors = anchorCache.get(path);
  if (!anchors) {
    anchors = new Set(headingsOf(readDoc(path)).map((h) => h.anchor));
    anchorCache.set(path, anchors);
  }
  return anchors;
}

/** What is wrong with one link of `from` (a path relative to the root), or null. */
function brokenLink(from: string, href: string): string | null {
  const to = linkTarget(from, href);
  if (!to) return null; // another site: not followed
  const { path: target, anchor } = to;
  if (target.startsWith('..' + sep) || target === '..') return `${href}: leads out of the repository`;
  if (!existsSync(join(ROOT, target))) return `${href}: no file ${target}`;
  if (anchor === null) return null;
  if (!target.endsWith('.md') || statSync(join(ROOT, target)).isDirectory()) return `${href}: an anchor into ${target}, which is not a Markdown page`;
  if (!anchorsOf(target).has(anchor)) return `${href}: ${target} has no heading with the anchor #${anchor}`;
  return null;
}

describe('published Markdown', () => {
  it('is README.md and the docs pages, with an index', () => {
    expect(files).toContain('README.md');
    expect(files).toContain('docs/README.md');
    expect(files.filter((f) => f.startsWith('docs/')).length).toBeGreaterThan(10);
  });

  it.each(files)('%s: every relative link and anchor resolves', (file) => {
    const links = linksOf(readDoc(file));
    const broken = links.map((href) => brokenLink(file, href)).filter((problem) => problem !== null);
    expect(broken).toEqual([]);
  });

  it.each(files)('%s: starts with a title and its headings are unique', (file) => {
    const text = readDoc(file);
    expect(text.startsWith('# '), 'the first line is the page title').toBe(true);
    const headings = headingsOf(text);
    expect(headings.filter((h) => h.depth === 1).map((h) => h.text), 'one title').toHaveLength(1);
    const seen = new Map<string, string>();
    const repeats: string[] = [];
    for (const h of headings) {
      const earlier = seen.get(h.base);
      if (earlier !== undefined) repeats.push(`"${h.text}" repeats the anchor of "${earlier}" (#${h.base})`);
      else seen.set(h.base, h.text);
    }
    expect(repeats).toEqual([]);
  });

  it('every docs page is linked from the index, and the index from the README', () => {
    const linked = (from: string) => new Set(linksOf(readDoc(from)).map((href) => linkTarget(from, href)?.path));
    const fromIndex = linked('docs/README.md');
    const pages = files.filter((f) => f.startsWith('docs/') && f !== 'docs/README.md');
    expect(pages.filter((page) => !fromIndex.has(page))).toEqual([]);
    expect(linked('README.md').has('docs/README.md')).toBe(true);
  });
});

describe('the link checker itself', () => {
  // Guards against a checker that passes everything: known-bad links must be reported.
  it('reports a missing file, a missing anchor, an anchor into a non-page and a way out of the repository', () => {
    expect(brokenLink('README.md', 'docs/no-such-page.md')).toMatch(/no file docs\/no-such-page\.md/);
    expect(brokenLink('README.md', 'docs/models.md#no-such-heading')).toMatch(/has no heading with the anchor #no-such-heading/);
    expect(brokenLink('docs/models.md', '#which-model-runs')).toBeNull();
    expect(brokenLink('docs/models.md', '#from-node-1')).toMatch(/no heading/);
    expect(brokenLink('README.md', 'LICENSE#x')).toMatch(/not a Markdown page/);
    expect(brokenLink('docs/README.md', '../../outside.md')).toMatch(/out of the repository/);
    expect(brokenLink('README.md', 'https://example.org/nothing')).toBeNull();
  });

  it("numbers repeated headings as GitHub does and drops punctuation from anchors", () => {
    const h = headingsOf('# T\n\n## From Node\n\n## From Node\n\n## `--shard auto`\n\n## Resumed runs, shards and `samlite merge`\n\n```sh\n# not a heading\n```\n');
    expect(h.map((x) => x.anchor)).toEqual(['t', 'from-node', 'from-node-1', '--shard-auto', 'resumed-runs-shards-and-samlite-merge']);
  });
});
