/**
 * Mirrors: a base URL or a local folder holding model files under their upstream file names
 * (`efficient_sam_vitt_encoder.onnx`, …). A mirror replaces the upstream URL; the file must
 * still have the catalog's (or manifest's) size and sha256.
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../util/errors.js';
import { urlFileName } from './paths.js';

/** A parsed --mirror / SAMLITE_MIRROR value. */
export type Mirror = { readonly kind: 'url'; readonly base: string } | { readonly kind: 'dir'; readonly path: string };

/**
 * Parse a mirror argument: an http(s) URL, a file: URL, or a folder path (relative to
 * `cwd`). A folder that does not exist is a UsageError naming `origin` (the flag or
 * variable it came from).
 */
export function parseMirror(value: string, origin = '--mirror', cwd = process.cwd()): Mirror {
  if (/^https?:\/\//i.test(value)) {
    try {
      const url = new URL(value);
      return { kind: 'url', base: url.href.endsWith('/') ? url.href : `${url.href}/` };
    } catch {
      throw new UsageError(`${origin} ${value}: not a valid URL`);
    }
  }
  let path: string;
  try {
    path = value.startsWith('file:') ? fileURLToPath(value) : resolve(cwd, value);
  } catch {
    throw new UsageError(`${origin} ${value}: not a valid file URL`);
  }
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new UsageError(`${origin} ${value}: folder ${path} not found (give a folder or an http(s) URL)`);
  }
  if (!isDir) throw new UsageError(`${origin} ${value}: ${path} is not a folder`);
  return { kind: 'dir', path };
}

/** The mirror from the explicit option, else SAMLITE_MIRROR, else none. */
export function mirrorFromOptions(mirror: string | undefined, env: NodeJS.ProcessEnv, cwd?: string): Mirror | undefined {
  if (mirror) return parseMirror(mirror, '--mirror', cwd);
  if (env.SAMLITE_MIRROR) return parseMirror(env.SAMLITE_MIRROR, 'SAMLITE_MIRROR', cwd);
  return undefined;
}

/** Where a mirror keeps the file published at `upstreamUrl`: same file name under the base. */
export function mirrorLocation(mirror: Mirror, upstreamUrl: string): string {
  const name = urlFileName(upstreamUrl);
  return mirror.kind === 'url' ? new URL(encodeURIComponent(name), mirror.base).href : join(mirror.path, name);
}
