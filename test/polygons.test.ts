import { describe, expect, it } from 'vitest';
import { maskToRle } from '../src/masks/rle.js';
import { rleToCrop } from '../src/masks/crop.js';
import { maskOutline } from '../src/masks/outline.js';
import { maskToPolygons, polygonToCoco, polygonToPath, polygonsToCoco, polygonsToSinglePath, rleToPolygons, type Polygon } from '../src/masks/polygons.js';
import { simplifyRing, type Position } from '../src/masks/simplify.js';
import { refDecodeCocoPolygons } from './helpers/coco-rle-reference.js';
import { iou, maskFromRows, rasteriseBoundaryInclusive, rasteriseEvenOdd, signedArea } from './helpers/polygon-raster.js';

const allRings = (polys: readonly Polygon[]) => polys.flat();

/** Random blobby mask: a few discs and rings, some touching, with pepper noise. */
function blobs(seed: number, width: number, height: number) {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const data = new Uint8Array(width * height);
  for (let n = 0; n < 6; n++) {
    const cx = rand() * width;
    const cy = rand() * height;
    const r = 2 + rand() * width * 0.2;
    const inner = rand() < 0.5 ? r * 0.5 : -1;
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const d = Math.hypot(x - cx, y - cy);
        if (d <= r && d > inner) data[y * width + x] = 1;
      }
  }
  for (let i = 0; i < width * height * 0.01; i++) data[Math.floor(rand() * width * height)] ^= 1;
  return { width, height, data };
}

