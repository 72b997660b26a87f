/**
 * The SA-1B JSON file is assembled as bytes (the RLE strings copied into a stringified
 * skeleton) instead of JSON.stringify over tens of megabytes: it must be exactly what
 * JSON.stringify writes, for masks whose strings hold backslashes, file names with quotes,
 * backslashes and non-ASCII letters, no masks at all, and RLE facts remembered by a render
 * thread.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rng } from './everything-fake.js';
import type { MaskRecord } from '../src/masks/record.js';
import { countsToCocoString, maskToRle, rememberRleFacts, rleFacts, type Rle } from '../src/masks/rle.js';
import { sa1bDocument, sa1bJsonBytes, writeSa1bJson } from '../src/writers/sa1b-json.js';

function records(seed: number, n: number, width: number, height: number): MaskRecord[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const p = r();
    const data = new Uint8Array(width * height).map(() => (r() < p ? 1 : 0));
    const rle = maskToRle({ width, height, data });
    return { rle, area: 0, bbox: [0, 0, 0, 0], predictedIou: r(), stabilityScore: r() / 3, pointCoords: [[r() * width, 1.5]], cropBox: [0, 0, width, height] };
  });
}

const stringified = (image: Parameters<typeof sa1bDocument>[0], recs: readonly MaskRecord[]) => Buffer.from(`${JSON.stringify(sa1bDocument(image, recs))}\n`, 'utf8');

describe('sa1bJsonBytes', () => {
  const recs = records(3, 40, 37, 23);

  it('holds RLE strings with backslashes (the one code JSON escapes)', () => {
    expect(recs.some((m) => countsToCocoString(m.rle.counts).includes('\\'))).toBe(true);
  });

  it.each([
    ['plain', 'photo.jpg'],
    ['quotes, a backslash and a forged slot in the name', 'a "b" \\ "counts":"" ç 写真.jpg'],
  ])('writes exactly JSON.stringify of the document: %s', (_, fileName) => {
    const image = { image_id: 'x', width: 37, height: 23, file_name: fileName };
    expect(sa1bJsonBytes(image, recs).equals(stringified(image, recs))).toBe(true);
    expect(sa1bJsonBytes(image, []).equals(stringified(image, []))).toBe(true);
  });

  it('copies the bytes a render thread computed for an RLE', () => {
    const image = { image_id: 7, width: 37, height: 23, file_name: 'p.jpg' };
    const remembered = recs.map((m) => {
      const rle: Rle = { size: m.rle.size, counts: m.rle.counts.slice() };
      rememberRleFacts(rle, rleFacts(rle));
      return { ...m, rle };
    });
    expect(sa1bJsonBytes(image, remembered).equals(stringified(image, recs))).toBe(true);
    // The remembered bytes are what is written (not recomputed from the counts).
    const marked = { ...remembered[0], rle: { size: remembered[0].rle.size, counts: remembered[0].rle.counts.slice() } };
    rememberRleFacts(marked.rle, { ...rleFacts(marked.rle), cocoJson: Buffer.from('MARK', 'latin1') });
    expect(sa1bJsonBytes(image, [marked]).toString('utf8')).toContain('"counts":"MARK"');
  });

  it('writes the file in pieces (writev, more pieces than one call takes), atomically', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'samlite-sa1b-'));
    try {
      const many = records(5, 700, 9, 7); // 2102 pieces
      const image = { image_id: 'many', width: 9, height: 7, file_name: 'm.jpg' };
      const path = join(dir, 'out', 'm.json');
      await writeSa1bJson(path, image, many);
      expect((await readFile(path)).equals(stringified(image, many))).toBe(true);
      expect(await readdir(join(dir, 'out'))).toEqual(['m.json']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
