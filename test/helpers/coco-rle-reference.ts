/**
 * Independent reference implementations of what pycocotools does with the files samlite
 * writes, used only by tests. Written from the format description (the "Encodings" section
 * of docs/segment-everything.md) and from the algorithm of pycocotools' maskApi.c, not from
 * src/masks/rle.ts, so a shared misunderstanding cannot make both sides agree.
 */

/** A decoded mask: row-major, 1 foreground, 0 background. */
export interface RefMask {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * pycocotools' compressed counts string → run lengths. Each value is a little-endian
 * sequence of 5-bit groups (char code - 48); bit 0x20 says another group follows, bit 0x10
 * of the last group is the sign. From the fourth value on (index > 2), the stored value is
 * the difference to the run two places before.
 */
export function refParseCounts(s: string): number[] {
  const runs: number[] = [];
  let p = 0;
  while (p < s.length) {
    let value = 0;
    let bits = 0;
    let group = 0;
    do {
      if (p >= s.length) throw new Error('counts string ends inside a value');
      group = s.charCodeAt(p++) - 48;
      if (group < 0 || group > 63) throw new Error(`character ${s[p - 1]} is outside the 48..111 range`);
      value += (group & 0x1f) * 2 ** bits;
      bits += 5;
    } while (group & 0x20);
    // Two's complement over the bits read: a set sign bit means value - 2^bits.
    if (group & 0x10) value -= 2 ** bits;
    if (runs.length > 2) value += runs[runs.length - 2];
    if (value < 0) throw new Error(`negative run length ${value} at run ${runs.length}`);
    runs.push(value);
  }
  return runs;
}

/** Runs (column-major, background first) → row-major mask; throws unless they cover h*w exactly. */
export function refRunsToMask(runs: readonly number[], height: number, width: number): RefMask {
  const data = new Uint8Array(width * height);
  let k = 0;
  runs.forEach((run, i) => {
    for (let e = k + run; k < e; k++) {
      if (i % 2 === 1) {
        const x = Math.floor(k / height);
        const y = k % height;
        data[y * width + x] = 1;
      }
    }
  });
  if (k !== width * height) throw new Error(`runs cover ${k} pixels, expected ${width * height}`);
  return { width, height, data };
}

/** Decode a COCO compressed RLE object `{size: [h, w], counts: string}`. */
export function refDecodeCocoRle(rle: { size: [number, number]; counts: string }): RefMask {
  if (typeof rle.counts !== 'string') throw new Error('counts must be the compressed string form');
  return refRunsToMask(refParseCounts(rle.counts), rle.size[0], rle.size[1]);
}

/**
 * pycocotools' `rleFrPoly`: rasterise one polygon [x1, y1, x2, y2, ...] on an h x w image,
 * returning runs. The outline is traced on a 5x finer grid; each column x records where the
 * outline crosses its sample line (pixel-area coordinate x + 0.5); sorting the crossings
 * and taking differences gives runs, so crossings toggle inside/outside (even-odd), and
 * two crossings at the same place cancel.
 */
export function refFrPoly(xy: readonly number[], h: number, w: number): number[] {
  const k = xy.length / 2;
  const scale = 5;
  // (int)(v + .5) in C truncates toward zero.
  const x = Array.from({ length: k + 1 }, (_, j) => Math.trunc(scale * xy[(j % k) * 2] + 0.5));
  const y = Array.from({ length: k + 1 }, (_, j) => Math.trunc(scale * xy[(j % k) * 2 + 1] + 0.5));
  const u: number[] = [];
  const v: number[] = [];
  for (let j = 0; j < k; j++) {
    let xs = x[j];
    let xe = x[j + 1];
    let ys = y[j];
    let ye = y[j + 1];
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    if (dx === 0 && dy === 0) throw new Error('zero-length edge: undefined behaviour in maskApi.c');
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      [xs, xe] = [xe, xs];
      [ys, ye] = [ye, ys];
    }
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy;
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u.push(t + xs);
        v.push(Math.trunc(ys + s * t + 0.5));
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v.push(t + ys);
        u.push(Math.trunc(xs + s * t + 0.5));
      }
    }
  }
  const a: number[] = [];
  for (let j = 1; j < u.length; j++) {
    if (u[j] === u[j - 1]) continue;
    let xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
    xd = (xd + 0.5) / scale - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) continue;
    let yd = v[j] < v[j - 1] ? v[j] : v[j - 1];
    yd = (yd + 0.5) / scale - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > h) yd = h;
    yd = Math.ceil(yd);
    a.push(xd * h + yd);
  }
  a.push(h * w);
  a.sort((p, q) => p - q);
  let prev = 0;
  for (let j = 0; j < a.length; j++) {
    const t = a[j];
    a[j] -= prev;
    prev = t;
  }
  const runs: number[] = [a[0]];
  let j = 1;
  while (j < a.length) {
    if (a[j] > 0) runs.push(a[j++]);
    else {
      j++;
      if (j < a.length) runs[runs.length - 1] += a[j++];
    }
  }
  return runs;
}

/**
 * What pycocotools' `annToRLE` does with a polygon segmentation: rasterise each polygon with
 * {@link refFrPoly} and take the union.
 */
export function refDecodeCocoPolygons(segmentation: readonly (readonly number[])[], h: number, w: number): RefMask {
  const out = new Uint8Array(w * h);
  for (const poly of segmentation) {
    if (poly.length <= 4) throw new Error('pycocotools reads a first list of <= 4 numbers as a box, not a polygon');
    const m = refRunsToMask(refFrPoly(poly, h, w), h, w);
    for (let i = 0; i < out.length; i++) out[i] |= m.data[i];
  }
  return { width: w, height: h, data: out };
}