describe('mask → polygons', () => {
  it('a single pixel becomes a diamond through its edge midpoints, exterior positive area', () => {
    const polys = maskToPolygons(maskFromRows(['...', '.#.', '...']));
    expect(polys).toHaveLength(1);
    expect(polys[0]).toHaveLength(1);
    const ring = polys[0][0];
    expect(ring[0]).toEqual(ring[ring.length - 1]);
    expect(new Set(ring.slice(0, -1).map((p) => p.join(',')))).toEqual(new Set(['1.5,1', '2,1.5', '1.5,2', '1,1.5']));
    expect(signedArea(ring)).toBeGreaterThan(0);
  });

  it('a square with a hole: exterior counter-clockwise on the raw numbers, hole clockwise', () => {
    const m = maskFromRows(['#####', '#...#', '#...#', '#...#', '#####']);
    const polys = maskToPolygons(m, { tolerance: 0 });
    expect(polys).toHaveLength(1);
    expect(polys[0]).toHaveLength(2);
    expect(signedArea(polys[0][0])).toBeGreaterThan(0);
    expect(signedArea(polys[0][1])).toBeLessThan(0);
    expect(rasteriseEvenOdd(allRings(polys), m.width, m.height)).toEqual(m.data);
  });

  it('nests an island inside the hole of another island (holes go to the smallest exterior)', () => {
    const m = maskFromRows([
      '#########',
      '#.......#',
      '#.#####.#',
      '#.#...#.#',
      '#.#.#.#.#',
      '#.#...#.#',
      '#.#####.#',
      '#.......#',
      '#########',
    ]);
    const polys = maskToPolygons(m, { tolerance: 0 });
    expect(polys.map((p) => p.length).sort()).toEqual([1, 2, 2]);
    // Each polygon rasterised alone (exterior minus its own holes) must be a subset of the
    // mask; with holes misassigned, the middle ring's polygon would cover the inner gap.
    let covered = 0;
    for (const p of polys) {
      const r = rasteriseEvenOdd(p, m.width, m.height);
      r.forEach((v, i) => {
        if (v) {
          expect(m.data[i]).toBe(1);
          covered++;
        }
      });
    }
    expect(covered).toBe(m.data.reduce((a, b) => a + b, 0));
  });

  it('reproduces random masks exactly at tolerance 0 (pixel centres strictly inside or outside)', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const m = blobs(seed, 37 + seed, 29 + 2 * seed);
      const polys = maskToPolygons(m, { tolerance: 0 });
      expect(rasteriseEvenOdd(allRings(polys), m.width, m.height)).toEqual(m.data);
      for (const p of polys) {
        expect(signedArea(p[0])).toBeGreaterThan(0);
        for (const hole of p.slice(1)) expect(signedArea(hole)).toBeLessThan(0);
      }
    }
  });

  it('stays close to the mask after simplification and has far fewer vertices on smooth outlines', () => {
    const count = (ps: Polygon[]) => allRings(ps).reduce((n, r) => n + r.length, 0);
    // An annulus: smooth outline, one hole; the staircase is what simplification removes.
    const w = 120;
    const data = new Uint8Array(w * w);
    for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) {
      const d = Math.hypot(x - 60, y - 60);
      data[y * w + x] = d < 50 && d > 20 ? 1 : 0;
    }
    const disc = { width: w, height: w, data };
    const exact = maskToPolygons(disc, { tolerance: 0 });
    const simple = maskToPolygons(disc, { tolerance: 1 });
    expect(simple[0]).toHaveLength(2);
    expect(count(simple)).toBeLessThan(count(exact) / 4);
    expect(iou(rasteriseEvenOdd(allRings(simple), w, w), data)).toBeGreaterThan(0.97);
    // Noisy masks keep their many small rings but stay close too.
    const m = blobs(42, 120, 90);
    expect(iou(rasteriseEvenOdd(allRings(maskToPolygons(m)), m.width, m.height), m.data)).toBeGreaterThan(0.9);
  });

  it('the default tolerance keeps small objects within 1 %, as pycocotools fills the polygons', () => {
    // Squares, discs, thin rotated bars and ellipses from 32 to 1300 px: COCO's "small".
    const side = 96;
    const shape = (inside: (x: number, y: number) => boolean) => {
      const data = new Uint8Array(side * side);
      for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) data[y * side + x] = inside(x + 0.5, y + 0.5) ? 1 : 0;
      return { width: side, height: side, data };
    };
    const shapes = [
      ...[6, 8, 12, 16, 24, 32].map((n) => shape((x, y) => x >= 10 && x < 10 + n && y >= 10 && y < 10 + n)),
      ...[4, 5, 6, 8, 10, 12, 16, 18].map((r) => shape((x, y) => (x - 48) ** 2 + (y - 48) ** 2 <= r * r)),
      ...[10, 20, 30, 37, 45].flatMap((deg) =>
        [8, 16, 32].map((len) => {
          const [c, s] = [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)];
          return shape((x, y) => Math.abs((x - 48) * c + (y - 48) * s) <= len / 2 && Math.abs(-(x - 48) * s + (y - 48) * c) <= len / 4);
        }),
      ),
      ...[[12, 5], [20, 8], [30, 12]].map(([a, b]) => shape((x, y) => ((x - 48) / a) ** 2 + ((y - 48) / b) ** 2 <= 1)),
    ];
    const worst = Math.min(
      ...shapes.map((m) => iou(refDecodeCocoPolygons(polygonsToCoco(maskToPolygons(m)), side, side).data, m.data)),
    );
    expect(worst).toBeGreaterThanOrEqual(0.99);
    // The old default of 1 px lost up to a quarter of the thinnest bar.
    const old = Math.min(
      ...shapes.map((m) => iou(refDecodeCocoPolygons(polygonsToCoco(maskToPolygons(m, { tolerance: 1 })), side, side).data, m.data)),
    );
    expect(old).toBeLessThan(0.8);
  });

  it('outlines an RLE mask at its place in the image from its bounding box alone', () => {
    const rows = Array.from({ length: 20 }, (_, y) => (y >= 12 && y < 15 ? '.'.repeat(30) + '####' + '.'.repeat(6) : '.'.repeat(40)));
    const m = maskFromRows(rows);
    const polys = rleToPolygons(maskToRle(m), { tolerance: 0 });
    expect(polys).toHaveLength(1);
    const xs = polys[0][0].map((p) => p[0]);
    const ys = polys[0][0].map((p) => p[1]);
    expect([Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)]).toEqual([30, 34, 12, 15]);
    expect(rasteriseEvenOdd(allRings(polys), 40, 20)).toEqual(m.data);
  });

  it('an empty mask has no polygons', () => {
    expect(maskToPolygons(maskFromRows(['...', '...']))).toEqual([]);
  });
});

