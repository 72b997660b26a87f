/**
 * The images a server annotates, and the rule that keeps every path a request names inside
 * the served folder: `..`, absolute paths and symbolic links that lead out are refused.
 */
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { expandInputs, hasImageExtension } from '../batch/inputs.js';
import { HttpError } from './http.js';

/** One image the server offers: its name in requests (`/`-separated, relative to the root) and its file. */
export interface ServedImage {
  readonly name: string;
  readonly path: string;
}

/** The served images: a folder walked at start, or the image files named. */
export interface ServedFolder {
  /** The folder image names are relative to (real path, links resolved). */
  readonly root: string;
  readonly images: readonly ServedImage[];
}

/** True when `path` is `root` or inside it. */
function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Walk `inputs` (a folder and its sub-folders, or image files in one folder) for the images
 * to serve. Links inside the folder that lead out of it are left out: the folder is the
 * boundary. Images under `exclude` (the output folder, whose YOLO-seg images/ links the
 * inputs) are not served.
 */
export async function openServedFolder(inputs: readonly string[], exclude?: string): Promise<ServedFolder> {
  const single = inputs.length === 1 ? await stat(inputs[0]).catch(() => undefined) : undefined;
  const folder = single?.isDirectory() ? inputs[0] : commonFolder(inputs.map((i) => resolve(i)));
  const root = await realpath(folder);
  const excluded = exclude === undefined ? undefined : await realpath(exclude).catch(() => resolve(exclude));
  const { items } = await expandInputs(single?.isDirectory() ? [folder] : [...inputs], { recursive: true });
  const images: ServedImage[] = [];
  for (const item of items) {
    const real = await realpath(item.path).catch(() => undefined);
    if (!real || !inside(root, real)) continue;
    if (excluded !== undefined && inside(excluded, resolve(item.path))) continue;
    images.push({ name: relative(root, resolve(item.path)).split(sep).join('/'), path: resolve(item.path) });
  }
  images.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { root, images };
}

/** The deepest folder holding every path. */
function commonFolder(paths: readonly string[]): string {
  let parts = resolve(paths[0], '..').split(sep);
  for (const p of paths.slice(1)) {
    const other = resolve(p, '..').split(sep);
    let n = 0;
    while (n < parts.length && n < other.length && parts[n] === other[n]) n++;
    parts = parts.slice(0, n);
  }
  return parts.join(sep) || sep;
}

/**
 * The served image a request names, or an HttpError: 400 for a name that leaves the folder
 * (`..`, absolute, a link pointing out), 404 for one that is not among the served images.
 */
export async function servedImage(folder: ServedFolder, name: unknown): Promise<ServedImage> {
  if (typeof name !== 'string' || name === '') throw new HttpError(400, 'image: expected the name of an image in the served folder');
  if (name.includes('\0') || isAbsolute(name) || /^[a-zA-Z]:/.test(name) || name.split(/[\\/]/).includes('..')) {
    throw new HttpError(400, `image ${JSON.stringify(name)}: paths must stay inside the served folder`);
  }
  const path = resolve(folder.root, name);
  const real = await realpath(path).catch(() => undefined);
  if (real !== undefined && !inside(folder.root, real)) {
    throw new HttpError(400, `image ${JSON.stringify(name)}: a link that leaves the served folder`);
  }
  const image = folder.images.find((i) => i.name === name);
  if (!image || real === undefined || !hasImageExtension(name)) throw new HttpError(404, `image ${JSON.stringify(name)}: not among the served images`);
  return image;
}
