import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { decodeMaskPng } from '../src/image/encode.js';
import { loadImage } from '../src/image/load.js';
import {
  colorDistance,
  componentCounts,
  fixturePath,
  fixtureScene,
  makeScene,
  readFixtureIndex,
  readFixtureMask,
  toStoredOrientation,
  type Scene,
  type SceneOptions,
} from '../scripts/fixtures/index.js';
import { GENERATED_ENTRIES, generateFixtures } from '../scripts/fixtures/build.js';

/** Every invariant makeScene promises, checked from the outputs alone. */
function checkSceneInvariants(scene: Scene, minColorDistance = 80, minClearance = 3): void {
  const { width, height, image, labels } = scene;
  const regions = [scene.background, ...scene.shapes];
  expect(image.data.length).toBe(width * height * 3);
  expect(labels.length).toBe(width * height);
  // Colours well apart, background included.
  for (let a = 0; a < regions.length; a++) {
    for (let b = a + 1; b < regions.length; b++) {
      expect(colorDistance(regions[a].color, regions[b].color)).toBeGreaterThanOrEqual(minColorDistance);
    }
  }
  // Masks partition the image, agree with labels, and every pixel has exactly its region's colour.
  const cover = new Uint8Array(width * height);
  regions.forEach((region, label) => {
    let area = 0;
    for (let i = 0; i < cover.length; i++) {
      if (!region.mask.data[i]) continue;
      area++;
      cover[i]++;
      if (labels[i] !== label) throw new Error(`mask ${label} disagrees with labels at ${i}`);
      const [r, g, b] = image.data.subarray(i * 3, i * 3 + 3);
      if (r !== region.color[0] || g !== region.color[1] || b !== region.color[2]) throw new Error(`pixel ${i} is not flat`);
    }
    expect(area).toBe(region.area);
  });
  expect(cover.every((c) => c === 1)).toBe(true);
  // One 4-connected component per region.
  expect([...componentCounts(labels, width, regions.length)]).toEqual(regions.map(() => 1));
  // Bounding boxes are tight, interior points inside with the promised clearance.
  regions.forEach((region, label) => {
    const { x1, y1, x2, y2 } = region.bbox;
    let minX = width;
    let maxX = -1;
    let minY = height;
    let maxY = -1;
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] !== label) continue;
      const x = i % width;
      const y = Math.floor(i / width);
      minX = Math.min(minX, x);
      maxX = Math.max(maxX, x);
      minY = Math.min(minY, y);
      maxY = Math.max(maxY, y);
    }
    expect({ x1, y1, x2, y2 }).toEqual({ x1: minX, y1: minY, x2: maxX, y2: maxY });
    const { x, y } = region.interiorPoint;
    const c = region.clearance;
    expect(c).toBeGreaterThanOrEqual(minClearance);
    let outside = 0;
    for (let dy = -(c - 1); dy <= c - 1; dy++) {
      for (let dx = -(c - 1); dx <= c - 1; dx++) if (labels[(y + dy) * width + x + dx] !== label) outside++;
    }
    expect(outside).toBe(0);
  });
}