describe("pixel-centre outlines (vertices: 'centres', for labelme and YOLO-seg)", () => {
  const SHAPES: Record<string, string[]> = {
    square: ['......', '.####.', '.####.', '.####.', '.####.', '......'],
    'L-shape': ['#....', '#....', '#....', '####.', '####.'],
    'ring with a hole': ['#######', '#######', '##...##', '##...##', '#######', '#######'],
    'ring one pixel wide': ['.....', '.###.', '.#.#.', '.###.', '.....'],
    '1-px line': ['.......', '.#####.', '.......'],
    '1-px diagonal': ['#....', '.#...', '..#..', '...#.', '....#'],
    'single pixel': ['...', '.#.', '...'],
    'two parts': ['##....', '##....', '......', '...###', '...###'],
    staircase: ['.......', '.#.....', '.##....', '.###...', '.####..', '.#####.', '.......'],
    'bar with a spur': ['......', '#####.', '..#...', '..#...', '......'],
  };
  const fill = (polys: Polygon[], w: number, h: number, single: boolean): Uint8Array => {
    // labelme: one shape per part, OR-ed; YOLO-seg: every part in one bridged outline.
    if (single) return rasteriseBoundaryInclusive([polygonsToSinglePath(polys, { vertices: 'centres' })], w, h);
    const union = new Uint8Array(w * h);
    for (const p of polys) rasteriseBoundaryInclusive([polygonToPath(p, { vertices: 'centres' })], w, h).forEach((v, i) => (union[i] |= v));
    return union;
  };

  for (const [name, rows] of Object.entries(SHAPES)) {
    it(`${name}: a boundary-inclusive filler (PIL with outline, cv2.fillPoly) gives the mask back; edge vertices do not`, () => {
      const m = maskFromRows(rows);
      const centres = maskToPolygons(m, { tolerance: 0, vertices: 'centres' });
      for (const p of centres) for (const ring of p) for (const [x, y] of ring) expect([x % 1, y % 1]).toEqual([0.5, 0.5]);
      expect(fill(centres, m.width, m.height, false)).toEqual(m.data);
      if (name !== 'two parts') expect(fill(centres, m.width, m.height, true)).toEqual(m.data);
      const edges = maskToPolygons(m, { tolerance: 0 });
      expect(fill(edges, m.width, m.height, false)).not.toEqual(m.data);
    });
  }

  it('bridges run through pixel centres; between two parts they paint only the background pixels they cross', () => {
    const m = maskFromRows(['##......', '##......', '........', '........', '.....###', '.....###']);
    const single = polygonsToSinglePath(maskToPolygons(m, { tolerance: 0, vertices: 'centres' }), { vertices: 'centres' });
    for (const [x, y] of single) expect([x % 1, y % 1]).toEqual([0.5, 0.5]);
    const filled = rasteriseBoundaryInclusive([single], m.width, m.height);
    // From pixel (1, 1) to (5, 4): a step along the row to (2, 1), then the diagonal (3, 2), (4, 3).
    const extra = [...filled.keys()].filter((i) => filled[i] !== m.data[i]).map((i) => [i % m.width, Math.floor(i / m.width)]);
    expect(extra).toEqual([[2, 1], [3, 2], [4, 3]]);
    const ringHole = maskFromRows(['.........', '.#######.', '.#######.', '.##...##.', '.##...##.', '.#######.', '.........']);
    const path = polygonToPath(maskToPolygons(ringHole, { tolerance: 0, vertices: 'centres' })[0], { vertices: 'centres' });
    expect(rasteriseBoundaryInclusive([path], ringHole.width, ringHole.height)).toEqual(ringHole.data);
  });

  it('a 10x10 square is traced through the centres of its corner pixels', () => {
    const m = maskFromRows(Array.from({ length: 12 }, (_, y) => (y === 0 || y === 11 ? '.'.repeat(12) : '.' + '#'.repeat(10) + '.')));
    const [[ring]] = maskToPolygons(m, { tolerance: 0, vertices: 'centres' });
    expect(new Set(ring.map((p) => p.join(',')))).toEqual(new Set(['1.5,1.5', '10.5,1.5', '10.5,10.5', '1.5,10.5']));
    expect(signedArea(ring)).toBeGreaterThan(0);
  });

  it('one-pixel-wide parts become a line, a single pixel one point repeated to three', () => {
    expect(maskToPolygons(maskFromRows(['...', '.#.', '...']), { vertices: 'centres' })).toEqual([[[[1.5, 1.5], [1.5, 1.5], [1.5, 1.5], [1.5, 1.5]]]]);
    const [[line]] = maskToPolygons(maskFromRows(['.......', '.#####.', '.......']), { tolerance: 0, vertices: 'centres' });
    expect(new Set(line.map((p) => p.join(',')))).toEqual(new Set(['1.5,1.5', '5.5,1.5']));
  });

  it('reproduces random masks exactly at tolerance 0, holes and parts included', () => {
    for (let seed = 1; seed <= 6; seed++) {
      const m = blobs(seed, 31 + seed, 23 + 2 * seed);
      const polys = maskToPolygons(m, { tolerance: 0, vertices: 'centres' });
      expect(fill(polys, m.width, m.height, false)).toEqual(m.data);
      for (const p of polys) for (const hole of p.slice(1)) expect(signedArea(hole)).toBeLessThanOrEqual(0);
    }
  });
});

