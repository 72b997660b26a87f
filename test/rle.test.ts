import { describe, expect, it } from 'vitest';
import {
  cocoJsonBytes,
  cocoStringToCounts,
  countsToCocoString,
  fromCocoRle,
  maskToRle,
  rleArea,
  rleBoundsInclusive,
  rleToMask,
  toCocoRle,
} from '../src/masks/rle.js';
import { logitsToMask, logitsToRle } from '../src/masks/threshold.js';
import { mask } from './helpers/ascii-mask.js';

describe('uncompressed RLE', () => {
  it('runs column-major starting with background (hand-computed)', () => {
    // columns: x0 = [1,0], x1 = [1,1], x2 = [0,0]  → column-major 1,0,1,1,0,0
    const m = mask(['##.', '.#.']);
    const rle = maskToRle(m);
    expect(rle.size).toEqual([2, 3]);
    expect([...rle.counts]).toEqual([0, 1, 1, 2, 2]);
    expect(rleArea(rle)).toBe(3);
    expect(rleBoundsInclusive(rle)).toEqual([0, 0, 1, 1]);
  });

  it('an empty mask is one background run with no bounds', () => {
    const rle = maskToRle(mask(['...', '...']));
    expect([...rle.counts]).toEqual([6]);
    expect(rleArea(rle)).toBe(0);
    expect(rleBoundsInclusive(rle)).toBeUndefined();
  });

  it('a full mask starts with a zero background run', () => {
    const rle = maskToRle(mask(['##', '##']));
    expect([...rle.counts]).toEqual([0, 4]);
    expect(rleBoundsInclusive(rle)).toEqual([0, 0, 1, 1]);
  });

  it('bounds of a run that wraps across columns cover the full height', () => {
    // column 0's bottom pixel and column 1's top pixel are adjacent in column-major order: one run
    const rle = maskToRle(mask(['.#.', '...', '#..']));
    expect([...rle.counts]).toEqual([2, 2, 5]);
    expect(rleBoundsInclusive(rle)).toEqual([0, 0, 1, 2]);
  });

  it('bounds equal the mask’s own, for runs within a column and runs spanning several', () => {
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let t = 0; t < 60; t++) {
      const width = 1 + Math.floor(rand() * 30);
      const height = 1 + Math.floor(rand() * 30);
      // Sparse masks, dense ones (runs spanning columns) and empty ones.
      const p = [0, 0.02, 0.3, 0.97][t % 4];
      const data = new Uint8Array(width * height).map(() => (rand() < p ? 1 : 0));
      let want: [number, number, number, number] | undefined;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          if (!data[y * width + x]) continue;
          want = want ? [Math.min(want[0], x), Math.min(want[1], y), Math.max(want[2], x), Math.max(want[3], y)] : [x, y, x, y];
        }
      }
      expect(rleBoundsInclusive(maskToRle({ width, height, data })), `case ${t}`).toEqual(want);
    }
  });

  it('round-trips random masks', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let t = 0; t < 20; t++) {
      const width = 1 + Math.floor(rand() * 40);
      const height = 1 + Math.floor(rand() * 40);
      const data = new Uint8Array(width * height).map(() => (rand() < 0.3 ? 1 : 0));
      const back = rleToMask(maskToRle({ width, height, data }));
      expect(back.width).toBe(width);
      expect(back.height).toBe(height);
      expect(Buffer.from(back.data).equals(Buffer.from(data))).toBe(true);
    }
  });
});

