/**
 * The nearest existing ancestor of a path that may not exist yet: what decides whether its
 * folders can be created (`mkdir -p`) and written to.
 */
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The first of `path` and its ancestors that exists, with its stat (links followed). */
export interface ExistingAncestor {
  /** Spelled as the path asked about was (relative stays relative). */
  readonly path: string;
  readonly stats: Stats;
}

/**
 * The first of `path`, its parent, its parent's parent… that exists. Missing paths and
 * paths below a file are skipped (both are what `mkdir -p` would have to create); any other
 * failure (a permission problem, a link loop) is thrown as it is.
 */
export async function nearestExisting(path: string): Promise<ExistingAncestor> {
  for (let p = path; ; p = dirname(p)) {
    try {
      return { path: p, stats: await stat(p) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(p) === p) throw err;
    }
  }
}
