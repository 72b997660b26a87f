import { readdir, realpath, stat } from 'node:fs/promises';
import { extname, join, relative, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { fileErrorReason, notARegularFile } from '../util/fs-reason.js';

/** File extensions picked up from folders and globs (explicit files are always tried). */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg', '.jpeg', '.jpe', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif', '.heic', '.heif',
]);

/** True when `path` has one of {@link IMAGE_EXTENSIONS} (case-insensitive). */
export function hasImageExtension(path: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(path).toLowerCase());
}

/** One image to process. */
export interface InputItem {
  /** Absolute path. */
  readonly path: string;
  /** Path as shown in messages and JSON lines: as given, or relative to the folder/glob base. */
  readonly display: string;
  /**
   * Folder the item was found under (for folders and globs), so outputs keep its relative
   * sub-path and same-named files in different sub-folders don't collide. Undefined for
   * files named explicitly.
   */
  readonly root?: string;
}

/** An argument that yielded no images, with why. */
export interface InputProblem {
  readonly input: string;
  readonly error: string;
}

export interface ExpandOptions {
  /** Descend into sub-folders of folder arguments. */
  readonly recursive?: boolean;
  /** Lines read for the `-` argument (defaults to reading process.stdin). */
  readonly stdinLines?: () => Promise<string[]>;
  readonly cwd?: string;
}

/** Read newline-separated paths from a stream, ignoring blank lines. */
export async function readLines(stream: NodeJS.ReadableStream = process.stdin): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks)
    .toString('utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/**
 * The files in `dir` (and its sub-folders with `recursive`) whose name `keep` accepts, as
 * full paths, sorted. Symbolic links count as files (dataset tools build folders of links
 * to images; a dangling link or a link to a folder is then reported when it is opened);
 * links to folders are not descended, so a walk cannot loop.
 */
export async function listFiles(dir: string, recursive: boolean, keep: (name: string) => boolean): Promise<string[]> {
  return (await walkFiles(dir, recursive, keep)).map((f) => f.path);
}

/** {@link listFiles}, saying which files are symbolic links. */
async function walkFiles(dir: string, recursive: boolean, keep: (name: string) => boolean): Promise<{ path: string; link: boolean }[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive });
  return entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && keep(e.name))
    .map((e) => ({ path: join(e.parentPath, e.name), link: e.isSymbolicLink() }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * `items` without the links (`maybeLinks`: walked links and glob matches) that lead to an
 * image already among them: a folder of links beside its images, or a YOLO-seg `--out`
 * (whose `images/` links to the inputs) inside the walked folder, is each image once, under
 * its own path. Unresolvable links stay, to be reported when opened.
 */
async function withoutLinkedDuplicates(items: readonly InputItem[], maybeLinks: ReadonlySet<string>): Promise<InputItem[]> {
  if (maybeLinks.size === 0) return [...items];
  const real = new Map<string, string>();
  await Promise.all(
    [...maybeLinks].map(async (path) => {
      const target = await realpath(path).catch(() => undefined);
      if (target !== undefined && target !== path) real.set(path, target);
    }),
  );
  const taken = new Set(items.filter((i) => !real.has(i.path)).map((i) => i.path));
  return items.filter((item) => {
    const target = real.get(item.path);
    if (target === undefined) return true;
    if (taken.has(target)) return false;
    taken.add(target);
    return true;
  });
}

/**
 * Expand command-line inputs into images, in a stable order: files as given, folders
 * (image extensions only, sorted; sub-folders with `recursive`), glob patterns (image
 * extensions only, sorted), and `-` for one path per line on stdin. Duplicates are kept
 * once, and so is a walked or globbed link to an image that is itself an input. Arguments
 * that match nothing are reported, not thrown, so the rest still runs.
 */
export async function expandInputs(args: readonly string[], options: ExpandOptions = {}): Promise<{ items: InputItem[]; problems: InputProblem[] }> {
  const cwd = options.cwd ?? process.cwd();
  const items: InputItem[] = [];
  const problems: InputProblem[] = [];
  const seen = new Set<string>();
  const maybeLinks = new Set<string>();
  const add = (item: InputItem) => {
    if (seen.has(item.path)) return;
    seen.add(item.path);
    items.push(item);
  };

  for (const arg of args) {
    if (arg === '-') {
      const lines = await (options.stdinLines ?? (() => readLines()))();
      // Paths from a list are explicit files: tried whatever their extension.
      for (const line of lines) add({ path: resolve(cwd, line), display: line });
      continue;
    }
    const abs = resolve(cwd, arg);
    // A path that exists wins over a pattern: a file may be named `*.jpg`.
    const info = await stat(abs).catch((err: NodeJS.ErrnoException) => err);
    if (info instanceof Error) {
      if (isDynamicPattern(arg)) {
        const matches = (await glob(arg, { cwd, absolute: true, onlyFiles: true })).filter(hasImageExtension).sort();
        if (matches.length === 0) problems.push({ input: arg, error: 'pattern matches no images' });
        const base = resolve(cwd, staticPrefix(arg));
        for (const m of matches) {
          add({ path: m, display: relative(cwd, m), root: base });
          maybeLinks.add(m); // globs follow links without saying which
        }
      } else if (info.code === 'ENOENT' || info.code === 'ENOTDIR') {
        // The argument may have named a folder: say both.
        problems.push({ input: arg, error: 'no such file or directory' });
      } else {
        // A link loop or a permission problem is not "no such file".
        problems.push({ input: arg, error: fileErrorReason(info) });
      }
    } else if (info.isDirectory()) {
      const files = await walkFiles(abs, options.recursive ?? false, hasImageExtension);
      if (files.length === 0) problems.push({ input: arg, error: `no images in folder${options.recursive ? '' : ' (use --recursive for sub-folders)'}` });
      for (const f of files) {
        add({ path: f.path, display: join(arg, relative(abs, f.path)), root: abs });
        if (f.link) maybeLinks.add(f.path);
      }
    } else {
      // A named pipe or a device would block the batch or never end: refuse it here.
      const notFile = notARegularFile(info);
      if (notFile) problems.push({ input: arg, error: notFile });
      else add({ path: abs, display: arg });
    }
  }
  return { items: await withoutLinkedDuplicates(items, maybeLinks), problems };
}

/** The folder part of a glob before its first wildcard segment (`photos/2024` of `photos/2024/*.jpg`). */
function staticPrefix(pattern: string): string {
  const parts = pattern.split('/');
  const fixed: string[] = [];
  for (const p of parts) {
    if (isDynamicPattern(p)) break;
    fixed.push(p);
  }
  return fixed.join('/') || '.';
}
