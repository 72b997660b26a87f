import { describe, expect, it } from 'vitest';
import { cleanSmallRegions, removeSmallRegions } from '../src/everything/regions.js';
import { maskToRle, rleToMask } from '../src/masks/rle.js';
import type { BinaryMask } from '../src/masks/types.js';
import { rng } from './everything-fake.js';
import { mask } from './helpers/ascii-mask.js';

function rows(m: BinaryMask): string[] {
  const out: string[] = [];
  for (let y = 0; y < m.height; y++) {
    let s = '';
    for (let x = 0; x < m.width; x++) s += m.data[y * m.width + x] ? '#' : '.';
    out.push(s);
  }
  return out;
}

function run(m: string[], area: number, mode: 'holes' | 'islands') {
  const r = removeSmallRegions(maskToRle(mask(m)), area, mode);
  return { rows: rows(rleToMask(r.rle)), changed: r.changed };
}

/** The reference's algorithm on pixels: cv2-style 8-connected labels in raster order. */
function bruteForce(m: BinaryMask, area: number, mode: 'holes' | 'islands'): { mask: BinaryMask; changed: boolean } {
  const { width: w, height: h } = m;
  const target = mode === 'holes' ? 0 : 1;
  const label = new Int32Array(w * h).fill(-1);
  const sizes: number[] = [];
  for (let s = 0; s < w * h; s++) {
    if (m.data[s] !== target || label[s] >= 0) continue;
    const id = sizes.length;
    let n = 0;
    const stack = [s];
    label[s] = id;
    while (stack.length) {
      const p = stack.pop()!;
      n++;
      const x = p % w;
      const y = (p - x) / w;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
          const q = ny * w + nx;
          if (m.data[q] === target && label[q] < 0) {
            label[q] = id;
            stack.push(q);
          }
        }
      }
    }
    sizes.push(n);
  }
  const small = sizes.map((s) => s < area);
  if (!small.some(Boolean)) return { mask: m, changed: false };
  const out = Uint8Array.from(m.data);
  const allSmall = small.every(Boolean);
  let largest = 0;
  sizes.forEach((s, i) => {
    if (s > sizes[largest]) largest = i;
  });
  for (let p = 0; p < w * h; p++) {
    const l = label[p];
    if (l < 0 || !small[l]) continue;
    if (mode === 'holes') out[p] = 1;
    else if (!(allSmall && l === largest)) out[p] = 0;
  }
  return { mask: { width: w, height: h, data: out }, changed: true };
}

describe('small-region clean-up (hand-computed)', () => {
  it('fills holes smaller than the area and keeps larger ones', () => {
    const r = run(['#######', '#.##..#', '####..#', '#######'], 2, 'holes');
    expect(r.rows).toEqual(['#######', '####..#', '####..#', '#######']);
    expect(r.changed).toBe(true);
  });

  it('treats diagonal background pixels as one hole (8-connectivity)', () => {
    // Two hole pixels touching at a corner: one hole of 2 px, not two of 1 px.
    const m = ['####', '#.##', '##.#', '####'];
    expect(run(m, 2, 'holes')).toEqual({ rows: m, changed: false });
    expect(run(m, 3, 'holes')).toEqual({ rows: ['####', '####', '####', '####'], changed: true });
  });

  it('counts background touching the border as a hole too, as cv2 labels it', () => {
    expect(run(['.###', '####'], 2, 'holes')).toEqual({ rows: ['####', '####'], changed: true });
  });

  it('removes small islands, with diagonal neighbours joined', () => {
    const m = ['##....', '##....', '....#.', '.....#'];
    // islands: the 2x2 block (4 px) and the diagonal pair (2 px)
    expect(run(m, 3, 'islands')).toEqual({ rows: ['##....', '##....', '......', '......'], changed: true });
    expect(run(m, 2, 'islands')).toEqual({ rows: m, changed: false });
  });

  it('keeps the largest island when all are small, and still reports a change', () => {
    expect(run(['#..##', '.....'], 10, 'islands')).toEqual({ rows: ['...##', '.....'], changed: true });
    // the reference's quirk: a single small island is kept but counts as changed
    expect(run(['.#.', '...'], 10, 'islands')).toEqual({ rows: ['.#.', '...'], changed: true });
    // ties go to the first island in raster order (row-major)
    expect(run(['...#', '#...'], 10, 'islands').rows).toEqual(['...#', '....']);
  });

  it('leaves empty and full masks alone', () => {
    expect(run(['...', '...'], 100, 'islands')).toEqual({ rows: ['...', '...'], changed: false });
    expect(run(['###', '###'], 100, 'holes')).toEqual({ rows: ['###', '###'], changed: false });
  });

  it('runs holes then islands in cleanSmallRegions', () => {
    const rle = maskToRle(mask(['#####.', '#.###.', '#####.', '......', '.....#']));
    const r = cleanSmallRegions(rle, 2);
    expect(rows(rleToMask(r.rle))).toEqual(['#####.', '#####.', '#####.', '......', '......']);
    expect(r.changed).toBe(true);
    // a pixel touching the block at a corner belongs to it: nothing to remove
    const touching = cleanSmallRegions(maskToRle(mask(['###.', '###.', '...#'])), 2);
    expect(touching.changed).toBe(false);
  });
});

describe('small-region clean-up (against a pixel implementation)', () => {
  it('agrees on random masks', () => {
    const rand = rng(7);
    for (let t = 0; t < 300; t++) {
      const w = 1 + Math.floor(rand() * 14);
      const h = 1 + Math.floor(rand() * 11);
      const density = rand();
      const data = new Uint8Array(w * h);
      for (let i = 0; i < data.length; i++) data[i] = rand() < density ? 1 : 0;
      const m = { width: w, height: h, data };
      const area = 1 + Math.floor(rand() * 8);
      for (const mode of ['holes', 'islands'] as const) {
        const want = bruteForce(m, area, mode);
        const got = removeSmallRegions(maskToRle(m), area, mode);
        expect(got.changed).toBe(want.changed);
        expect(rleToMask(got.rle).data).toEqual(want.mask.data);
      }
    }
  });
});
