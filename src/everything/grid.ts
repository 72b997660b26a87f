/**
 * Point grids for segment-everything: cell centres of an n x n grid over [0, 1]^2, the
 * reference's `build_point_grid`, scaled to an image or crop only when it is used.
 */

/** Grid sizes the CLI offers by name; any positive integer works. */
export const GRID_PRESETS = [16, 32, 64] as const;

/**
 * Normalised cell centres u_i = (2i + 1) / (2n), as interleaved (x, y) pairs with x varying
 * fastest, so point k is column k % n of row floor(k / n).
 */
export function buildPointGrid(n: number): Float64Array {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`grid needs a positive integer side, got ${n}`);
  const out = new Float64Array(n * n * 2);
  for (let row = 0; row < n; row++) {
    const v = (2 * row + 1) / (2 * n);
    for (let col = 0; col < n; col++) {
      const k = (row * n + col) * 2;
      out[k] = (2 * col + 1) / (2 * n);
      out[k + 1] = v;
    }
  }
  return out;
}

/**
 * Points per side in crop layer `layer`: the reference divides by downscale^layer and
 * truncates, so deep layers of a small grid can reach 0 (options validation rejects that).
 */
export function pointsPerSideForLayer(pointsPerSide: number, layer: number, downscale: number): number {
  return Math.trunc(pointsPerSide / downscale ** layer);
}

/** One normalised grid per crop layer 0..layers (`build_all_layer_point_grids`). */
export function buildAllLayerPointGrids(pointsPerSide: number, layers: number, downscale: number): Float64Array[] {
  const grids: Float64Array[] = [];
  for (let i = 0; i <= layers; i++) grids.push(buildPointGrid(pointsPerSideForLayer(pointsPerSide, i, downscale)));
  return grids;
}

/** A normalised grid in pixels of a `width` x `height` frame (an image or one crop). */
export function scaleGrid(grid: Float64Array, width: number, height: number): Float64Array {
  const out = new Float64Array(grid.length);
  for (let k = 0; k < grid.length; k += 2) {
    out[k] = grid[k] * width;
    out[k + 1] = grid[k + 1] * height;
  }
  return out;
}
