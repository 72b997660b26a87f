/**
 * Reading the published Markdown (README.md and docs/) as GitHub renders it, for the docs
 * tests: headings with GitHub's anchors, links, and fenced code blocks. marked's lexer
 * does the parsing (headings inside code fences, links inside tables and lists, inline
 * code are what a line scanner gets wrong); github-slugger is the anchor rule GitHub uses.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import GithubSlugger, { slug as baseSlug } from 'github-slugger';
import { marked, type Token, type Tokens } from 'marked';
import { globSync } from 'tinyglobby';
import { ROOT } from './run-cli.js';

/**
 * The published Markdown files, relative to the repository root: README.md and every
 * docs/**.md. docs/_incoming/ is left out: it is a staging folder where work in progress
 * leaves notes for the lead to fold into the pages, not published text.
 */
export function publishedMarkdown(): string[] {
  return globSync(['README.md', 'docs/**/*.md'], { cwd: ROOT, ignore: ['docs/_incoming/**'] }).sort();
}

/** A file's text, by its path relative to the repository root. */
export function readDoc(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

export interface Heading {
  depth: number;
  /** The text as rendered (inline code without its backticks, link text without its target). */
  text: string;
  /** GitHub's anchor for it in this page: the base slug, with -1, -2, ... on repeats. */
  anchor: string;
  /** The slug before repeats are numbered: two headings with the same one collide. */
  base: string;
}

/** The rendered text of inline tokens. */
function plainText(tokens: readonly Token[]): string {
  return tokens
    .map((t) => {
      if ('tokens' in t && t.tokens) return plainText(t.tokens);
      if (t.type === 'codespan' || t.type === 'text' || t.type === 'escape') return (t as Tokens.Text).text;
      return '';
    })
    .join('');
}

/** Every token of a document, nested ones (list items, table cells) included. */
function allTokens(markdown: string): Token[] {
  const out: Token[] = [];
  marked.walkTokens(marked.lexer(markdown), (t) => {
    out.push(t);
  });
  return out;
}

/** The headings of a page in order, with the anchors GitHub gives them. */
export function headingsOf(markdown: string): Heading[] {
  const slugger = new GithubSlugger();
  return allTokens(markdown)
    .filter((t): t is Tokens.Heading => t.type === 'heading')
    .map((t) => {
      const text = plainText(t.tokens);
      return { depth: t.depth, text, anchor: slugger.slug(text), base: baseSlug(text) };
    });
}

/** The targets of a page's links and images, in order. */
export function linksOf(markdown: string): string[] {
  return allTokens(markdown)
    .filter((t): t is Tokens.Link | Tokens.Image => t.type === 'link' || t.type === 'image')
    .map((t) => t.href);
}

/**
 * Where a link of page `from` leads: a path relative to the repository root and the anchor
 * after `#`, if any; null for a link to another site (a scheme such as https: or mailto:).
 */
export function linkTarget(from: string, href: string): { path: string; anchor: string | null } | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//')) return null;
  const hash = href.indexOf('#');
  const path = decodeURIComponent(hash >= 0 ? href.slice(0, hash) : href);
  return {
    path: path === '' ? from : normalize(join(dirname(from), path)),
    anchor: hash >= 0 ? decodeURIComponent(href.slice(hash + 1)) : null,
  };
}

export interface CodeBlock {
  /** The info string's words: the language first (`ts`), then any flags (`nocheck`). */
  info: string[];
  text: string;
  /** 1-based line of the block's first code line in the page (for messages). */
  line: number;
}

/** The fenced code blocks of a page, in order. */
export function codeBlocksOf(markdown: string): CodeBlock[] {
  let cursor = 0;
  return allTokens(markdown)
    .filter((t): t is Tokens.Code => t.type === 'code')
    .map((t) => {
      // marked keeps no positions: find the block's first line after the previous block.
      const at = markdown.indexOf(t.text.split('\n')[0], cursor);
      if (at >= 0) cursor = at + 1;
      const line = at >= 0 ? markdown.slice(0, at).split('\n').length : 0;
      return { info: (t.lang ?? '').trim().split(/\s+/).filter(Boolean), text: t.text, line };
    });
}

export interface Table {
  /** Header cells, as rendered text. */
  header: string[];
  /** Body rows, each a list of cells as rendered text. */
  rows: string[][];
}

/** The tables of a page, cells as rendered text (inline code without its backticks). */
export function tablesOf(markdown: string): Table[] {
  return allTokens(markdown)
    .filter((t): t is Tokens.Table => t.type === 'table')
    .map((t) => ({
      header: t.header.map((cell) => plainText(cell.tokens)),
      rows: t.rows.map((row) => row.map((cell) => plainText(cell.tokens))),
    }));
}
