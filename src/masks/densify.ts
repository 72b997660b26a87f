import type { Position } from './simplify.js';

/**
 * A closed path through pixel centres (open: the first vertex is not repeated) with
 * `count - path.length` more vertices, the outline unchanged: exactly `count` vertices.
 * Unchanged when it already has `count` or more.
 *
 * New vertices go on the pixel centres that rows, columns and 45° diagonals of the path pass
 * between their ends, spread so the longest pieces are split first; so every vertex is
 * still a pixel centre. When there are not enough of those (small or jagged outlines),
 * the rest repeat vertices, one more copy each in turn from the first.
 */
export function densifyPath(path: readonly Position[], count: number): Position[] {
  const n = path.length;
  const extra = count - n;
  if (extra <= 0 || n === 0) return path.map(([x, y]): Position => [x, y]);
  // Whole pixel steps of each edge along a row, column or diagonal (0 for other edges).
  const steps = path.map((p, i) => latticeSteps(p, path[(i + 1) % n]));
  const room = steps.map((s) => Math.max(0, s - 1));
  const added = spread(steps, room, extra);
  const repeats = extra - added.reduce((s, k) => s + k, 0);
  const out: Position[] = [];
  for (let i = 0; i < n; i++) {
    const p = path[i];
    const q = path[(i + 1) % n];
    const copies = 1 + Math.floor(repeats / n) + (i < repeats % n ? 1 : 0);
    for (let c = 0; c < copies; c++) out.push([p[0], p[1]]);
    const k = added[i];
    // (q - p) / steps is a unit step, so each point is exactly a pixel centre.
    const ux = (q[0] - p[0]) / steps[i];
    const uy = (q[1] - p[1]) / steps[i];
    for (let j = 1; j <= k; j++) {
      const at = Math.round((j * steps[i]) / (k + 1));
      out.push([p[0] + at * ux, p[1] + at * uy]);
    }
  }
  return out;
}

/** Steps from p to q along a row, column or 45° diagonal of pixel centres; 0 otherwise. */
function latticeSteps(p: Position, q: Position): number {
  const dx = Math.abs(q[0] - p[0]);
  const dy = Math.abs(q[1] - p[1]);
  const s = Math.max(dx, dy);
  return (dx === 0 || dy === 0 || dx === dy) && Number.isInteger(s) ? s : 0;
}

/**
 * How many of `extra` new vertices each edge takes: in proportion to its length, at most its
 * room, the leftovers to the edges whose pieces would stay longest (the earlier on ties).
 * May place fewer than `extra` when the room runs out.
 */
function spread(lengths: readonly number[], room: readonly number[], extra: number): number[] {
  const total = lengths.reduce((s, l, i) => s + (room[i] > 0 ? l : 0), 0);
  const capacity = room.reduce((s, r) => s + r, 0);
  if (total === 0 || capacity === 0) return lengths.map(() => 0);
  const want = Math.min(extra, capacity);
  const added = lengths.map((l, i) => Math.min(room[i], Math.floor((want * (room[i] > 0 ? l : 0)) / total)));
  let left = want - added.reduce((s, k) => s + k, 0);
  while (left > 0) {
    const order = lengths
      .map((_, i) => i)
      .filter((i) => added[i] < room[i])
      .sort((a, b) => lengths[b] / (added[b] + 1) - lengths[a] / (added[a] + 1) || a - b);
    for (const i of order.slice(0, left)) added[i]++;
    left = want - added.reduce((s, k) => s + k, 0);
  }
  return added;
}
