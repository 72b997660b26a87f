/**
 * YOLO-seg labels read back the way ultralytics' dataset reads them: every outline resampled
 * by vertex index (test/helpers/ultralytics-resample.ts, both versions of resample_segments in
 * use), truncated to whole pixels and filled boundary-inclusive as cv2.fillPoly does. The
 * writer's corners must all survive and the fill must be the mask again (for masks of
 * several parts: the fill of the line as written, bridge pixels included).
 */
import { describe, expect, it } from 'vitest';
import { yoloSegLabels, yoloSegOutline, yoloSegVertexCount, type Category, type DatasetImage } from '../src/datasets/index.js';
import { normalised as normalised6 } from '../src/datasets/yolo-seg.js';
import { densifyPath } from '../src/masks/densify.js';
import { polygonsToSinglePath, rleToPolygons, type Position } from '../src/masks/polygons.js';
import { maskToRle } from '../src/masks/rle.js';
import type { BinaryMask } from '../src/masks/types.js';
import { fillIntegerRing } from './helpers/polygon-raster.js';
import { resampleCount, resampleSegment, ultralyticsOutlines, type ResampleVersion } from './helpers/ultralytics-resample.js';

const CATEGORIES: Category[] = [{ id: 1, name: 'thing' }];
const VERSIONS: ResampleVersion[] = ['index-only', 'keeps-vertices'];

function mask(width: number, height: number, inside: (x: number, y: number) => boolean): BinaryMask {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = inside(x, y) ? 1 : 0;
  return { width, height, data };
}

function image(masks: readonly BinaryMask[]): DatasetImage {
  return {
    fileName: 'x.png',
    path: '/nowhere/x.png',
    width: masks[0].width,
    height: masks[0].height,
    annotations: masks.map((m) => ({ rle: maskToRle(m), categoryId: 1, predictedIou: 1 })),
  };
}

// Large enough that 1000 points round an outline are more than a pixel apart.
const W = 640;
const H = 480;
const rect = (x: number, y: number, x0: number, y0: number, x1: number, y1: number) => x >= x0 && x < x1 && y >= y0 && y < y1;
/** Long straight edges, a hole, 45° edges, a round outline, and two parts. */
const SHAPES: Record<string, BinaryMask> = {
  rectangle: mask(W, H, (x, y) => rect(x, y, 40, 32, 600, 440)),
  'L-shape': mask(W, H, (x, y) => rect(x, y, 20, 20, 620, 100) || rect(x, y, 20, 20, 120, 460)),
  frame: mask(W, H, (x, y) => rect(x, y, 80, 60, 560, 420) && !rect(x, y, 140, 120, 500, 360)),
  diamond: mask(W, H, (x, y) => Math.abs(x - 320) + Math.abs(y - 240) <= 220),
  disc: mask(W, H, (x, y) => (x - 320) ** 2 + (y - 240) ** 2 <= 200 ** 2),
  'two parts': mask(W, H, (x, y) => rect(x, y, 20, 20, 280, 200) || rect(x, y, 360, 240, 620, 460)),
  // Hundreds of vertices along the top, three long straight sides: index-spaced samples
  // crowd the top and leave one or two per long side.
  'serrated rectangle': mask(W, H, (x, y) => rect(x, y, 40, 40, 600, 440) || (rect(x, y, 40, 32, 600, 40) && x % 4 < 2)),
};

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** The label line's own points as ultralytics reads them, unresampled, in whole pixels. */
function writtenPixels(line: string, width: number, height: number): [number, number][] {
  const v = line.split(' ').slice(1).map((s) => Math.fround(Number(s)));
  const out: [number, number][] = [];
  for (let i = 0; i < v.length; i += 2) out.push([Math.trunc(Math.fround(v[i] * width)), Math.trunc(Math.fround(v[i + 1] * height))]);
  return out;
}

