import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';

/** Shard k of n (1-based k). */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Parse `k/n` with 1 <= k <= n. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard ${JSON.stringify(text)}: expected k/n with 1 <= k <= n, for example --shard 2/4`);
  }
  return { index, count };
}

/**
 * Whether `key` belongs to `shard`. Decided by a hash of the key alone, so every machine
 * agrees without coordination even if their input lists come in different orders, and
 * the n shards are disjoint and cover every input.
 */
export function inShard(key: string, shard: Shard): boolean {
  if (shard.count === 1) return true;
  const h = createHash('sha1').update(key).digest();
  return (h.readUInt32BE(0) % shard.count) + 1 === shard.index;
}
