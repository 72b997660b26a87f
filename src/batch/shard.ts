import { createHash } from 'node:crypto';
import { UsageError } from '../util/errors.js';

/** Shard k of n (1-based k). */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Most shards a job can be split into (far more than any scheduler runs tasks of one job). */
export const MAX_SHARDS = 1_000_000;

/** What {@link parseShard} accepts, in words. */
export const SHARD_RANGE = `k/n with 1 <= k <= n <= ${MAX_SHARDS}, for example 2/4`;

/** Parse `k/n` with 1 <= k <= n <= {@link MAX_SHARDS}; errors name `--shard`. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || count > MAX_SHARDS || index < 1 || index > count) {
    throw new UsageError(`--shard ${JSON.stringify(text)}: expected ${SHARD_RANGE}`);
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
