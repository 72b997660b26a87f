/**
 * Merging the masks of overlapping tiles into whole objects.
 *
 * The rule. Two tiles whose windows overlap both see the band they share. For each such
 * pair the masks that reach into the band are matched there:
 *
 * 1. one to one: pairs whose IoU inside the band is at least `iou`, best IoU first, each
 *    mask in at most one pair (so a part and the whole it belongs to do not both match
 *    the same mask);
 * 2. one to many, among masks still unmatched: a mask and the masks of the other tile that
 *    lie inside it (at least `containment` of each one's band pixels), do not overlap each
 *    other, and together cover it with IoU `iou` in the band (a U-shaped object that one
 *    tile sees as one piece and the other as two arms).
 *
 * 3. a mask left unmatched that touches its own tile's inner edge, lies mostly inside the
 *    band, and lies mostly inside a larger mask of the other tile is dropped: the other tile
 *    saw that place with context on every side, and the cut mask is an artefact of the edge
 *    (a sliver of an object the other tile has whole).
 *
 * Matched masks are one object (union-find, so an object crossing a corner joins the
 * pieces of four tiles). Duplicates inside an overlap (an object both tiles see whole) are
 * matched the same way and so come out once, as amg.py's crop NMS would keep one.
 *
 * The object's pixels: where the tiles of its pieces overlap, each tile is trusted in its
 * own core (the cores cut each overlap in the middle, where both tiles have half the
 * overlap of context), so a seam is stitched without the two sides' disagreement growing
 * the object; where a piece reaches into the core of a tile that has no piece of this
 * object, the piece is kept there.
 *
 * Streaming: tiles come row by row; after a row of tiles the objects no later tile can
 * touch are finished and handed on, and the masks of tiles no later tile overlaps are
 * dropped. Memory holds `reach + 1` rows of tiles' masks and the objects still open.
 */
import { areaInWindow, clipToWindows, intersectionArea, spanArea, spanBounds, unionSpans, type SpanMask } from './spans.js';
import { intersectWindows, overlappingTiles, tileAt, type Tile, type TilePlan } from './tiling.js';
import type { Window } from './raster.js';

/** One mask a tile found, in raster coordinates. */
export interface TileMask {
  readonly mask: SpanMask;
  /** The model's score for it: predicted IoU, or FastSAM's detection score. */
  readonly score: number;
  readonly stability: number;
}

/** One object after merging. */
export interface MergedObject {
  readonly mask: SpanMask;
  readonly area: number;
  /** Score of its pieces, weighted by the pixels each contributed. */
  readonly score: number;
  readonly stability: number;
  /** The tile that contributed most of its pixels. */
  readonly tile: Tile;
  /** How many tiles contributed. */
  readonly tiles: number;
  /** How many tile masks were merged into it. */
  readonly pieces: number;
}

/** Thresholds of the merge rule (see the module comment). */
export interface SeamMergeOptions {
  /** Band IoU at which masks of two tiles are the same object. Default 0.5. */
  readonly iou?: number;
  /** Share of a mask's band pixels inside another for the one-to-many match. Default 0.8. */
  readonly containment?: number;
  /** Masks with fewer band pixels than this are not matched there. Default 16. */
  readonly minBandArea?: number;
}

export const SEAM_MERGE_DEFAULTS: Required<SeamMergeOptions> = { iou: 0.5, containment: 0.8, minBandArea: 16 };

interface Node {
  readonly id: number;
  readonly tile: Tile;
  readonly mask: SpanMask;
  readonly score: number;
  readonly stability: number;
  parent: number;
  /** For a root: every node of its group. */
  members: Node[] | null;
  /** For a root: the last tile row any member is in. */
  lastRow: number;
  /** Dropped by rule 3: contributes no pixels. */
  suppressed: boolean;
}

/** How close (px) a mask's box must come to its tile's edge to count as cut by it. */
const EDGE_TOUCH = 2;

/** Joins the masks of a plan's tiles, fed row by row, into objects. */
export class SeamMerger {
  private readonly o: Required<SeamMergeOptions>;
  private readonly nodes = new Map<number, Node>();
  /** Nodes of the tiles still matchable, by tile index. */
  private readonly byTile = new Map<number, Node[]>();
  private nextId = 0;
  private nextTile = 0;

  constructor(
    readonly plan: TilePlan,
    /** Receives each finished object, in a deterministic order. */
    private readonly emit: (object: MergedObject) => void | Promise<void>,
    options: SeamMergeOptions = {},
  ) {
    this.o = { ...SEAM_MERGE_DEFAULTS, ...options };
  }

