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

/**
 * {@link rasteriseBoundaryInclusive} for one ring whose vertices are already whole pixels,
 * by scanlines (fast enough for rings of thousands of points on large images): pixel (x, y)
 * is set when the lattice point (x, y) lies on an edge or inside by the even-odd rule.
 */
export function fillIntegerRing(ring: readonly (readonly [number, number])[], width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const n = ring.length;
  const set = (x: number, y: number) => {
    if (x >= 0 && y >= 0 && x < width && y < height) out[y * width + x] = 1;
  };
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  for (let i = 0; i < n; i++) {
    const [ax, ay] = ring[i];
    const [bx, by] = ring[(i + 1) % n];
    const g = gcd(Math.abs(bx - ax), Math.abs(by - ay));
    if (g === 0) set(ax, ay);
    for (let t = 0; t <= g && g > 0; t++) set(ax + (t * (bx - ax)) / g, ay + (t * (by - ay)) / g);
  }
  for (let y = 0; y < height; y++) {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const [ax, ay] = ring[i];
      const [bx, by] = ring[(i + 1) % n];
      if (ay > y !== by > y) xs.push(ax + ((y - ay) * (bx - ax)) / (by - ay));
    }
    xs.sort((a, b) => a - b);
    // Pixel x is inside when an odd number of crossings lie to its right (x < crossing).
    for (let k = xs.length - 1; k >= 1 && xs.length % 2 === 0; k -= 2) {
      for (let x = Math.max(0, Math.ceil(xs[k - 1])); x < Math.min(width, Math.ceil(xs[k])); x++) out[y * width + x] = 1;
    }
  }
  return out;
}
