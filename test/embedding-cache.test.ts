import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../scripts/fixtures/index.js';
import { DISK_CACHE_FORMAT, DiskEmbeddingCache, decodeEntry, encodeEntry } from '../src/cache/disk-embedding-cache.js';
import { MemoryEmbeddingCache, TieredEmbeddingCache } from '../src/cache/embedding-cache.js';
import { FAMILY_RULES } from '../src/families/index.js';
import type { ImageEmbedding } from '../src/families/types.js';
import { loadImage } from '../src/image/load.js';
import { Segmenter } from '../src/segmenter/segmenter.js';
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

  it('stores, reads back and checks extra tensors (SAM 2: several encoder outputs)', async () => {
    const cache = new DiskEmbeddingCache(join(dir, 'extra'));
    const e: ImageEmbedding = {
      ...embedding(5),
      extra: {
        high_res_feats_0: { data: new Float32Array(64).map((_, i) => -i / 3), dims: [1, 4, 4, 4] },
        high_res_feats_1: { data: new Float32Array(18).map((_, i) => i * 1e-3), dims: [1, 2, 3, 3] },
      },
    };
    await cache.set('k', e);
    const back = await new DiskEmbeddingCache(join(dir, 'extra')).get('k');
    expect(back).toEqual(e);
    expect(Object.keys(back!.extra!)).toEqual(['high_res_feats_0', 'high_res_feats_1']);
    // The checksum covers the extra tensors too: a flip in the last one's data is caught.
    const file = join(dir, 'extra', 'k.emb');
    const bytes = readFileSync(file);
    bytes[bytes.length - 5]! ^= 0x01;
    expect(decodeEntry(bytes, 'k')).toEqual({ stale: false, why: 'checksum mismatch' });
  });

  it('drops a damaged entry, wherever the damage is, with one notice naming the file', async () => {
    const folder = join(dir, 'damaged');
    const notices: string[] = [];
    const cache = new DiskEmbeddingCache(folder, { onNotice: (m) => notices.push(m) });
    const file = join(folder, 'k.emb');
    await cache.set('k', embedding(1));
    const good = readFileSync(file);
    const newline = good.indexOf(0x0a);
    const damages: [string, (b: Buffer) => Buffer][] = [
      ['64 bytes of 0x7f in the middle of the data', (b) => (b.fill(0x7f, b.length >> 1, (b.length >> 1) + 64), b)],
      ['one bit of the JSON header', (b) => ((b[newline + 10]! ^= 0x04), b)],
      ['one digit of the checksum', (b) => ((b[newline - 1] = b[newline - 1] === 0x30 ? 0x31 : 0x30), b)],
      ['the last byte cut off', (b) => b.subarray(0, b.length - 1)],
      ['cut inside the first line', (b) => b.subarray(0, 30)],
      ['a file of something else', () => Buffer.from('samlite-embedding but not quite')],
    ];
    for (const [what, damage] of damages) {
      writeFileSync(file, damage(Buffer.from(good)));
      notices.length = 0;
      expect(await cache.get('k'), what).toBeUndefined();
      expect(notices, what).toHaveLength(1);
      expect(notices[0], what).toMatch(new RegExp(`^embedding cache: ${file} is damaged \\(.+\\); dropped it, the embedding is computed again$`));
      expect(readdirSync(folder), what).toEqual([]);
    }
    // A sound file copied under another key is not taken for that key's embedding.
    writeFileSync(join(folder, 'other.emb'), good);
    expect(await cache.get('other')).toBeUndefined();
    expect(notices.at(-1)).toContain('holds the entry of another key');
  });

  it('treats an entry of another format revision as a quiet miss, replaced by the next write', async () => {
    const folder = join(dir, 'stale');
    mkdirSync(folder);
    const notices: string[] = [];
    const cache = new DiskEmbeddingCache(folder, { onNotice: (m) => notices.push(m) });
    const e = embedding(4);
    // Revision 1: a JSON header line naming its magic, padded, then the data (no checksum).
    const head = `${JSON.stringify({ magic: 'samlite-embedding-1', family: e.family, modelKey: e.modelKey, image: e.image, dims: e.dims })}\n`;
    const pad = ' '.repeat((4 - (head.length % 4)) % 4);
    writeFileSync(join(folder, 'k.emb'), Buffer.concat([Buffer.from(head + pad), Buffer.from(e.data.buffer)]));
    expect(await cache.get('k')).toBeUndefined();
    // A later revision's entry is not read either.
    writeFileSync(join(folder, 'n.emb'), encodeEntry('n', e).toString('latin1').replace(`samlite-embedding-${DISK_CACHE_FORMAT} `, `samlite-embedding-${DISK_CACHE_FORMAT + 1} `), 'latin1');
    expect(await cache.get('n')).toBeUndefined();
    expect(notices).toEqual([]);
    await cache.set('k', e);
    expect(readFileSync(join(folder, 'k.emb')).subarray(0, 20).toString()).toBe(`samlite-embedding-${DISK_CACHE_FORMAT} `);
    expect(await cache.get('k')).toEqual(e);
  });

  it('a folder that cannot be written is one notice; the cache then only reads', async () => {
    // A file where the folder should be: unwritable for root too.
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, 'x');
    const notices: string[] = [];
    const cache = new DiskEmbeddingCache(join(blocker, 'emb'), { onNotice: (m) => notices.push(m) });
    await cache.set('a', embedding(1));
    await cache.set('b', embedding(2));
    expect(await cache.get('a')).toBeUndefined();
    expect(notices).toEqual([`embedding cache: cannot write to ${join(blocker, 'emb')} (a file is in the way of the folder); going on without storing embeddings`]);
  });

  it('evicts the least recently used files past its size cap', async () => {
    const folder = join(dir, 'lru');
    const probe = new DiskEmbeddingCache(folder);
    await probe.set('a', embedding(2));
    const cache = new DiskEmbeddingCache(folder, 3 * statSync(join(folder, 'a.emb')).size);
    for (const k of ['b', 'c']) await cache.set(k, embedding(2));
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