  /** Add the masks of the next tile in row-major order (every tile, empty ones too). */
  async add(tile: Tile, masks: readonly TileMask[]): Promise<void> {
    if (tile.index !== this.nextTile) throw new Error(`SeamMerger: tile ${tile.index} given, ${this.nextTile} expected (row-major order)`);
    this.nextTile++;
    const mine: Node[] = masks.map((m) => {
      const node: Node = { id: this.nextId++, tile, mask: m.mask, score: m.score, stability: m.stability, parent: -1, members: null, lastRow: tile.row, suppressed: false };
      node.parent = node.id;
      node.members = [node];
      this.nodes.set(node.id, node);
      return node;
    });
    for (const other of overlappingTiles(this.plan, tile)) {
      if (other.index > tile.index) continue;
      const theirs = this.byTile.get(other.index);
      if (!theirs || theirs.length === 0 || mine.length === 0) continue;
      const band = intersectWindows(tile.window, other.window)!;
      const { pairs, dropped } = this.matchPair(mine, theirs, band);
      for (const [a, b] of pairs) this.union(a, b);
      for (const n of dropped) n.suppressed = true;
    }
    this.byTile.set(tile.index, mine);
    if (tile.col === this.plan.cols - 1) await this.rowDone(tile.row);
  }

  /** Finish every object still open (call after the last tile). */
  async finish(): Promise<void> {
    if (this.nextTile !== this.plan.rows * this.plan.cols) throw new Error(`SeamMerger: finished after ${this.nextTile} of ${this.plan.rows * this.plan.cols} tiles`);
  }

  private find(id: number): Node {
    let n = this.nodes.get(id)!;
    while (n.parent !== n.id) {
      const p = this.nodes.get(n.parent)!;
      n.parent = p.parent;
      n = this.nodes.get(n.parent) ?? p;
    }
    return n;
  }

  private union(a: Node, b: Node): void {
    let ra = this.find(a.id);
    let rb = this.find(b.id);
    if (ra === rb) return;
    // The lower id stays the root, so the group's identity does not depend on join order.
    if (rb.id < ra.id) [ra, rb] = [rb, ra];
    rb.parent = ra.id;
    ra.members!.push(...rb.members!);
    ra.lastRow = Math.max(ra.lastRow, rb.lastRow);
    rb.members = null;
  }

  /** The pairs (node of `a`, node of `b`) the rule matches inside `band`, and the masks rule 3 drops. */
  private matchPair(a: readonly Node[], b: readonly Node[], band: Window): { pairs: [Node, Node][]; dropped: Node[] } {
    const min = this.o.minBandArea;
    const inBand = (nodes: readonly Node[]) =>
      nodes.flatMap((n) => {
        const [x0, y0, x1, y1] = spanBounds(n.mask);
        if (x1 <= band[0] || x0 >= band[2] || y1 <= band[1] || y0 >= band[3]) return [];
        const area = areaInWindow(n.mask, band);
        return area >= min ? [{ node: n, area }] : [];
      });
    const as = inBand(a);
    const bs = inBand(b);
    if (as.length === 0 || bs.length === 0) return { pairs: [], dropped: [] };
    const cache = new Map<string, number>();
    const inter = (p: Node, q: Node) => {
      const key = p.id < q.id ? `${p.id}:${q.id}` : `${q.id}:${p.id}`;
      let v = cache.get(key);
      if (v === undefined) {
        v = intersectionArea(p.mask, q.mask, band);
        cache.set(key, v);
      }
      return v;
    };
    const matched: [Node, Node][] = [];
    const used = new Set<number>();

    // 1. One to one, best band IoU first (ties: lower ids first).
    const pairs: { p: (typeof as)[number]; q: (typeof bs)[number]; iou: number }[] = [];
    for (const p of as) {
      for (const q of bs) {
        const i = inter(p.node, q.node);
        if (i === 0) continue;
        const iou = i / (p.area + q.area - i);
        if (iou >= this.o.iou) pairs.push({ p, q, iou });
      }
    }
    pairs.sort((x, y) => y.iou - x.iou || x.p.node.id - y.p.node.id || x.q.node.id - y.q.node.id);
    for (const { p, q } of pairs) {
      if (used.has(p.node.id) || used.has(q.node.id)) continue;
      used.add(p.node.id);
      used.add(q.node.id);
      matched.push([p.node, q.node]);
    }

    // 2. One to many among the unmatched, largest band share first.
    const left = [...as.map((e) => ({ ...e, side: 0 })), ...bs.map((e) => ({ ...e, side: 1 }))]
      .filter((e) => !used.has(e.node.id))
      .sort((x, y) => y.area - x.area || x.node.id - y.node.id);
    for (const m of left) {
      if (used.has(m.node.id)) continue;
      const inside = left
        .filter((o) => o.side !== m.side && !used.has(o.node.id) && inter(m.node, o.node) >= this.o.containment * o.area)
        .sort((x, y) => y.area - x.area || x.node.id - y.node.id);
      const picked: typeof inside = [];
      for (const o of inside) {
        // Pieces of one object do not overlap; a part of another piece is another object.
        if (picked.every((p) => inter(p.node, o.node) <= 0.2 * Math.min(p.area, o.area))) picked.push(o);
      }
      if (picked.length < 2) continue;
      const shared = picked.reduce((s, o) => s + inter(m.node, o.node), 0);
      const covered = picked.reduce((s, o) => s + o.area, 0);
      if (shared / (m.area + covered - shared) < this.o.iou) continue;
      used.add(m.node.id);
      for (const o of picked) {
        used.add(o.node.id);
        matched.push(m.side === 0 ? [m.node, o.node] : [o.node, m.node]);
      }
    }

    // 3. Edge artefacts: unmatched so far, cut by their tile's edge, inside a larger mask of the other tile.
    const dropped: Node[] = [];
    for (const m of left) {
      if (used.has(m.node.id) || this.find(m.node.id).members!.length > 1) continue;
      if (m.area < this.o.containment * spanArea(m.node.mask) || !this.touchesInnerEdge(m.node)) continue;
      const others = m.side === 0 ? bs : as;
      if (others.some((o) => o.area > m.area && inter(m.node, o.node) >= this.o.containment * m.area)) dropped.push(m.node);
    }
    return { pairs: matched, dropped };
  }