describe('YOLO-seg outlines through ultralytics resampling', () => {
  for (const [name, m] of Object.entries(SHAPES)) {
    for (const tolerance of [0, 0.3]) {
      it(`${name}, tolerance ${tolerance}: every corner survives and the fill is the mask, in both resample_segments versions`, () => {
        const text = yoloSegLabels(image([m]), CATEGORIES, { polygonTolerance: tolerance });
        const line = text.trimEnd();
        const corners = writtenPixels(line, W, H);
        expect(999 % corners.length).toBe(0);
        const asWritten = fillIntegerRing(corners, W, H);
        if (tolerance === 0 && name !== 'two parts') expect(same(asWritten, m.data)).toBe(true);
        for (const version of VERSIONS) {
          const [resampled] = ultralyticsOutlines(text, W, H, version);
          const got = new Set(resampled.map(([x, y]) => `${x},${y}`));
          const lost = corners.filter(([x, y]) => !got.has(`${x},${y}`));
          expect(lost, version).toEqual([]);
          const filled = fillIntegerRing(resampled, W, H);
          // Two parts: the fill as written includes the bridge's pixels; resampling adds none.
          expect(same(filled, asWritten), version).toBe(true);
        }
      });
    }
  }

  it('the index-only version cuts the corners of the outline as written before (every vertex once), not of the one written now', () => {
    const m = SHAPES['serrated rectangle'];
    const readBack = (path: readonly Position[]) => {
      const normalised = path.map(([x, y]) => [Math.fround(Number(normalised6(x, W))), Math.fround(Number(normalised6(y, H)))] as [number, number]);
      const points = resampleSegment(normalised, 1000, 'index-only').map(([x, y]): [number, number] => [Math.trunc(Math.fround(x * W)), Math.trunc(Math.fround(y * H))]);
      return fillIntegerRing(points, W, H);
    };
    const lostPixels = (filled: Uint8Array) => m.data.reduce((n, v, i) => n + (v && !filled[i] ? 1 : 0), 0);
    const before = polygonsToSinglePath(rleToPolygons(maskToRle(m), { tolerance: 0, vertices: 'centres' }), { vertices: 'centres' });
    expect(999 % before.length).not.toBe(0);
    expect(lostPixels(readBack(before))).toBeGreaterThan(1000);
    expect(same(readBack(yoloSegOutline(maskToRle(m), 0)), m.data)).toBe(true);
  });

  it('an image with an outline of more than 999 vertices: the newer version resamples to more points and keeps both lines whole', () => {
    const width = 1100;
    const height = 40;
    const comb = mask(width, height, (x, y) => (y >= 2 && y < 8 && x >= 2 && x < 1098) || (y >= 8 && y < 36 && x >= 2 && x < 1098 && x % 4 < 2));
    const square = mask(width, height, (x, y) => rect(x, y, 500, 37, 540, 40));
    const text = yoloSegLabels(image([comb, square]), CATEGORIES, { polygonTolerance: 0 });
    const lines = text.trimEnd().split('\n');
    const written = lines.map((l) => writtenPixels(l, width, height));
    expect(written[0].length).toBeGreaterThan(999);
    expect(999 % written[1].length).toBe(0);
    expect(resampleCount(written.map((w) => w.length), 'keeps-vertices')).toBe(written[0].length + 1);
    const outlines = ultralyticsOutlines(text, width, height, 'keeps-vertices');
    [comb, square].forEach((m, k) => expect(same(fillIntegerRing(outlines[k], width, height), m.data)).toBe(true));
    // The older version must drop comb corners (1000 points for more than 999 corners) but
    // still keeps the square whole.
    const older = ultralyticsOutlines(text, width, height, 'index-only');
    expect(same(fillIntegerRing(older[1], width, height), square.data)).toBe(true);
  });
});

describe('vertex counts and densifying', () => {
  it('picks the smallest divisor of 999 that holds the outline, at least 27 with 45° edges, the count itself past 999', () => {
    expect([1, 3, 4, 9, 10, 27, 28, 37, 38, 111, 112, 333, 334, 999].map((n) => yoloSegVertexCount(n))).toEqual([
      3, 3, 9, 9, 27, 27, 37, 37, 111, 111, 333, 333, 999, 999,
    ]);
    expect(yoloSegVertexCount(4, true)).toBe(27);
    expect(yoloSegVertexCount(1000)).toBe(1000);
    expect(yoloSegVertexCount(5000, true)).toBe(5000);
  });

  it('adds vertices on pixel centres along the edges, the outline unchanged, then repeats vertices when they run out', () => {
    const square: [number, number][] = [
      [0.5, 0.5],
      [4.5, 0.5],
      [4.5, 4.5],
      [0.5, 4.5],
    ];
    const nine = densifyPath(square, 9);
    expect(nine).toHaveLength(9);
    // Every vertex a pixel centre on the square's boundary, in order round it.
    for (const [x, y] of nine) {
      expect([x % 1, y % 1]).toEqual([0.5, 0.5]);
      expect(x === 0.5 || x === 4.5 || y === 0.5 || y === 4.5).toBe(true);
    }
    expect(nine.filter(([x, y]) => square.some(([a, b]) => a === x && b === y))).toHaveLength(4);
    // 12 centres lie on the boundary besides the corners: past 16 vertices, repeats.
    const many = densifyPath(square, 27);
    expect(many).toHaveLength(27);
    expect(new Set(many.map(([x, y]) => `${x},${y}`)).size).toBe(16);
    expect(densifyPath([[3.5, 2.5]], 3)).toEqual([
      [3.5, 2.5],
      [3.5, 2.5],
      [3.5, 2.5],
    ]);
    expect(densifyPath(square, 4)).toEqual(square);
  });

  it("yoloSegOutline is the label line's outline, in pixels", () => {
    const m = SHAPES.frame;
    const outline = yoloSegOutline(maskToRle(m), 0);
    expect(999 % outline.length).toBe(0);
    expect(same(fillIntegerRing(outline.map(([x, y]) => [Math.trunc(x), Math.trunc(y)]), W, H), m.data)).toBe(true);
  });
});
