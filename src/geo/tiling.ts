/**
 * The tiling of a raster: square windows of `tile` pixels spread evenly so neighbours
 * overlap by at least `overlap`, and a partition of the raster into cores, one per tile,
 * cut at the middle of each overlap. The cores decide which tile's pixels stand for an
 * object where the tiles that see it overlap (seam-merge.ts).
 *
 * Windows have the full tile size whenever the raster is at least that large, so the model
 * sees every tile at the same scale; the last window is not clipped but the stride shrinks
 * a little instead.
 */
import type { Window } from './raster.js';

/** One tile: its grid position, window and core (both [x0, y0, x1, y1), exclusive end). */
export interface Tile {
  readonly row: number;
  readonly col: number;
  /** Row-major index: row * cols + col. */
  readonly index: number;
  readonly window: Window;
  readonly core: Window;
}

/** The tiling of one raster. */
export interface TilePlan {
  readonly width: number;
  readonly height: number;
  readonly tile: number;
  readonly overlap: number;
  readonly cols: number;
  readonly rows: number;
  /** Left edge of each column's windows. */
  readonly xs: readonly number[];
  readonly ys: readonly number[];
  /** Core boundaries: column c's core spans [coreXs[c], coreXs[c + 1]). */
  readonly coreXs: readonly number[];
  readonly coreYs: readonly number[];
  /**
   * How many rows (and columns) apart two tiles whose windows overlap can be: 1 when only
   * neighbours overlap, more for overlaps above half the tile.
   */
  readonly reach: number;
}

/** Window origins of `n` windows of size `tile` spread evenly over `length`. */
function origins(length: number, tile: number, overlap: number): number[] {
  if (length <= tile) return [0];
  const n = Math.ceil((length - overlap) / (tile - overlap));
  const step = (length - tile) / (n - 1);
  return Array.from({ length: n }, (_, i) => Math.round(i * step));
}

/** Core boundaries: 0, the middle of each overlap, then `length`. */
function coreBounds(starts: readonly number[], length: number, tile: number): number[] {
  const bounds = [0];
  for (let i = 0; i + 1 < starts.length; i++) bounds.push(Math.floor((starts[i + 1] + Math.min(starts[i] + tile, length)) / 2));
  bounds.push(length);
  return bounds;
}

/** How many steps apart the farthest pair of overlapping windows along one axis is. */
function axisReach(starts: readonly number[], tile: number): number {
  let reach = 1;
  for (let i = 0; i < starts.length; i++) {
    for (let j = i + 1; j < starts.length && starts[j] < starts[i] + tile; j++) reach = Math.max(reach, j - i);
  }
  return reach;
}

/**
 * Plan the tiles of a `width` x `height` raster: windows of `tile` x `tile` pixels (smaller
 * only where the raster is), neighbours overlapping by at least `overlap`. Throws a
 * RangeError for a tile under 16 px or an overlap not below the tile.
 */
export function planTiles(width: number, height: number, tile: number, overlap: number): TilePlan {
  if (!Number.isInteger(tile) || tile < 16) throw new RangeError(`tile must be a whole number >= 16, got ${tile}`);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= tile) throw new RangeError(`overlap must be a whole number from 0 to tile - 1, got ${overlap}`);
  const xs = origins(width, tile, overlap);
  const ys = origins(height, tile, overlap);
  return {
    width,
    height,
    tile,
    overlap,
    cols: xs.length,
    rows: ys.length,
    xs,
    ys,
    coreXs: coreBounds(xs, width, tile),
    coreYs: coreBounds(ys, height, tile),
    reach: Math.max(axisReach(xs, tile), axisReach(ys, tile)),
  };
}

/** Tile (`row`, `col`) of `plan`. */
export function tileAt(plan: TilePlan, row: number, col: number): Tile {
  const x0 = plan.xs[col];
  const y0 = plan.ys[row];
  return {
    row,
    col,
    index: row * plan.cols + col,
    window: [x0, y0, Math.min(x0 + plan.tile, plan.width), Math.min(y0 + plan.tile, plan.height)],
    core: [plan.coreXs[col], plan.coreYs[row], plan.coreXs[col + 1], plan.coreYs[row + 1]],
  };
}

/** Every tile of `plan`, row by row. */
export function allTiles(plan: TilePlan): Tile[] {
  const tiles: Tile[] = [];
  for (let r = 0; r < plan.rows; r++) for (let c = 0; c < plan.cols; c++) tiles.push(tileAt(plan, r, c));
  return tiles;
}

/** A tile's name in file names and feature properties: `r0003c0012`. */
export function tileKey(tile: Pick<Tile, 'row' | 'col'>): string {
  return `r${String(tile.row).padStart(4, '0')}c${String(tile.col).padStart(4, '0')}`;
}

/** The intersection of two windows, or undefined when they do not overlap. */
export function intersectWindows(a: Window, b: Window): Window | undefined {
  const x0 = Math.max(a[0], b[0]);
  const y0 = Math.max(a[1], b[1]);
  const x1 = Math.min(a[2], b[2]);
  const y1 = Math.min(a[3], b[3]);
  return x0 < x1 && y0 < y1 ? [x0, y0, x1, y1] : undefined;
}

/** The tiles whose windows overlap `tile`'s (itself excluded), row by row. */
export function overlappingTiles(plan: TilePlan, tile: Tile): Tile[] {
  const out: Tile[] = [];
  for (let r = Math.max(0, tile.row - plan.reach); r <= Math.min(plan.rows - 1, tile.row + plan.reach); r++) {
    for (let c = Math.max(0, tile.col - plan.reach); c <= Math.min(plan.cols - 1, tile.col + plan.reach); c++) {
      if (r === tile.row && c === tile.col) continue;
      const other = tileAt(plan, r, c);
      if (intersectWindows(tile.window, other.window)) out.push(other);
    }
  }
  return out;
}

/** The tile whose core holds pixel (x, y) of the raster (x, y inside it). */
export function tileOwning(plan: TilePlan, x: number, y: number): Tile {
  const find = (bounds: readonly number[], v: number) => {
    let i = 0;
    while (i + 2 < bounds.length && v >= bounds[i + 1]) i++;
    return i;
  };
  return tileAt(plan, find(plan.coreYs, y), find(plan.coreXs, x));
}
