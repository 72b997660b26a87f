import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/util/errors.js';
import {
  assertNoExistingOutputs,
  assertNoOutputCollisions,
  everythingOutputFiles,
  everythingOutputPaths,
  findOutputCollisions,
  imageStem,
  looksLikeSamliteOutput,
  outputsComplete,
  relativeInputName,
  segmentOutputFiles,
  segmentOutputPath,
} from '../src/writers/naming.js';

describe('output names', () => {
  it('are the input stem plus a suffix in the out folder', () => {
    const t = { input: '/photos/cat.v2.jpg', outDir: '/out' };
    expect(imageStem(t.input)).toBe('cat.v2');
    expect(segmentOutputPath(t, 'mask', 0)).toBe('/out/cat.v2.0.mask.png');
    expect(segmentOutputPath(t, 'overlay', 3)).toBe('/out/cat.v2.3.overlay.png');
    expect(segmentOutputPath(t, 'cutout', 1, 2)).toBe('/out/cat.v2.1.m2.cutout.png');
    expect(segmentOutputPath(t, 'json', 0, 0)).toBe('/out/cat.v2.0.m0.json');
    expect(everythingOutputPaths(t)).toEqual({
      json: '/out/cat.v2.json',
      labels: '/out/cat.v2.labels.png',
      overlay: '/out/cat.v2.overlay.png',
      masksDir: '/out/cat.v2.masks',
      masksIndex: '/out/cat.v2.masks/metadata.csv',
      geojson: '/out/cat.v2.geojson',
      cocoPolygons: '/out/cat.v2.coco-polygons.json',
    });
  });

  it('keep the sub-path below a walked folder', () => {
    const t = { input: '/shots/a/b/x.png', root: '/shots', outDir: '/out' };
    expect(everythingOutputPaths(t).json).toBe('/out/a/b/x.json');
    expect(relativeInputName(t)).toBe('a/b/x.png');
    expect(relativeInputName({ input: '/shots/x.png' })).toBe('x.png');
    expect(() => relativeInputName({ input: '/elsewhere/x.png', root: '/shots' })).toThrow(UsageError);
  });

  it('list every file of an image for the chosen formats', () => {
    const t = { input: 'x.jpg', outDir: 'o' };
    expect(segmentOutputFiles(t, ['mask', 'json'], 2)).toEqual(['o/x.0.mask.png', 'o/x.0.json', 'o/x.1.mask.png', 'o/x.1.json']);
    expect(segmentOutputFiles(t, ['mask'], 1, 3)).toEqual(['o/x.0.m0.mask.png', 'o/x.0.m1.mask.png', 'o/x.0.m2.mask.png']);
    expect(everythingOutputFiles(t, ['polygons', 'masks', 'json'])).toEqual([
      'o/x.geojson',
      'o/x.coco-polygons.json',
      'o/x.masks/metadata.csv',
      'o/x.json',
    ]);
  });

  it('reject negative or fractional indices', () => {
    expect(() => segmentOutputPath({ input: 'x.jpg', outDir: 'o' }, 'mask', -1)).toThrow(RangeError);
    expect(() => segmentOutputPath({ input: 'x.jpg', outDir: 'o' }, 'mask', 0, 1.5)).toThrow(RangeError);
  });

  it('recognise samlite outputs so a folder walk can skip them', () => {
    for (const p of ['o/x.0.mask.png', 'o/x.2.m1.overlay.png', 'o/x.labels.png', 'o/x.overlay.png', 'o/x.masks/3.png'])
      expect(looksLikeSamliteOutput(p)).toBe(true);
    for (const p of ['o/x.png', 'o/mask.png', 'o/x.0.png', 'o/overlay.jpg']) expect(looksLikeSamliteOutput(p)).toBe(false);
  });
});

