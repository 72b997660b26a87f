/**
 * What the disk embedding cache's checksum costs, on real-size embeddings: SAM's one
 * 1x256x64x64 float32 output (4 MiB) and a SAM 2-like entry of three outputs (4 + 8 + 4
 * MiB). Prints, per case, the median of the sha256 alone, of building and of checking an
 * entry in memory, and of a whole set (atomic write) and get (read and check) on disk: as
 * CPU time of this process (what a busy machine does not inflate) and as wall time.
 *
 *   npx tsx scripts/measure-embedding-cache.ts [--repeats 15]
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from '../bench/lib/util.js';
import { DiskEmbeddingCache, decodeEntry, encodeEntry } from '../src/cache/disk-embedding-cache.js';
import type { ImageEmbedding } from '../src/families/types.js';

const repeatsArg = process.argv.indexOf('--repeats');
const repeats = repeatsArg >= 0 ? Number(process.argv[repeatsArg + 1]) : 15;

/** Float32 data that is not all one value, so nothing is accidentally cheap. */
function tensor(dims: number[]): { data: Float32Array; dims: number[] } {
  const count = dims.reduce((a, b) => a * b, 1);
  return { data: new Float32Array(count).map((_, i) => Math.sin(i)), dims };
}

const CASES: Record<string, ImageEmbedding> = {
  'SAM 1x256x64x64 (4 MiB)': { family: 'sam', modelKey: 'm', image: { width: 1024, height: 768 }, ...tensor([1, 256, 64, 64]) },
  'SAM 2-like 4+8+4 MiB': {
    family: 'sam',
    modelKey: 'm',
    image: { width: 1024, height: 768 },
    ...tensor([1, 256, 64, 64]),
    extra: { high_res_feats_0: tensor([1, 32, 256, 256]), high_res_feats_1: tensor([1, 64, 128, 128]) },
  },
};

/** Median CPU and wall milliseconds of `run`. */
async function timed(run: () => unknown): Promise<string> {
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < repeats + 2; i++) {
    const startCpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    await run();
    if (i < 2) continue; // the first two warm up
    wall.push(Number(process.hrtime.bigint() - start) / 1e6);
    const used = process.cpuUsage(startCpu);
    cpu.push((used.user + used.system) / 1000);
  }
  return `${median(cpu).toFixed(2)} cpu / ${median(wall).toFixed(2)} wall`;
}

const dir = mkdtempSync(join(tmpdir(), 'samlite-measure-cache-'));
try {
  console.log(`node ${process.version}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${repeats} repeats, medians in ms (CPU / wall)`);
  for (const [name, e] of Object.entries(CASES)) {
    const bytes = encodeEntry('k', e);
    const cache = new DiskEmbeddingCache(dir, { maxBytes: 1024 ** 3 });
    await cache.set('k', e);
    const row = {
      sha256: await timed(() => createHash('sha256').update(bytes).digest('hex')),
      encode: await timed(() => encodeEntry('k', e)),
      decode: await timed(() => decodeEntry(bytes, 'k')),
      'set (disk)': await timed(() => cache.set('k', e)),
      'get (disk)': await timed(() => cache.get('k')),
    };
    console.log(`${name}, ${(bytes.length / 1024 ** 2).toFixed(2)} MiB:`);
    for (const [step, time] of Object.entries(row)) console.log(`  ${step.padEnd(11)} ${time}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