  /** Whether a mask's box reaches an edge of its tile's window that is not the raster's edge. */
  private touchesInnerEdge(n: Node): boolean {
    const [x0, y0, x1, y1] = spanBounds(n.mask);
    const [wx0, wy0, wx1, wy1] = n.tile.window;
    return (
      (wx0 > 0 && x0 - wx0 < EDGE_TOUCH) ||
      (wy0 > 0 && y0 - wy0 < EDGE_TOUCH) ||
      (wx1 < this.plan.width && wx1 - x1 < EDGE_TOUCH) ||
      (wy1 < this.plan.height && wy1 - y1 < EDGE_TOUCH)
    );
  }

  /** Row `row` of tiles is complete: finish the objects no later tile can reach. */
  private async rowDone(row: number): Promise<void> {
    const last = row === this.plan.rows - 1;
    const horizon = last ? Infinity : row - this.plan.reach;
    const done: Node[] = [];
    for (const node of this.nodes.values()) {
      if (node.members && node.lastRow <= horizon) done.push(node);
    }
    done.sort((x, y) => x.id - y.id);
    for (const root of done) {
      const object = this.composite(root.members!);
      for (const m of root.members!) this.nodes.delete(m.id);
      if (object) await this.emit(object);
    }
    // Tiles no later tile overlaps leave the matching index (their nodes stay in `nodes`
    // only while their object is open).
    for (const index of [...this.byTile.keys()]) {
      if (last || Math.floor(index / this.plan.cols) <= row - this.plan.reach) this.byTile.delete(index);
    }
  }

  /** One object from its pieces: each tile's pixels in its own core (see the module comment). */
  private composite(members: readonly Node[]): MergedObject | undefined {
    const tiles = new Set(members.filter((m) => !m.suppressed).map((m) => m.tile.index));
    const parts: SpanMask[] = [];
    const contributed = new Map<number, number>();
    let scoreSum = 0;
    let stabilitySum = 0;
    let weight = 0;
    for (const m of members) {
      if (m.suppressed) continue;
      let mask: SpanMask | undefined = m.mask;
      if (tiles.size > 1) {
        const allowed: Window[] = [m.tile.core];
        for (const other of overlappingTiles(this.plan, m.tile)) {
          if (tiles.has(other.index)) continue;
          const w = intersectWindows(other.core, m.tile.window);
          if (w) allowed.push(w);
        }
        mask = clipToWindows(m.mask, allowed);
      }
      if (!mask) continue;
      const area = spanArea(mask);
      parts.push(mask);
      contributed.set(m.tile.index, (contributed.get(m.tile.index) ?? 0) + area);
      scoreSum += m.score * area;
      stabilitySum += m.stability * area;
      weight += area;
    }
    const mask = unionSpans(parts);
    if (!mask || weight === 0) return undefined;
    let origin = members[0].tile.index;
    for (const [index, area] of contributed) if (area > (contributed.get(origin) ?? -1) || (area === contributed.get(origin) && index < origin)) origin = index;
    const row = Math.floor(origin / this.plan.cols);
    return {
      mask,
      area: spanArea(mask),
      score: scoreSum / weight,
      stability: stabilitySum / weight,
      tile: tileAt(this.plan, row, origin - row * this.plan.cols),
      tiles: contributed.size,
      pieces: members.length,
    };
  }
}