describe('makeScene', () => {
  it('is deterministic, and different seeds give different scenes', () => {
    const options: SceneOptions = { width: 160, height: 120, seed: 42, shapes: 5 };
    const a = makeScene(options);
    const b = makeScene(options);
    expect(Buffer.from(b.image.data).equals(Buffer.from(a.image.data))).toBe(true);
    expect(b.shapes.map((s) => s.geometry)).toEqual(a.shapes.map((s) => s.geometry));
    const c = makeScene({ ...options, seed: 43 });
    expect(Buffer.from(c.image.data).equals(Buffer.from(a.image.data))).toBe(false);
  });

  it('keeps its invariants across many seeds, sizes and shape counts', () => {
    const kinds = new Set<string>();
    for (let seed = 1; seed <= 12; seed++) {
      const scene = makeScene({ width: 96 + seed * 8, height: 160 - seed * 4, seed, shapes: 2 + (seed % 5) });
      scene.shapes.forEach((s) => kinds.add(s.kind));
      checkSceneInvariants(scene);
    }
    expect([...kinds].sort()).toEqual(['ellipse', 'polygon', 'rect', 'triangle']);
  });

  // Its speed is not asserted here: a timed unit test fails on a busy machine.
  it('generates a benchmark-sized scene', () => {
    const scene = makeScene({ width: 1024, height: 768, seed: 1, shapes: 10 });
    expect(scene.shapes).toHaveLength(10);
    expect(componentCounts(scene.labels, 1024, 11).every((n) => n === 1)).toBe(true);
  });

  it('draws explicit layouts as given and refuses one that splits a region', () => {
    const scene = makeScene({
      width: 100,
      height: 60,
      seed: 1,
      background: [0, 0, 0],
      shapes: [
        { kind: 'rect', x: 10, y: 10, width: 30, height: 20, color: [200, 0, 0] },
        { kind: 'ellipse', cx: 70, cy: 30, rx: 15, ry: 10, angle: 0 },
      ],
    });
    expect(scene.shapes[0]).toMatchObject({ color: [200, 0, 0], area: 600, bbox: { x1: 10, y1: 10, x2: 39, y2: 29 } });
    expect(colorDistance(scene.shapes[1].color, [0, 0, 0])).toBeGreaterThanOrEqual(80);
    // A bar across the whole image cuts the background in two.
    expect(() =>
      makeScene({ width: 50, height: 50, seed: 1, shapes: [{ kind: 'rect', x: 0, y: 20, width: 50, height: 10 }] }),
    ).toThrow(/background is split into 2 parts/);
  });

  it('says so when the shapes cannot fit', () => {
    expect(() => makeScene({ width: 16, height: 16, seed: 1, shapes: 40 })).toThrow(RangeError);
    expect(() => makeScene({ width: 4, height: 16, seed: 1 })).toThrow(/size/);
  });
});

describe('toStoredOrientation', () => {
  it('turns pixels the way each EXIF tag undoes', () => {
    // Display A B (one row). Tag 6 means "rotate 90° clockwise to display", so the file stores
    // the row turned counter-clockwise: a column with B on top. Tag 8 is the opposite turn.
    const image = { width: 2, height: 1, data: new Uint8Array([1, 1, 1, 2, 2, 2]) };
    const six = toStoredOrientation(image, 6);
    expect([six.width, six.height, six.data[0], six.data[3]]).toEqual([1, 2, 2, 1]);
    const eight = toStoredOrientation(image, 8);
    expect([eight.width, eight.height, eight.data[0], eight.data[3]]).toEqual([1, 2, 1, 2]);
    const two = toStoredOrientation(image, 2);
    expect([two.data[0], two.data[3]]).toEqual([2, 1]);
  });
});

