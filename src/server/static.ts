/**
 * The annotation page's files, built by `npm run build` into dist/page/ and served by
 * samlite itself (no CDN: the page works offline).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** dist/page/ of this package, from src/server/ (tests) or dist/server/ (installed) alike. */
const PAGE_DIR = fileURLToPath(new URL('../../dist/page/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  map: 'application/json',
};

/** A page file by its name (`app.js`), or undefined when there is no such file. */
export async function pageAsset(name: string): Promise<{ type: string; body: Buffer } | undefined> {
  // Only plain file names: nothing below or above the page folder.
  if (!/^[a-z0-9-]+\.[a-z]+$/.test(name)) return undefined;
  const type = TYPES[name.slice(name.lastIndexOf('.') + 1)];
  if (!type) return undefined;
  try {
    return { type, body: await readFile(PAGE_DIR + name) };
  } catch {
    return undefined;
  }
}