describe('COCO compressed RLE strings', () => {
  it('encodes small counts as single characters (value + 48)', () => {
    // counts [0, 1, 1, 2, 2]: i>2 are differences to i-2: 2-1 = 1, 2-1 = 1
    expect(countsToCocoString([0, 1, 1, 2, 2])).toBe('01111');
  });

  it('encodes multi-group and negative differences like maskApi.c', () => {
    // 100 = 0b11_00100 → groups 00100 (|0x20 more) then 00011: chars 36+48='T', 3+48='3'
    expect(countsToCocoString([100])).toBe('T3');
    // Differences start at index 3 (maskApi.c: i > 2). [7, 100, 9, 5]: index 3 → 5 - 100 = -95:
    // low group -95 & 31 = 1 with 0x20 (more) → 'Q', then -95 >> 5 = -3 → 29 with the sign bit, last → 'M'.
    expect(countsToCocoString([7, 100, 9, 5])).toBe('7T39QM');
    expect([...cocoStringToCounts('7T39QM')]).toEqual([7, 100, 9, 5]);
    // a small negative difference fits one group: [100, 7, 5, 3] → 3 - 7 = -4 → 28 → 'L'
    expect(countsToCocoString([100, 7, 5, 3])).toBe('T375L');
  });

  it('encodes each mask on its own when long and short ones follow each other (the buffer it writes into is reused)', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const long = Array.from({ length: 50_000 }, () => next() % 5000);
    const short = [3, 100, 9, 5];
    const longString = countsToCocoString(long);
    expect(countsToCocoString(short)).toBe('3T39QM');
    expect([...cocoStringToCounts(longString)]).toEqual(long);
    expect(countsToCocoString(long)).toBe(longString);
    expect([...cocoStringToCounts(countsToCocoString(short))]).toEqual(short);
  });

  it('writes every difference as pycocotools does (its loop, written out), and as a JSON string body', () => {
    // rleToString of maskApi.c: x = cnts[i] - cnts[i-2] from i > 2; 5 bits at a time, low
    // first; more = the rest is not the sign extension of bit 4; +0x20 when more; +48.
    const reference = (counts: number[]) => {
      let s = '';
      counts.forEach((c, i) => {
        let x = i > 2 ? c - counts[i - 2] : c;
        for (let more = true; more; ) {
          let ch = x & 0x1f;
          x >>= 5;
          more = ch & 0x10 ? x !== -1 : x !== 0;
          if (more) ch |= 0x20;
          s += String.fromCharCode(ch + 48);
        }
      });
      return s;
    };
    // Differences from -2100 to 2100 (the one- and two-character forms and their edges) and large ones.
    const counts = [5, 3000, 7];
    for (let d = -2100; d <= 2100; d++) counts.push(Math.max(0, counts[counts.length - 2] + d));
    counts.push(12_000_000, 1, 3, 2_000_000_000, 0, 4_000_000_000, 17);
    const want = reference(counts);
    expect(countsToCocoString(counts)).toBe(want);
    expect(want.includes('\\')).toBe(true);
    const rle = { size: [1, counts.reduce((a, b) => a + b, 0)] as const, counts: Uint32Array.from(counts) };
    expect(Buffer.from(cocoJsonBytes(rle)).toString('latin1')).toBe(JSON.stringify(want).slice(1, -1));
  });

  it('round-trips large counts', () => {
    const counts = [0, 12_000_000, 3, 40_000, 1, 7, 123_456, 2];
    expect([...cocoStringToCounts(countsToCocoString(counts))]).toEqual(counts);
  });

  it('COCO object round trip keeps size and mask', () => {
    const m = mask(['#..#', '.##.', '#..#']);
    const coco = toCocoRle(maskToRle(m));
    expect(coco.size).toEqual([3, 4]);
    expect(typeof coco.counts).toBe('string');
    expect(Buffer.from(rleToMask(fromCocoRle(coco)).data).equals(Buffer.from(m.data))).toBe(true);
  });
});

describe('logitsToRle (logits straight to RLE)', () => {
  let seed = 11;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  /** Logits with blobs and noise: long runs, runs across column ends, single pixels. */
  const logits = (width: number, height: number, fill: (x: number, y: number) => number) => {
    const data = new Float32Array(width * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = fill(x, y);
    return data;
  };
  const same = (data: Float32Array, width: number, height: number, threshold = 0) => {
    const got = logitsToRle(data, width, height, threshold);
    const want = maskToRle(logitsToMask(data, width, height, threshold));
    expect(got.size).toEqual(want.size);
    expect([...got.counts]).toEqual([...want.counts]);
  };

  it('equals maskToRle of logitsToMask on random maps of every shape around the column block', () => {
    for (const [width, height] of [[1, 1], [1, 37], [37, 1], [63, 5], [64, 9], [65, 9], [130, 17], [200, 3], [3, 200]]) {
      same(logits(width, height, () => rand() - 0.5), width, height);
      same(logits(width, height, () => rand() - 0.9), width, height);
      const cx = rand() * width;
      const cy = rand() * height;
      same(logits(width, height, (x, y) => Math.min(width, height) / 3 - Math.hypot(x - cx, y - cy)), width, height);
    }
  });

  it('keeps a foreground run going across column ends, and the leading zero run', () => {
    // Column 0 ends foreground and column 1 starts foreground: one run, as maskToRle counts it.
    const data = Float32Array.from([1, -1, -1, 1]); // 2x2, row-major: (0,0) fg, (1,1) fg
    same(data, 2, 2);
    expect([...logitsToRle(Float32Array.from([1, 1, 1, 1]), 2, 2).counts]).toEqual([0, 4]);
    expect([...logitsToRle(Float32Array.from([-1, -1, -1, -1]), 2, 2).counts]).toEqual([4]);
    const wrap = logits(70, 4, (x, y) => ((x === 66 && y === 3) || (x === 67 && y === 0) ? 1 : -1));
    same(wrap, 70, 4);
    expect([...logitsToRle(wrap, 70, 4).counts]).toEqual([66 * 4 + 3, 2, 70 * 4 - 66 * 4 - 5]);
  });

  it('thresholds like logitsToMask (strictly above, any threshold)', () => {
    const data = logits(90, 11, (x, y) => ((x * 7 + y * 3) % 5) - 2);
    for (const t of [-1, 0, 0.5, 1]) same(data, 90, 11, t);
  });
});
