/** A point [x, y] in pixel coordinates. */
export type Position = [number, number];

/**
 * Twice the signed area of a ring by the shoelace formula on the raw coordinates (the
 * closing point may or may not be repeated). Positive means counter-clockwise when x points
 * right and y points up, i.e. clockwise as drawn on an image whose y axis points down.
 */
export function ringArea2(ring: readonly Position[]): number {
  let a = 0;
  const n = ring.length;
  for (let i = 0, j = n - 1; i < n; j = i++) a += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
  return a;
}

/**
 * Douglas–Peucker simplification of a closed ring given without its closing point: keeps
 * the vertices that deviate more than `tolerance` pixels from the simplified outline.
 *
 * A closed ring has no natural end points, so it is split at its first vertex and the
 * vertex farthest from it, and each half is simplified as an open path. An explicit stack
 * replaces recursion so rings with hundreds of thousands of vertices cannot overflow it.
 * When the result would collapse below three vertices or to zero area, the input ring is
 * returned unchanged: a tiny mask keeps its outline rather than vanishing.
 */
export function simplifyRing(ring: readonly Position[], tolerance: number): Position[] {
  const n = ring.length;
  if (n <= 3 || !(tolerance >= 0)) return ring.slice();
  let far = 0;
  let best = -1;
  for (let i = 1; i < n; i++) {
    const d = (ring[i][0] - ring[0][0]) ** 2 + (ring[i][1] - ring[0][1]) ** 2;
    if (d > best) {
      best = d;
      far = i;
    }
  }
  const keep = new Uint8Array(n + 1);
  keep[0] = keep[far] = keep[n] = 1;
  // Index n stands for vertex 0 again, closing the second half.
  const at = (i: number) => ring[i === n ? 0 : i];
  const tol2 = tolerance * tolerance;
  const stack: number[] = [0, far, far, n];
  while (stack.length > 0) {
    const last = stack.pop()!;
    const first = stack.pop()!;
    const [ax, ay] = at(first);
    const [bx, by] = at(last);
    const dx = bx - ax;
    const dy = by - ay;
    const len2 = dx * dx + dy * dy;
    let maxD = -1;
    let index = -1;
    for (let i = first + 1; i < last; i++) {
      const [px, py] = at(i);
      let d2: number;
      if (len2 === 0) {
        d2 = (px - ax) ** 2 + (py - ay) ** 2;
      } else {
        // Distance to the segment (not the infinite line), so spikes past an end are kept.
        const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
        d2 = (px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2;
      }
      if (d2 > maxD) {
        maxD = d2;
        index = i;
      }
    }
    if (index >= 0 && maxD > tol2) {
      keep[index] = 1;
      stack.push(first, index, index, last);
    }
  }
  const out: Position[] = [];
  for (let i = 0; i < n; i++) if (keep[i]) out.push([ring[i][0], ring[i][1]]);
  if (out.length < 3 || ringArea2(out) === 0) return ring.slice();
  return out;
}