describe('Douglas–Peucker on rings', () => {
  it('drops vertices within tolerance and keeps those beyond it', () => {
    const ring: Position[] = [[0, 0], [5, 0.3], [10, 0], [10, 10], [5, 12], [0, 10]];
    expect(simplifyRing(ring, 0.5)).toEqual([[0, 0], [10, 0], [10, 10], [5, 12], [0, 10]]);
    expect(simplifyRing(ring, 2.5)).toEqual([[0, 0], [10, 0], [10, 10], [0, 10]]);
    expect(simplifyRing(ring, 0.1)).toHaveLength(6);
  });

  it('keeps a ring it would collapse below a triangle', () => {
    const diamond: Position[] = [[1, 0.5], [1.5, 1], [1, 1.5], [0.5, 1]];
    expect(simplifyRing(diamond, 5)).toEqual(diamond);
  });

  it('handles long rings without recursion (100k vertices)', () => {
    const n = 100_000;
    const ring: Position[] = Array.from({ length: n }, (_, i) => {
      const a = (2 * Math.PI * i) / n;
      return [1000 * Math.cos(a), 1000 * Math.sin(a)];
    });
    const out = simplifyRing(ring, 0.5);
    expect(out.length).toBeGreaterThan(10);
    expect(out.length).toBeLessThan(1000);
  });
});

describe('COCO polygons with bridged holes', () => {
  it('one list per outline, open, holes joined by a bridge traversed both ways', () => {
    const m = maskFromRows(['#####', '#...#', '#...#', '#...#', '#####']);
    const polys = maskToPolygons(m, { tolerance: 0 });
    const flat = polygonToCoco(polys[0]);
    const outerN = polys[0][0].length - 1;
    const holeN = polys[0][1].length - 1;
    // outer + hole + the two repeated bridge end points
    expect(flat.length / 2).toBe(outerN + holeN + 2);
    const pts = [];
    for (let i = 0; i < flat.length; i += 2) pts.push(`${flat[i]},${flat[i + 1]}`);
    // the bridge: some segment a→b appears later as b→a
    const segs = new Set<string>();
    let bridged = false;
    for (let i = 0; i < pts.length; i++) {
      const a = pts[i];
      const b = pts[(i + 1) % pts.length];
      if (segs.has(`${b}>${a}`)) bridged = true;
      segs.add(`${a}>${b}`);
    }
    expect(bridged).toBe(true);
  });

  it('even-odd filling of the bridged polygon keeps the holes empty (own rasteriser)', () => {
    for (let seed = 3; seed <= 7; seed++) {
      const m = blobs(seed, 50, 40);
      const polys = maskToPolygons(m, { tolerance: 0 });
      const coco = polygonsToCoco(polys);
      const rings = coco.map((flat) => {
        const r: [number, number][] = [];
        for (let i = 0; i < flat.length; i += 2) r.push([flat[i], flat[i + 1]]);
        return r;
      });
      // Union of the per-list even-odd fills, like pycocotools' merge of frPoly results.
      const union = new Uint8Array(m.width * m.height);
      for (const r of rings) rasteriseEvenOdd([r], m.width, m.height).forEach((v, i) => (union[i] |= v));
      expect(union).toEqual(m.data);
    }
  });

  it("pycocotools' frPoly algorithm reproduces masks with holes from the COCO polygons", () => {
    const ring = maskFromRows([
      '..........',
      '.########.',
      '.########.',
      '.##....##.',
      '.##....##.',
      '.##....##.',
      '.########.',
      '.########.',
      '..........',
    ]);
    const polys = maskToPolygons(ring, { tolerance: 0 });
    const decoded = refDecodeCocoPolygons(polygonsToCoco(polys), ring.height, ring.width);
    expect(decoded.data).toEqual(ring.data);
    for (let seed = 11; seed <= 14; seed++) {
      const m = blobs(seed, 64, 48);
      const d = refDecodeCocoPolygons(polygonsToCoco(maskToPolygons(m, { tolerance: 1 })), m.height, m.width);
      expect(iou(d.data, m.data)).toBeGreaterThan(0.9);
    }
  });
});

describe('outline', () => {
  it('is the inner band of the given thickness, image border included', () => {
    const m = maskFromRows(['#######', '#######', '#######', '#######', '#######', '#######', '#######']);
    const crop = rleToCrop(maskToRle(m))!;
    const o1 = maskOutline(crop, 1);
    const o2 = maskOutline(crop, 2);
    const at = (o: Uint8Array, x: number, y: number) => o[y * 7 + x];
    expect([at(o1, 0, 0), at(o1, 1, 1), at(o1, 3, 3)]).toEqual([1, 0, 0]);
    expect([at(o2, 1, 1), at(o2, 2, 2), at(o2, 3, 3)]).toEqual([1, 0, 0]);
    expect(o1.reduce((a, b) => a + b, 0)).toBe(24);
  });

  it('marks pixels next to a hole', () => {
    const m = maskFromRows(['#####', '#####', '##.##', '#####', '#####']);
    const o = maskOutline(rleToCrop(maskToRle(m))!, 1);
    expect(o[2 * 5 + 1]).toBe(1);
    expect(o[1 * 5 + 1]).toBe(1); // diagonal neighbour of the hole (8-neighbourhood)
    expect(o[2 * 5 + 2]).toBe(0); // the hole itself is not mask
  });
});