describe('committed fixtures', () => {
  it('describe every file, with ground truth that partitions each scene', async () => {
    const index = await readFixtureIndex();
    expect(index.scenes.map((s) => s.name)).toEqual(['landscape', 'portrait', 'exif-orientation-6', 'near-colours', 'box']);
    for (const scene of index.scenes) {
      const regions = [scene.background, ...scene.shapes];
      const cover = new Uint8Array(scene.width * scene.height);
      for (const region of regions) {
        const mask = await readFixtureMask(region.mask);
        let area = 0;
        for (let i = 0; i < cover.length; i++) if (mask.data[i]) (cover[i] += 1), area++;
        expect(area).toBe(region.area);
        const p = region.interiorPoint;
        expect(mask.data[p.y * scene.width + p.x]).toBe(1);
        expect(region.clearance).toBeGreaterThanOrEqual(3);
      }
      expect(cover.every((c) => c === 1), scene.name).toBe(true);
    }
    expect(fixtureScene(index, 'landscape').width).toBeGreaterThan(fixtureScene(index, 'landscape').height);
    expect(fixtureScene(index, 'portrait').height).toBeGreaterThan(fixtureScene(index, 'portrait').width);
  });

  it('near-colours: shapes 1 and 2 touch and differ by 16 in one channel; all other pairs >= 80', async () => {
    const scene = fixtureScene(await readFixtureIndex(), 'near-colours');
    const [a, b] = scene.nearColors!.shapes.map((id) => scene.shapes.find((s) => s.id === id)!);
    expect(colorDistance(a.color, b.color)).toBe(16);
    expect(a.color.filter((v, c) => v !== b.color[c])).toHaveLength(1);
    const regions = [scene.background, ...scene.shapes];
    for (let i = 0; i < regions.length; i++) {
      for (let j = i + 1; j < regions.length; j++) {
        if (regions[i] === a && regions[j] === b) continue;
        expect(colorDistance(regions[i].color, regions[j].color)).toBeGreaterThanOrEqual(80);
      }
    }
    const [ma, mb] = await Promise.all([readFixtureMask(a.mask), readFixtureMask(b.mask)]);
    let touching = 0;
    for (let i = 0; i < ma.data.length; i++) if (ma.data[i] && (mb.data[i + 1] || mb.data[i + scene.width])) touching++;
    expect(touching).toBeGreaterThan(50);
  });

  it('box: the box around shape 1 also holds background and another shape', async () => {
    const scene = fixtureScene(await readFixtureIndex(), 'box');
    const { shape, box, pixelsInBox } = scene.boxPrompt!;
    const target = scene.shapes.find((s) => s.id === shape)!;
    expect(box).toEqual(target.bbox);
    expect(pixelsInBox[String(shape)]).toBe(target.area);
    expect(pixelsInBox.background).toBeGreaterThan(0.3 * target.area);
    expect(Object.keys(pixelsInBox).filter((k) => k !== 'background' && k !== String(shape)).length).toBeGreaterThan(0);
  });

  it('are reproduced by a fresh generation, and stay small', async () => {
    const fresh = await generateFixtures();
    const total = [...fresh.values()].reduce((n, v) => n + (typeof v === 'string' ? Buffer.byteLength(v) : v.length), 0);
    expect(total).toBeLessThan(1_000_000);
    const index = await readFixtureIndex();
    const listed = [
      ...index.scenes.flatMap((s) => [s.image, s.background.mask, ...s.shapes.map((x) => x.mask)]),
      ...index.variants.map((v) => v.image),
      ...index.badInputs.map((b) => b.file),
      'index.json',
      'README.md',
    ].sort();
    expect([...fresh.keys()].sort()).toEqual(listed);
    for (const relative of [...fresh.keys()].sort()) {
      expect(GENERATED_ENTRIES.some((e) => relative === e || relative.startsWith(`${e}/`))).toBe(true);
      const committed = await readFile(fixturePath(relative));
      const generated = fresh.get(relative)!;
      const bytes = typeof generated === 'string' ? Buffer.from(generated) : Buffer.from(generated);
      if (committed.equals(bytes)) continue;
      // Encoders may change their bytes between library versions: then compare what decodes.
      if (relative.startsWith('gt/')) {
        const [x, y] = await Promise.all([decodeMaskPng(committed), decodeMaskPng(bytes)]);
        expect(Buffer.from(y.data).equals(Buffer.from(x.data)), relative).toBe(true);
      } else if (!relative.includes('/') || relative.startsWith('formats/')) {
        const [x, y] = await Promise.all([loadImage(committed), loadImage(bytes)]);
        const lossy = relative.endsWith('.jpg');
        const maxDiff = x.data.reduce((m, v, i) => Math.max(m, Math.abs(v - y.data[i])), 0);
        expect(maxDiff, relative).toBeLessThanOrEqual(lossy ? 2 : 0);
      } else if (relative === 'bad/truncated.jpg') {
        await expect(loadImage(bytes)).rejects.toThrow(/truncated or corrupt JPEG data/);
      } else {
        expect.fail(`${relative} differs from a fresh build: run npm run build:fixtures`);
      }
    }
  });
});
