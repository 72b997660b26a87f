/** Test-only geometry helpers: even-odd rasterisation at pixel centres, IoU, ring checks. */

type Pt = readonly [number, number] | readonly number[];

/**
 * Rasterise rings on a w x h grid with the even-odd rule, sampling pixel (x, y) at its
 * centre (x + 0.5, y + 0.5) — pixel (x, y) covers [x, x + 1] x [y, y + 1]. All rings of all
 * polygons are XORed together, which is what even-odd filling means.
 */
export function rasteriseEvenOdd(rings: readonly (readonly Pt[])[], width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const cy = y + 0.5;
    const xs: number[] = [];
    for (const ring of rings) {
      for (let i = 0; i < ring.length; i++) {
        const [ax, ay] = ring[i];
        const [bx, by] = ring[(i + 1) % ring.length];
        // Half-open rule: an edge counts when cy lies in [min y, max y).
        if (ay <= cy !== by <= cy) xs.push(ax + ((cy - ay) * (bx - ax)) / (by - ay));
      }
    }
    xs.sort((a, b) => a - b);
    for (let i = 0; i + 1 < xs.length; i += 2) {
      for (let x = Math.max(0, Math.ceil(xs[i] - 0.5)); x < width && x + 0.5 < xs[i + 1]; x++) out[y * width + x] ^= 1;
    }
  }
  return out;
}

/** Intersection over union of two 0/1 masks (1 when both are empty). */
export { pixelIou as iou } from '../../src/masks/iou.js';

/** Shoelace signed area on the raw numbers (positive = counter-clockwise with y up). */
export function signedArea(ring: readonly Pt[]): number {
  let s = 0;
  for (let i = 0; i < ring.length; i++) {
    const [ax, ay] = ring[i];
    const [bx, by] = ring[(i + 1) % ring.length];
    s += ax * by - bx * ay;
  }
  return s / 2;
}

/** A mask from ASCII art: '#' foreground. */
export function maskFromRows(rows: readonly string[]): { width: number; height: number; data: Uint8Array } {
  const height = rows.length;
  const width = rows[0].length;
  const data = new Uint8Array(width * height);
  rows.forEach((r, y) => [...r].forEach((c, x) => (data[y * width + x] = c === '#' ? 1 : 0)));
  return { width, height, data };
}

/**
 * Fill rings the way labelme (PIL `polygon(xy, outline=1, fill=1)`) and ultralytics
 * (`int32` cast, `cv2.fillPoly`) do, on exact geometry: each vertex is truncated to a whole
 * pixel, pixel (x, y) is the lattice point (x, y), and a pixel is set when its point lies on
 * any edge or inside the rings by the even-odd rule — boundary pixels included. (The real
 * fillers also paint the pixels nearest an edge that passes between lattice points; outlines
 * along pixel rows, columns and diagonals, like samlite's at tolerance 0, have none.)
 */
export function rasteriseBoundaryInclusive(rings: readonly (readonly Pt[])[], width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const ints = rings.map((r) => r.map(([x, y]) => [Math.trunc(x), Math.trunc(y)] as const));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let on = false;
      let inside = false;
      for (const ring of ints) {
        for (let i = 0; i < ring.length; i++) {
          const [ax, ay] = ring[i];
          const [bx, by] = ring[(i + 1) % ring.length];
          const cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
          if (cross === 0 && x >= Math.min(ax, bx) && x <= Math.max(ax, bx) && y >= Math.min(ay, by) && y <= Math.max(ay, by)) on = true;
          if (ay > y !== by > y && x < ax + ((y - ay) * (bx - ax)) / (by - ay)) inside = !inside;
        }
      }
      if (on || inside) out[y * width + x] = 1;
    }
  }
  return out;
}
