/**
 * Outlines of merged objects as polygons with holes, in raster pixel coordinates, with the
 * geometry and conventions of masks/polygons.ts: marching squares through the midpoints of
 * pixel edges (so filling at pixel centres gives the mask back), diagonal neighbours kept
 * apart as d3-contour keeps them, RFC 7946 winding on the raw numbers, Douglas–Peucker at
 * `tolerance`.
 *
 * The tracing works on the runs of a SpanMask, two rows at a time, and emits one segment
 * per straight stretch of outline: memory follows the outline, never the bounding box, so
 * an object as large as the raster (a lake, the background of a scene) costs what its
 * outline costs.
 */
import { ringsToPolygons, type Polygon, type Position } from '../masks/polygons.js';
import { rowRuns, type SpanMask } from './spans.js';

/** Vertices are kept doubled (every marching-squares vertex is on a half-pixel lattice) in one number key. */
const KEY_STRIDE = 2 ** 24;
const keyOf = (x2: number, y2: number) => (x2 + 2) * KEY_STRIDE + (y2 + 2);

/**
 * Directed segments with the inside on the right as drawn (y down), so exteriors wind with
 * a positive shoelace area on the raw numbers and holes with a negative one.
 */
class Segments {
  private fromX: number[] = [];
  private fromY: number[] = [];
  private toX: number[] = [];
  private toY: number[] = [];
  readonly byStart = new Map<number, number>();

  /** A segment between doubled coordinates. */
  add(x0: number, y0: number, x1: number, y1: number): void {
    if (x0 === x1 && y0 === y1) return;
    const i = this.fromX.length;
    this.fromX.push(x0);
    this.fromY.push(y0);
    this.toX.push(x1);
    this.toY.push(y1);
    this.byStart.set(keyOf(x0, y0), i);
  }

  /** Link the segments into rings (pixel coordinates, corners only). */
  rings(): Position[][] {
    const rings: Position[][] = [];
    const used = new Uint8Array(this.fromX.length);
    for (let s = 0; s < this.fromX.length; s++) {
      if (used[s]) continue;
      const ring: Position[] = [];
      let i = s;
      while (!used[i]) {
        used[i] = 1;
        ring.push([this.fromX[i] / 2, this.fromY[i] / 2]);
        const next = this.byStart.get(keyOf(this.toX[i], this.toY[i]));
        if (next === undefined) throw new Error(`outline: open ring at (${this.toX[i] / 2}, ${this.toY[i] / 2})`);
        i = next;
      }
      rings.push(dropCollinear(ring));
    }
    return rings;
  }
}

/** A ring without the vertices in the middle of straight stretches. */
function dropCollinear(ring: Position[]): Position[] {
  const n = ring.length;
  if (n < 4) return ring;
  const out: Position[] = [];
  for (let i = 0; i < n; i++) {
    const a = ring[(i + n - 1) % n];
    const b = ring[i];
    const c = ring[(i + 1) % n];
    if ((b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]) !== 0) out.push(b);
  }
  return out;
}

/** Whether sample x is inside in a row's runs, for x just right of a boundary walk. */
function valueAt(runs: Int32Array, x: number): number {
  for (let i = 0; i < runs.length; i += 2) {
    if (x < runs[i]) return 0;
    if (x < runs[i + 1]) return 1;
  }
  return 0;
}

/**
 * The cell whose centre is the pixel corner (i, j): corners are samples (i-1, j-1) TL,
 * (i, j-1) TR, (i-1, j) BL, (i, j) BR. Its edge midpoints (doubled): T (2i, 2j-1),
 * B (2i, 2j+1), L (2i-1, 2j), R (2i+1, 2j). Saddles keep the two inside corners apart.
 */
function cellSegments(out: Segments, i: number, j: number, tl: number, tr: number, bl: number, br: number): void {
  const T = [2 * i, 2 * j - 1] as const;
  const B = [2 * i, 2 * j + 1] as const;
  const L = [2 * i - 1, 2 * j] as const;
  const R = [2 * i + 1, 2 * j] as const;
  const seg = (a: readonly [number, number], b: readonly [number, number]) => out.add(a[0], a[1], b[0], b[1]);
  switch ((tl << 3) | (tr << 2) | (br << 1) | bl) {
    case 8: return seg(T, L);
    case 4: return seg(R, T);
    case 2: return seg(B, R);
    case 1: return seg(L, B);
    case 7: return seg(L, T);
    case 11: return seg(T, R);
    case 13: return seg(R, B);
    case 14: return seg(B, L);
    case 12: return seg(R, L);
    case 3: return seg(L, R);
    case 9: return seg(T, B);
    case 6: return seg(B, T);
    case 10: // TL and BR inside: apart
      seg(T, L);
      return seg(B, R);
    case 5: // TR and BL inside: apart
      seg(R, T);
      return seg(L, B);
    default:
      return;
  }
}

/** The outline rings of `mask`, unsimplified (pixel coordinates, corners only, open). */
export function spanRings(mask: SpanMask): Position[][] {
  const out = new Segments();
  for (let j = mask.y0; j <= mask.y0 + mask.rows; j++) {
    const top = rowRuns(mask, j - 1);
    const bottom = rowRuns(mask, j);
    if (top.length === 0 && bottom.length === 0) continue;
    // Every x where either row changes, in order.
    const bounds = Array.from(new Set([...top, ...bottom])).sort((a, b) => a - b);
    for (let k = 0; k < bounds.length; k++) {
      const p = bounds[k];
      const a0 = valueAt(top, p - 1);
      const a1 = valueAt(top, p);
      const b0 = valueAt(bottom, p - 1);
      const b1 = valueAt(bottom, p);
      cellSegments(out, p, j, a0, a1, b0, b1);
      // Cells p+1 .. q-1 see constant rows: a straight horizontal stretch where they differ.
      const q = k + 1 < bounds.length ? bounds[k + 1] : p + 1;
      if (a1 !== b1 && q > p + 1) {
        if (b1) out.add(2 * p + 1, 2 * j, 2 * q - 1, 2 * j);
        else out.add(2 * q - 1, 2 * j, 2 * p + 1, 2 * j);
      }
    }
  }
  return out.rings();
}

/** Polygons of `mask` (see the module comment). */
export function spanPolygons(mask: SpanMask, tolerance: number): Polygon[] {
  return ringsToPolygons(spanRings(mask), tolerance, 1);
}
