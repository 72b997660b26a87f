import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../src/util/errors.js';
import { loadImage } from '../src/image/load.js';
import { probeImage } from '../src/image/probe.js';
import type { RgbImage } from '../src/image/types.js';
import { damagedJpegs } from './helpers/damaged-jpeg.js';
import {
  fixturePath,
  fixtureScene,
  makeScene,
  readFixtureIndex,
  readFixtureMask,
  toStoredOrientation,
  type FixtureIndex,
  type FixtureScene,
  type Orientation,
  type PixelExpectation,
} from '../scripts/fixtures/index.js';

let index: FixtureIndex;
/** Each scene's pixels rebuilt from its ground-truth masks and colours (not from its image file). */
const expected = new Map<string, { image: RgbImage; regionOf: Uint8Array; regionKeys: string[] }>();

async function renderGroundTruth(scene: FixtureScene) {
  const data = new Uint8Array(scene.width * scene.height * 3);
  const regionOf = new Uint8Array(scene.width * scene.height).fill(255);
  const regions = [scene.background, ...scene.shapes];
  let overlaps = 0;
  for (let r = 0; r < regions.length; r++) {
    const mask = await readFixtureMask(regions[r].mask);
    expect([mask.width, mask.height]).toEqual([scene.width, scene.height]);
    for (let i = 0; i < mask.data.length; i++) {
      if (!mask.data[i]) continue;
      if (regionOf[i] !== 255) overlaps++;
      regionOf[i] = r;
      data.set(regions[r].color, i * 3);
    }
  }
  expect(overlaps).toBe(0); // masks do not overlap
  expect(regionOf.includes(255)).toBe(false); // and cover the image
  const regionKeys = ['background', ...scene.shapes.map((s) => String(s.id))];
  return { image: { width: scene.width, height: scene.height, data }, regionOf, regionKeys };
}

beforeAll(async () => {
  index = await readFixtureIndex();
  for (const scene of index.scenes) expected.set(scene.name, await renderGroundTruth(scene));
});

/** Check loaded pixels against a scene's ground truth under an expectation from index.json. */
function checkPixels(loaded: RgbImage, sceneName: string, expectation: PixelExpectation): void {
  const ref = expected.get(sceneName)!;
  expect([loaded.width, loaded.height]).toEqual([ref.image.width, ref.image.height]);
  expect(loaded.data.length).toBe(loaded.width * loaded.height * 3);
  const want = new Uint8Array(ref.image.data.length);
  let tolerance = 0;
  switch (expectation.kind) {
    case 'exact':
      want.set(ref.image.data);
      break;
    case 'tolerance':
      want.set(ref.image.data);
      tolerance = expectation.maxChannelDiff;
      break;
    case 'gray':
      for (let i = 0; i < ref.regionOf.length; i++) {
        const [r, g, b] = ref.image.data.subarray(i * 3, i * 3 + 3);
        want.fill(Math.round(0.299 * r + 0.587 * g + 0.114 * b), i * 3, i * 3 + 3);
      }
      break;
    case 'alpha-on-white':
      for (let i = 0; i < ref.regionOf.length; i++) {
        const alpha = expectation.alpha[ref.regionKeys[ref.regionOf[i]]] ?? 255;
        for (let c = 0; c < 3; c++) want[i * 3 + c] = Math.round((ref.image.data[i * 3 + c] * alpha + 255 * (255 - alpha)) / 255);
      }
      tolerance = 1;
      break;
  }
  let max = 0;
  let sum = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(loaded.data[i] - want[i]);
    sum += d;
    if (d > max) max = d;
  }
  expect(max).toBeLessThanOrEqual(tolerance);
  if (expectation.kind === 'tolerance') expect(sum / want.length).toBeLessThanOrEqual(expectation.maxMeanDiff);
}

