/**
 * Test-only: how ultralytics reads a YOLO-seg label file for segmentation training, written
 * from reading its code (not a copy): `verify_image_label` reads each line's numbers as
 * float32 pairs; `YOLODataset.update_labels_info` picks the point count n and calls
 * `resample_segments` (ultralytics/utils/ops.py); `Instances.denormalize` multiplies by the
 * image size in float32; `polygon2mask` casts to int32 (truncation) before `cv2.fillPoly`.
 *
 * resample_segments closes each outline (appends its first point: L + 1 points for L
 * vertices) and evaluates `np.interp` of x and of y over the vertex index 0..L at
 * `np.linspace` positions. Two versions are in use:
 * - `'index-only'` (before December 2024): the n positions linspace(0, L, n) and nothing
 *   else, n fixed at 1000;
 * - `'keeps-vertices'` (PR 18051, and n = max(1000, longest + 1) from 8.3.50): an outline of
 *   exactly n points is left alone; if L + 1 < n, the n - L - 1 positions
 *   linspace(0, L, n - L - 1) plus every vertex index; otherwise linspace(0, L, n).
 */

export type ResampleVersion = 'index-only' | 'keeps-vertices';

/** The point count update_labels_info resamples one image's outlines (vertex counts) to. */
export function resampleCount(lengths: readonly number[], version: ResampleVersion): number {
  const longest = Math.max(0, ...lengths);
  return version === 'keeps-vertices' && longest > 1000 ? longest + 1 : 1000;
}

/** numpy.linspace(start, stop, num) with its endpoint: k * step, the last exactly stop. */
function linspace(stop: number, num: number): number[] {
  if (num === 1) return [0];
  const step = stop / (num - 1);
  return Array.from({ length: num }, (_, k) => (k === num - 1 ? stop : k * step));
}

/** numpy.interp at x over xp = 0, 1, ..., fp.length - 1. */
function interp(x: number, fp: readonly number[]): number {
  const last = fp.length - 1;
  if (x >= last) return fp[last];
  if (x <= 0) return fp[0];
  const j = Math.floor(x);
  if (x === j) return fp[j];
  return (fp[j + 1] - fp[j]) * (x - j) + fp[j];
}

/** resample_segments for one outline of float32 points, to n float32 points. */
export function resampleSegment(points: readonly (readonly [number, number])[], n: number, version: ResampleVersion): [number, number][] {
  if (version === 'keeps-vertices' && points.length === n) return points.map(([x, y]) => [x, y]);
  const closed = [...points, points[0]];
  const last = closed.length - 1;
  let at: number[];
  if (version === 'keeps-vertices' && closed.length < n) {
    // np.insert at np.searchsorted: every vertex index joins the sorted positions.
    at = [...linspace(last, n - closed.length), ...closed.map((_, i) => i)].sort((a, b) => a - b);
  } else {
    at = linspace(last, n);
  }
  const xs = closed.map(([x]) => x);
  const ys = closed.map(([, y]) => y);
  return at.map((t) => [Math.fround(interp(t, xs)), Math.fround(interp(t, ys))]);
}

/**
 * One label file's lines as ultralytics hands them to fillPoly: per line, the resampled
 * points in whole pixels (float32 times the image size, truncated).
 */
export function ultralyticsOutlines(labels: string, width: number, height: number, version: ResampleVersion): [number, number][][] {
  const lines = labels.split('\n').filter((l) => l.trim() !== '');
  const segments = lines.map((line) => {
    const values = line.trim().split(/\s+/).slice(1).map((v) => Math.fround(Number(v)));
    const points: [number, number][] = [];
    for (let i = 0; i + 1 < values.length; i += 2) points.push([values[i], values[i + 1]]);
    return points;
  });
  const n = resampleCount(segments.map((s) => s.length), version);
  return segments.map((s) =>
    resampleSegment(s, n, version).map(([x, y]): [number, number] => [Math.trunc(Math.fround(x * width)), Math.trunc(Math.fround(y * height))]),
  );
}