describe('collisions', () => {
  it('two inputs with the same stem in one out folder collide, naming both', () => {
    const plans = ['a/x.jpg', 'b/x.png'].map((input) => ({
      input,
      files: everythingOutputFiles({ input, outDir: 'out' }, ['json', 'labels']),
    }));
    const found = findOutputCollisions(plans);
    expect(found.map((c) => c.path)).toEqual(['out/x.json', 'out/x.labels.png']);
    expect(() => assertNoOutputCollisions(plans)).toThrow(/a\/x\.jpg and b\/x\.png would both write out\/x\.json/);
  });

  it('walking the common folder keeps them apart', () => {
    const plans = ['/s/a/x.jpg', '/s/b/x.jpg'].map((input) => ({
      input,
      files: everythingOutputFiles({ input, root: '/s', outDir: '/out' }, ['json']),
    }));
    expect(findOutputCollisions(plans)).toEqual([]);
  });

  it('is found across names that differ only by case when asked to fold case', () => {
    const plans = ['A.jpg', 'a.png'].map((input) => ({ input, files: everythingOutputFiles({ input, outDir: 'o' }, ['json']) }));
    expect(findOutputCollisions(plans, { caseInsensitive: false })).toEqual([]);
    expect(findOutputCollisions(plans, { caseInsensitive: true })).toHaveLength(1);
  });

  it('an output that is one of the inputs is refused', () => {
    const plans = [
      { input: 'o/x.labels.png', files: [] },
      { input: 'x.jpg', files: everythingOutputFiles({ input: 'x.jpg', outDir: 'o' }, ['labels']) },
    ];
    expect(() => assertNoOutputCollisions(plans)).toThrow(/would overwrite the input o\/x\.labels\.png/);
  });

  it('a file one input plans twice, or a run-wide file an input would write, is refused', () => {
    const twice = [{ input: 'x.jpg', files: ['o/x.json', 'o/x.json'] }];
    expect(findOutputCollisions(twice)).toEqual([{ path: 'o/x.json', first: 'x.jpg', second: 'x.jpg', kind: 'twice' }]);
    expect(() => assertNoOutputCollisions(twice)).toThrow('x.jpg: two --format outputs would both write o/x.json; write them to different --out folders');
    const run = [{ input: 'coco.jpg', files: ['o/coco.json'] }, { input: 'the dataset', files: ['o/coco.json'], runWide: true }];
    expect(findOutputCollisions(run)).toEqual([{ path: 'o/coco.json', first: 'the dataset', second: 'coco.jpg', kind: 'run' }]);
    expect(() => assertNoOutputCollisions(run)).toThrow('coco.jpg would write o/coco.json, one of the dataset; rename the input');
  });

  it('the same input listed twice is not a collision', () => {
    const files = everythingOutputFiles({ input: 'x.jpg', outDir: 'o' }, ['json']);
    expect(findOutputCollisions([{ input: 'x.jpg', files }, { input: './x.jpg', files }])).toEqual([]);
  });
});

describe('existing outputs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'samlite-naming-'));
    await mkdir(join(dir, 'x.masks'));
    await writeFile(join(dir, 'x.json'), '{}');
    await writeFile(join(dir, 'x.masks', 'metadata.csv'), 'id\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('an existing output without --overwrite is a one-line error naming it', async () => {
    const files = everythingOutputFiles({ input: 'x.jpg', outDir: dir }, ['labels', 'json']);
    const err = await assertNoExistingOutputs(files, false).catch((e) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(`${join(dir, 'x.json')} already exists; pass --overwrite to replace it`);
    const withSkip = await assertNoExistingOutputs(files, false, ['--overwrite to replace it', '--skip-existing to keep it']).catch((e) => e);
    expect(withSkip.message).toBe(`${join(dir, 'x.json')} already exists; pass --overwrite to replace it or --skip-existing to keep it`);
    await expect(assertNoExistingOutputs(files, true)).resolves.toBeUndefined();
    await expect(assertNoExistingOutputs([join(dir, 'y.json')], false)).resolves.toBeUndefined();
  });

  it('outputs are complete only when every file, including the masks index, exists', async () => {
    const t = { input: 'x.jpg', outDir: dir };
    expect(await outputsComplete(everythingOutputFiles(t, ['json', 'masks']))).toBe(true);
    expect(await outputsComplete(everythingOutputFiles(t, ['json', 'labels']))).toBe(false);
    await rm(join(dir, 'x.masks', 'metadata.csv'));
    expect(await outputsComplete(everythingOutputFiles(t, ['masks']))).toBe(false);
  });
});