describe('loadImage on the committed fixtures', () => {
  it('loads every scene image as its ground truth, in display orientation', async () => {
    for (const scene of index.scenes) {
      const loaded = await loadImage(fixturePath(scene.image));
      expect(loaded.source).toBe(fixturePath(scene.image));
      checkPixels(loaded, scene.name, scene.expect);
    }
  });

  it('applies EXIF orientation 6: a 240x320 stored JPEG loads as the 320x240 scene', async () => {
    const scene = fixtureScene(index, 'exif-orientation-6');
    expect(scene.stored).toEqual({ width: 240, height: 320, orientation: 6 });
    const raw = await sharp(fixturePath(scene.image)).metadata();
    expect([raw.width, raw.height, raw.orientation]).toEqual([240, 320, 6]);
    const loaded = await loadImage(fixturePath(scene.image));
    expect([loaded.width, loaded.height]).toEqual([320, 240]);
    // Every shape's interior point has the shape's colour: a wrong rotation would miss most.
    for (const shape of scene.shapes) {
      const i = (shape.interiorPoint.y * loaded.width + shape.interiorPoint.x) * 3;
      for (let c = 0; c < 3; c++) expect(Math.abs(loaded.data[i + c] - shape.color[c])).toBeLessThanOrEqual(4);
    }
  });

  it('loads every format variant as the reference scene', async () => {
    expect(index.variants.map((v) => v.format)).toEqual(
      expect.arrayContaining(['webp', 'tiff', 'gif', 'png', 'jpeg']),
    );
    for (const variant of index.variants) {
      const loaded = await loadImage(fixturePath(variant.image));
      try {
        checkPixels(loaded, variant.scene, variant.expect);
      } catch (err) {
        throw new Error(`${variant.name}: ${(err as Error).message}`);
      }
    }
  });

  it('flattens the transparent background onto white, not black', async () => {
    const loaded = await loadImage(fixturePath('formats/landscape-rgba.png'));
    const p = fixtureScene(index, 'landscape').background.interiorPoint;
    const i = (p.y * loaded.width + p.x) * 3;
    expect([...loaded.data.subarray(i, i + 3)]).toEqual([255, 255, 255]);
  });

  it('turns grayscale, 16-bit and CMYK inputs into 3-channel 8-bit images', async () => {
    for (const file of ['formats/landscape-gray.png', 'formats/landscape-16bit.png', 'formats/landscape-cmyk.jpg']) {
      const meta = await sharp(fixturePath(file)).metadata();
      expect(meta.space === 'b-w' || meta.depth === 'ushort' || meta.space === 'cmyk').toBe(true);
      const loaded = await loadImage(fixturePath(file));
      expect(loaded.data).toBeInstanceOf(Uint8Array);
      expect(loaded.data.length).toBe(loaded.width * loaded.height * 3);
    }
  });

  it('keeps the CMYK regions distinct and flat', async () => {
    const scene = fixtureScene(index, 'landscape');
    const loaded = await loadImage(fixturePath('formats/landscape-cmyk.jpg'));
    const colours = [scene.background, ...scene.shapes].map((r) => {
      const i = (r.interiorPoint.y * loaded.width + r.interiorPoint.x) * 3;
      return [...loaded.data.subarray(i, i + 3)];
    });
    for (let a = 0; a < colours.length; a++) {
      for (let b = a + 1; b < colours.length; b++) {
        expect(Math.hypot(...colours[a].map((v, c) => v - colours[b][c]))).toBeGreaterThan(30);
      }
    }
  });

  it('refuses every bad input with one line naming the file and the reason', async () => {
    expect(index.badInputs.map((b) => b.name).sort()).toEqual(['bomb', 'empty', 'not-an-image', 'truncated']);
    for (const bad of index.badInputs) {
      const err = await loadImage(fixturePath(bad.file), { source: bad.file }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).exitCode).toBe(1);
      expect((err as Error).message).toBe(`${bad.file}: ${bad.reason}`);
      expect((err as Error).message).not.toContain('\n');
    }
  });
});

