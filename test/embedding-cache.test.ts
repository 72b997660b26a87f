import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../scripts/fixtures/index.js';
import { DiskEmbeddingCache } from '../src/disk-embedding-cache.js';
import { MemoryEmbeddingCache, TieredEmbeddingCache } from '../src/embedding-cache.js';
import { FAMILY_RULES } from '../src/families/index.js';
import type { ImageEmbedding } from '../src/families/types.js';
import { loadImage } from '../src/image/load.js';
import { Segmenter } from '../src/segmenter.js';
import { resolveModel } from '../src/store/resolve.js';

let dir: string;

function embedding(seed: number, n = 1000): ImageEmbedding {
  const data = new Float32Array(n).map((_, i) => (i * seed) % 65536 + 0.25);
  return { family: 'sam', modelKey: `m${seed}`, image: { width: 30 + seed, height: 20 }, data, dims: [1, n] };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'samlite-emb-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('DiskEmbeddingCache', () => {
  it('returns exactly the float32 data it stored, with its metadata', async () => {
    const cache = new DiskEmbeddingCache(join(dir, 'exact'));
    const e = embedding(3);
    await cache.set('k', e);
    const back = await new DiskEmbeddingCache(join(dir, 'exact')).get('k');
    expect(back).toEqual(e);
    expect(Buffer.from(back!.data.buffer).equals(Buffer.from(e.data.buffer))).toBe(true);
    expect(await cache.get('other')).toBeUndefined();
  });

  it('treats a damaged file as a miss and removes it', async () => {
    const cache = new DiskEmbeddingCache(join(dir, 'damaged'));
    await cache.set('k', embedding(1));
    const file = join(dir, 'damaged', 'k.emb');
    writeFileSync(file, 'samlite-embedding-1 but truncated');
    expect(await cache.get('k')).toBeUndefined();
    expect(readdirSync(join(dir, 'damaged'))).toEqual([]);
  });

  it('evicts the least recently used files past its size cap', async () => {
    const folder = join(dir, 'lru');
    const cache = new DiskEmbeddingCache(folder, 3 * 4200);
    for (const k of ['a', 'b', 'c']) await cache.set(k, embedding(2));
    // Make 'a' the most recently used, then add a fourth: 'b' (oldest use) goes.
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(folder, 'b.emb'), old, old);
    utimesSync(join(folder, 'c.emb'), new Date(Date.now() - 30_000), new Date(Date.now() - 30_000));
    expect(await cache.get('a')).toBeDefined();
    await cache.set('d', embedding(2));
    expect(readdirSync(folder).sort()).toEqual(['a.emb', 'c.emb', 'd.emb']);
  });
});

describe('Segmenter with a disk cache', () => {
  it('a second segmenter (a new process) on the same pixels never runs the encoder', async () => {
    const folder = join(dir, 'seg');
    const model = await resolveModel('builtin');
    const image = await loadImage(fixturePath('landscape.png'));
    const prompt = { points: [{ x: 196, y: 67 }] };

    const runs: string[] = [];
    const open = () =>
      Segmenter.open(model, {
        observer: (role) => runs.push(role),
        embeddingCache: new TieredEmbeddingCache(new MemoryEmbeddingCache(), new DiskEmbeddingCache(folder)),
      });
    const first = await open();
    const a = await first.segment(image, prompt);
    await first.close();
    expect(runs).toEqual(['encoder', 'decoder']);
    expect(readdirSync(folder)).toHaveLength(1);

    runs.length = 0;
    const second = await open();
    // Same pixels, freshly decoded from the file: a different object, the same key.
    const b = await second.segment(await loadImage(fixturePath('landscape.png')), prompt);
    await second.close();
    expect(runs).toEqual(['decoder']);
    expect(Buffer.from(b.best.mask.data).equals(Buffer.from(a.best.mask.data))).toBe(true);
  });

  it('a samlite that prepares images differently (a new input revision) does not reuse the embedding', async () => {
    const folder = join(dir, 'revision');
    const model = await resolveModel('builtin-efficientsam');
    const image = await loadImage(fixturePath('landscape.png'));
    const runs: string[] = [];
    const segmentOnce = async () => {
      const seg = await Segmenter.open(model, { observer: (role) => runs.push(role), embeddingCache: new DiskEmbeddingCache(folder) });
      await seg.segment(image, { points: [{ x: 196, y: 67 }] });
      await seg.close();
    };
    await segmentOnce();
    await segmentOnce();
    expect(runs).toEqual(['encoder', 'decoder', 'decoder']);
    const rules = FAMILY_RULES.efficientsam as { inputRevision: number };
    rules.inputRevision++;
    try {
      runs.length = 0;
      await segmentOnce();
      expect(runs).toEqual(['encoder', 'decoder']);
    } finally {
      rules.inputRevision--;
    }
  });
});