describe('loadImage errors', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'samlite-image-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names a missing file and a folder', async () => {
    await expect(loadImage(join(dir, 'nope.jpg'), { source: 'nope.jpg' })).rejects.toThrow(/^nope\.jpg: no such file$/);
    await expect(loadImage(dir, { source: 'photos' })).rejects.toThrow(/^photos: is a directory, not an image file$/);
  });

  it('refuses a named pipe, a device and a symbolic link loop at once, naming each', async () => {
    const fifo = join(dir, 'x.jpg');
    execFileSync('mkfifo', [fifo]);
    // Opening a pipe for reading used to wait for a writer for ever.
    await expect(loadImage(fifo, { source: 'x.jpg' })).rejects.toThrow(/^x\.jpg: not a regular file \(a named pipe\)$/);
    await expect(probeImage(fifo, { source: 'x.jpg' })).rejects.toThrow(/^x\.jpg: not a regular file \(a named pipe\)$/);
    await expect(loadImage('/dev/zero', { source: 'zero' })).rejects.toThrow(/^zero: not a regular file \(a character device\)$/);
    await symlink('loop-b.png', join(dir, 'loop-a.png'));
    await symlink('loop-a.png', join(dir, 'loop-b.png'));
    await expect(loadImage(join(dir, 'loop-a.png'), { source: 'loop-a.png' })).rejects.toThrow(/^loop-a\.png: a symbolic link loop/);
  });

  it('refuses a truncated PNG (libvips would otherwise decode it with filler)', async () => {
    const scene = makeScene({ width: 200, height: 150, seed: 9 });
    const png = await sharp(scene.image.data, { raw: { width: 200, height: 150, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
    const cut = png.subarray(0, Math.floor(png.length * 0.6));
    // The premise: without failOn, sharp returns an image from these bytes.
    await expect(sharp(cut, { failOn: 'none' }).raw().toBuffer()).resolves.toBeInstanceOf(Buffer);
    await expect(loadImage(cut, { source: 'cut.png' })).rejects.toThrow(/^cut\.png: truncated or corrupt PNG data$/);
  });

  it('refuses a JPEG cut short and closed with an end marker, or with garbage in its scan data', async () => {
    const scene = makeScene({ width: 200, height: 150, seed: 4 });
    const jpeg = await sharp(scene.image.data, { raw: { width: 200, height: 150, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    const { cutWithEnd, scanGarbage, padded } = damagedJpegs(jpeg);
    for (const [name, bytes] of [['cut.jpg', cutWithEnd], ['garbage.jpg', scanGarbage]] as const) {
      // The premise: libjpeg only warns about these, and at sharp's 'error' level they decode.
      await expect(sharp(bytes, { failOn: 'error' }).raw().toBuffer(), name).resolves.toBeInstanceOf(Buffer);
      await expect(loadImage(bytes, { source: name })).rejects.toThrow(new RegExp(`^${name.replace('.', '\\.')}: truncated or corrupt JPEG data$`));
    }
    // Padding between segments is only a warning too, which every viewer ignores: accepted.
    await expect(sharp(padded, { failOn: 'warning' }).raw().toBuffer()).rejects.toThrow(/extraneous bytes before marker/);
    expect((await loadImage(padded)).data).toEqual((await loadImage(jpeg)).data);
  });

  it('refuses a JPEG both padded and cut short (libvips stops at the padding warning, the first)', async () => {
    const scene = makeScene({ width: 200, height: 150, seed: 4 });
    const jpeg = await sharp(scene.image.data, { raw: { width: 200, height: 150, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    const { paddedCut } = damagedJpegs(jpeg);
    // The premise: at 'warning' only the padding is reported, and at 'error' the cut decodes.
    const first = await sharp(paddedCut, { failOn: 'warning' }).raw().toBuffer().then(() => '', (err: Error) => err.message);
    expect(first).toMatch(/extraneous bytes before marker/);
    expect(first).not.toMatch(/premature end/i);
    await expect(sharp(paddedCut, { failOn: 'error' }).raw().toBuffer()).resolves.toBeInstanceOf(Buffer);
    await expect(loadImage(paddedCut, { source: 'padded-cut.jpg' })).rejects.toThrow(/^padded-cut\.jpg: truncated or corrupt JPEG data$/);
  });

  it('words a damaged header by its magic bytes, and text as not an image', async () => {
    const png = await readFixtureBytes('landscape.png');
    await expect(loadImage(png.subarray(0, 20), { source: 'h.png' })).rejects.toThrow(/^h\.png: truncated or corrupt PNG data$/);
    await expect(loadImage(Buffer.from('{"not": "an image"}'), { source: 'a.json' })).rejects.toThrow(
      /^a\.json: not an image \(unrecognised format\)$/,
    );
  });

  it('labels byte input as <buffer> unless given a source', async () => {
    await expect(loadImage(new Uint8Array(0))).rejects.toThrow(/^<buffer>: empty file$/);
  });

  it('enforces a configurable pixel limit on the header, before decoding', async () => {
    const file = fixturePath('landscape.png');
    await expect(loadImage(file, { maxPixels: 320 * 240 })).resolves.toMatchObject({ width: 320, height: 240 });
    await expect(loadImage(file, { maxPixels: 320 * 240 - 1, source: 'l.png' })).rejects.toThrow(
      /^l\.png: 320x240 = 76800 pixels is over the pixel limit of 76799 pixels \(--max-pixels\)$/,
    );
    // The bomb passes a raised limit's header check and then fails fast as the empty PNG it is.
    const bomb = fixturePath('bad/bomb.png');
    await expect(loadImage(bomb, { source: 'b.png', maxPixels: 1e6 })).rejects.toThrow(/over the pixel limit of 1 MP/);
    await expect(loadImage(bomb, { source: 'b.png', maxPixels: Infinity })).rejects.toThrow(/^b\.png: truncated or corrupt PNG data$/);
  });

  it('rejects a nonsensical maxPixels as a usage error', async () => {
    await expect(loadImage(fixturePath('landscape.png'), { maxPixels: 0 })).rejects.toBeInstanceOf(UsageError);
    await expect(loadImage(fixturePath('landscape.png'), { maxPixels: Number.NaN })).rejects.toBeInstanceOf(UsageError);
  });
});

function readFixtureBytes(relative: string): Promise<Buffer> {
  return readFile(fixturePath(relative));
}

describe('loadImage conversions (in-memory inputs)', () => {
  const scene = makeScene({ width: 64, height: 48, seed: 31, shapes: 3 });
  const rawRgb = (image: RgbImage) => ({ raw: { width: image.width, height: image.height, channels: 3 as const } });

  it('applies all eight EXIF orientations exactly', async () => {
    for (const orientation of [1, 2, 3, 4, 5, 6, 7, 8] as Orientation[]) {
      const stored = toStoredOrientation(scene.image, orientation);
      const png = await sharp(stored.data, rawRgb(stored)).withMetadata({ orientation }).png().toBuffer();
      const loaded = await loadImage(png);
      expect([loaded.width, loaded.height]).toEqual([64, 48]);
      expect(Buffer.from(loaded.data).equals(Buffer.from(scene.image.data)), `orientation ${orientation}`).toBe(true);
      const info = await probeImage(png);
      expect([info.width, info.height, info.orientation]).toEqual([64, 48, orientation]);
    }
  });

  it('converts through an embedded ICC profile (Display P3) back to sRGB', async () => {
    const p3 = await sharp(scene.image.data, rawRgb(scene.image)).withIccProfile('p3').png().toBuffer();
    const storedValues = await sharp(p3, { ignoreIcc: true }).raw().toBuffer();
    const maxDiff = (a: Uint8Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - scene.image.data[i])), 0);
    expect(maxDiff(storedValues)).toBeGreaterThan(5); // the file really holds other numbers
    expect(maxDiff((await loadImage(p3)).data)).toBeLessThanOrEqual(2);
  });

  it('flattens grey + alpha and 16-bit RGBA onto white', async () => {
    const n = 16 * 8;
    const ga = new Uint8Array(n * 2);
    const rgba16 = new Uint16Array(n * 4);
    for (let i = 0; i < n; i++) {
      const opaque = i % 2 === 0;
      ga.set([77, opaque ? 255 : 0], i * 2);
      rgba16.set([10 * 257, 40 * 257, 200 * 257, opaque ? 65535 : 0], i * 4);
    }
    const gaPng = await sharp(ga, { raw: { width: 16, height: 8, channels: 2 } }).toColourspace('b-w').png().toBuffer();
    const rgbaPng = await sharp(rgba16, { raw: { width: 16, height: 8, channels: 4 } }).toColourspace('rgb16').png().toBuffer();
    const g = await loadImage(gaPng);
    expect([...g.data.subarray(0, 6)]).toEqual([77, 77, 77, 255, 255, 255]);
    const c = await loadImage(rgbaPng);
    expect([...c.data.subarray(0, 6)]).toEqual([10, 40, 200, 255, 255, 255]);
  });
});

describe('probeImage', () => {
  it('reads the displayed size and format without decoding', async () => {
    const info = await probeImage(fixturePath('exif-orientation-6.jpg'));
    expect(info).toMatchObject({ format: 'jpeg', width: 320, height: 240, orientation: 6, hasAlpha: false, pages: 1 });
    expect((await probeImage(fixturePath('formats/landscape.avif'))).format).toBe('avif');
    expect((await probeImage(fixturePath('formats/landscape.gif'))).pages).toBe(2);
    expect((await probeImage(fixturePath('formats/landscape-rgba.png'))).hasAlpha).toBe(true);
  });

  it('gives the same one-line errors as loadImage for what a header can tell', async () => {
    for (const name of ['empty', 'not-an-image', 'bomb']) {
      const bad = index.badInputs.find((b) => b.name === name)!;
      await expect(probeImage(fixturePath(bad.file), { source: bad.file })).rejects.toThrow(`${bad.file}: ${bad.reason}`);
    }
    // A truncated body is only found by decoding.
    await expect(probeImage(fixturePath('bad/truncated.jpg'))).resolves.toMatchObject({ format: 'jpeg' });
    await expect(probeImage('/nonexistent/x.png', { source: 'x.png' })).rejects.toThrow(/^x\.png: no such file/);
  });
});

// Keeps the bad-input files honest: they are what they claim to be.
describe('bad fixture files', () => {
  it('are an empty file, a JPEG prefix, text, and a tiny PNG claiming 20000x20000', async () => {
    expect((await stat(fixturePath('bad/empty.png'))).size).toBe(0);
    const truncated = await readFixtureBytes('bad/truncated.jpg');
    expect([...truncated.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect([...truncated.subarray(-2)]).not.toEqual([0xff, 0xd9]);
    expect((await readFixtureBytes('bad/not-an-image.png')).toString('utf8')).toMatch(/^This is a text file/);
    const bomb = await readFixtureBytes('bad/bomb.png');
    expect(bomb.length).toBeLessThan(100);
    const meta = await sharp(bomb, { limitInputPixels: false }).metadata();
    expect([meta.width, meta.height]).toEqual([20000, 20000]);
  });
});
