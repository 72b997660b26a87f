/**
 * `samlite segment` end to end: the real bin/samlite in a child process, on the project's
 * fixtures, with the built-in models (the same code path real weights take).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_DIR, fixturePath, fixtureScene, readFixtureIndex, readFixtureMask, type FixtureIndex } from '../scripts/fixtures/index.js';
import { decodeMaskPng } from '../src/image/encode.js';
import { maskIou } from '../src/masks/iou.js';
import { refDecodeCocoRle } from './helpers/coco-rle-reference.js';
import { assertBuilt, jsonLines, runSamlite, runSamliteOnTty, startSamliteHeld, type CliRun } from './helpers/run-cli.js';

let index: FixtureIndex;
let work: string;
let home: string;

function samlite(args: string[], options: { stdin?: string; env?: Record<string, string>; cwd?: string } = {}): Promise<CliRun> {
  return runSamlite(args, { cwd: options.cwd ?? work, stdin: options.stdin, env: { HOME: work, SAMLITE_HOME: home, ...options.env } });
}

const iou = maskIou;

function writeJson(name: string, value: unknown): string {
  const path = join(work, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

beforeAll(async () => {
  assertBuilt();
  index = await readFixtureIndex();
  work = mkdtempSync(join(tmpdir(), 'samlite-seg-'));
  home = mkdtempSync(join(tmpdir(), 'samlite-seg-home-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

describe.each(['builtin', 'builtin-efficientsam', 'builtin-sam2'])('point prompts with %s', (model) => {
  it('returns the flat region under each point (IoU >= 0.95 vs ground truth), in display orientation', async () => {
    const scenes = ['landscape', 'portrait', 'exif-orientation-6'].map((n) => fixtureScene(index, n));
    const prompts = writeJson(`points-${model}.json`, {
      images: scenes.map((s) => ({
        image: join(FIXTURES_DIR, s.image),
        prompts: s.shapes.map((shape) => ({ id: shape.id, points: [[shape.interiorPoint.x, shape.interiorPoint.y]] })),
      })),
    });
    const out = join(work, `points-${model}`);
    const run = await samlite(['segment', '--prompts', prompts, '--model', model, '--out', out, '--format', 'mask,json']);
    expect(run.stderr).not.toMatch(/error/);
    expect(run.code).toBe(0);
    const lines = jsonLines(run.stdout);
    expect(lines).toHaveLength(scenes.reduce((n, s) => n + s.shapes.length, 0));

    for (const scene of scenes) {
      const stem = scene.image.replace(/^.*\//, '').replace(/\.[^.]+$/, '');
      for (const [i, shape] of scene.shapes.entries()) {
        const truth = await readFixtureMask(shape.mask);
        const png = await decodeMaskPng(join(out, `${stem}.${i}.mask.png`));
        const score = iou(png, truth);
        expect(score, `${model} ${scene.name} shape ${shape.id}`).toBeGreaterThanOrEqual(0.95);

        // The json file and the stdout line carry the same mask as COCO RLE, decoded by an
        // independent reader written from pycocotools' format description.
        const record = JSON.parse(readFileSync(join(out, `${stem}.${i}.json`), 'utf8'));
        const decoded = refDecodeCocoRle(record.segmentation);
        expect(Buffer.from(decoded.data).equals(Buffer.from(png.data))).toBe(true);
        expect(record).toMatchObject({ width: scene.width, height: scene.height, prompt_index: i, prompt_id: shape.id });
        expect(record.area).toBe(png.data.reduce((n: number, v: number) => n + (v ? 1 : 0), 0));
        const line = lines.find((l) => l.image === join(FIXTURES_DIR, scene.image) && l.prompt_index === i);
        expect(line?.segmentation).toEqual(record.segmentation);
        expect(line?.files).toEqual({ mask: join(out, `${stem}.${i}.mask.png`), json: join(out, `${stem}.${i}.json`) });
      }
    }
  });
});

describe('negative points and boxes', () => {
  it('a negative point carves a similar neighbouring region out (SAM family)', async () => {
    const scene = fixtureScene(index, 'near-colours');
    const [r1, r2] = scene.shapes;
    const inside = (p: { x: number; y: number }, dx: number) => [p.x + dx, p.y];
    const prompts = writeJson('carve.json', [
      { points: [inside(r1.interiorPoint, 0), inside(r1.interiorPoint, -20)] },
      { points: [inside(r1.interiorPoint, 0)], neg_points: [inside(r2.interiorPoint, 0)] },
    ]);
    const out = join(work, 'carve');
    const image = fixturePath(scene.image);
    const run = await samlite(['segment', image, '--prompts', prompts, '--model', 'builtin', '--out', out]);
    expect(run.code).toBe(0);
    const truth1 = await readFixtureMask(r1.mask);
    const truth2 = await readFixtureMask(r2.mask);
    const both = await decodeMaskPng(join(out, 'near-colours.0.mask.png'));
    const carved = await decodeMaskPng(join(out, 'near-colours.1.mask.png'));
    // Without the negative point the two near colours merge; with it, only region 1 is left.
    expect(iou(both, { ...truth2, data: truth2.data.map((v, i) => v | truth1.data[i]) })).toBeGreaterThanOrEqual(0.9);
    expect(iou(carved, truth1)).toBeGreaterThanOrEqual(0.95);
  });

  it.each(['builtin', 'builtin-efficientsam', 'builtin-sam2'])('a box returns the main region inside it (%s)', async (model) => {
    const scene = fixtureScene(index, 'box');
    const box = scene.boxPrompt!.box;
    const shape = scene.shapes.find((s) => s.id === scene.boxPrompt!.shape)!;
    const out = join(work, `box-${model}`);
    const run = await samlite([
      'segment', fixturePath(scene.image), '--box', `${box.x1},${box.y1},${box.x2},${box.y2}`, '--model', model, '--out', out,
    ]);
    expect(run.code).toBe(0);
    expect(iou(await decodeMaskPng(join(out, 'box.0.mask.png')), await readFixtureMask(shape.mask))).toBeGreaterThanOrEqual(0.95);
  });

  it('--multimask writes every candidate with its score', async () => {
    const scene = fixtureScene(index, 'landscape');
    const p = scene.shapes[0].interiorPoint;
    const out = join(work, 'multi');
    const run = await samlite(['segment', fixturePath(scene.image), '--point', `${p.x},${p.y}`, '--multimask', '--model', 'builtin', '--out', out]);
    expect(run.code).toBe(0);
    const lines = jsonLines(run.stdout);
    expect(lines.map((l) => l.candidate)).toEqual([0, 1, 2]);
    expect(lines.every((l) => typeof l.predicted_iou === 'number')).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['landscape.0.m0.mask.png', 'landscape.0.m1.mask.png', 'landscape.0.m2.mask.png']);
    // The answer (m0) is written last: --skip-existing counts the prompt done by it, so a run
    // stopped between candidates must not leave m0 without the others.
    const written = (k: number) => statSync(join(out, `landscape.0.m${k}.mask.png`), { bigint: true }).mtimeNs;
    expect(written(0)).toBeGreaterThan(written(1));
    expect(written(1)).toBeGreaterThan(written(2));
  });
});

describe('bad input', () => {
  it('names every bad image, still writes the good one, and exits 1', async () => {
    const good = fixturePath('landscape.png');
    const bad = index.badInputs.map((b) => fixturePath(b.file));
    const missing = join(work, 'missing.png');
    const out = join(work, 'bad-images');
    const run = await samlite(['segment', good, ...bad, missing, '--point', '10,10', '--out', out, '--model', 'builtin']);
    expect(run.code).toBe(1);
    const errors = run.stderr.split('\n').filter((l) => l.startsWith('error:'));
    for (const b of index.badInputs) expect(errors).toContain(`error: ${fixturePath(b.file)}: ${b.reason}`);
    expect(errors).toContain(`error: ${missing}: no such file`);
    expect(errors).toHaveLength(bad.length + 1);
    const lines = jsonLines(run.stdout);
    expect(lines.filter((l) => 'error' in l)).toHaveLength(bad.length + 1);
    expect(lines.filter((l) => 'segmentation' in l).map((l) => l.image)).toEqual([good]);
    expect(readdirSync(out)).toEqual(['landscape.0.mask.png']);
  });

  it('a prompt outside the image fails alone, naming the image and the prompt', async () => {
    const image = fixturePath('landscape.png');
    const prompts = writeJson('outside.json', { images: [{ image, prompts: [{ points: [[10, 10]] }, { points: [[400, 10]] }, { box: [5, 5, 30, 30] }] }] });
    const out = join(work, 'outside');
    const run = await samlite(['segment', '--prompts', prompts, '--out', out, '--model', 'builtin']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: ${image} prompt 1: point (400, 10) is outside the 320x240 image`);
    expect(readdirSync(out).sort()).toEqual(['landscape.0.mask.png', 'landscape.2.mask.png']);
  });

  it('EfficientSAM refuses background points and more than 6 points, naming the prompt', async () => {
    const image = fixturePath('landscape.png');
    const seven = Array.from({ length: 7 }, (_, i) => [10 + i, 10]);
    const prompts = writeJson('esam.json', [{ points: [[10, 10]], neg_points: [[50, 50]] }, { points: seven }, { points: [[10, 10]] }]);
    const run = await samlite(['segment', image, '--prompts', prompts, '--out', join(work, 'esam'), '--model', 'builtin-efficientsam']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`error: ${image} prompt 0: background points are not supported by builtin-efficientsam`));
    expect(run.stderr).toContain(`error: ${image} prompt 1: 7 points (a box counts as 2) but builtin-efficientsam reads at most 6`);
    expect(readdirSync(join(work, 'esam'))).toEqual(['landscape.2.mask.png']);
  });

  it.each([
    [['--point', '1,x'], /^error: --point "1,x": expected x,y in pixels/],
    [['--box', '9,9,1,1'], /^error: --box 9,9,1,1: x2 \(1\) is less than x1 \(9\)/],
    [['--prompts', '-'], /^error: stdin prompts: prompt 0: box: y2 \(1\) is less than y1 \(5\)/],
    [[], /^error: no prompt: give --point x,y/],
    [['--point', '1,1', '--format', 'mask,png'], /^error: --format "png": expected one or more of mask, overlay, cutout, json/],
    [['--point', '1,1', '--model', 'nope'], /^error: unknown model "nope"; known models: /],
    [['--point', '1,1', '--model', 'efficientsam-ti'], /^error: model efficientsam-ti is not installed; run `samlite models pull efficientsam-ti`/],
  ])('usage error %j exits 2 with one line and writes nothing', async (flags, pattern) => {
    const out = join(work, `usage-${Math.random().toString(36).slice(2)}`);
    const run = await samlite(['segment', fixturePath('landscape.png'), ...flags, '--out', out], { stdin: '[{"box": [0, 5, 4, 1]}]' });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(pattern);
    expect(existsSync(out)).toBe(false);
  });

  it('runs an image named twice once, and merges the prompts of an image listed twice', async () => {
    const out = join(work, 'twice');
    for (const extra of [[], ['--overwrite']]) {
      const run = await samlite(['segment', 'portrait.png', 'portrait.png', './portrait.png', '--point', '10,10', '--out', out, ...extra], { cwd: FIXTURES_DIR });
      expect(run.stderr).not.toContain('error');
      expect(run.code).toBe(0);
      expect(jsonLines(run.stdout).map((l) => [l.image, l.prompt_index])).toEqual([['portrait.png', 0]]);
    }
    const prompts = writeJson('twice.json', {
      images: [
        { image: fixturePath('portrait.png'), prompts: [{ points: [[10, 10]] }] },
        { image: fixturePath('portrait.png'), prompts: [{ points: [[100, 100]], id: 'second' }] },
      ],
    });
    const run = await samlite(['segment', '--prompts', prompts, '--out', join(work, 'twice-file')]);
    expect(run.code).toBe(0);
    expect(jsonLines(run.stdout).map((l) => [l.prompt_index, l.prompt_id])).toEqual([
      [0, undefined],
      [1, 'second'],
    ]);
    expect(readdirSync(join(work, 'twice-file')).sort()).toEqual(['portrait.0.mask.png', 'portrait.1.mask.png']);
  });

  it('--out or --cache-dir naming a file is a usage error before any model loads', async () => {
    const file = writeJson('not-a-folder.json', {});
    const image = fixturePath('box.png');
    for (const [args, message] of [
      [['--out', file], `error: --out ${file}: is a file, not a folder\n`],
      [['--out', join(work, 'o-cache'), '--cache-dir', join(file, 'emb')], `error: --cache-dir ${join(file, 'emb')}: ${file} is a file, so the folder cannot be created\n`],
    ] as const) {
      const run = await samlite(['segment', image, '--point', '5,5', ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(message);
    }
  });

  it('does not overwrite existing outputs unless asked', async () => {
    const image = fixturePath('landscape.png');
    const out = join(work, 'again');
    expect((await samlite(['segment', image, '--point', '10,10', '--out', out, '--format', 'mask,overlay,cutout'])).code).toBe(0);
    const second = await samlite(['segment', image, '--point', '10,10', '--out', out]);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`error: ${join(out, 'landscape.0.mask.png')} already exists; pass --overwrite to replace it`);
    expect((await samlite(['segment', image, '--point', '10,10', '--out', out, '--overwrite'])).code).toBe(0);
    const overlay = await sharp(join(out, 'landscape.0.overlay.png')).metadata();
    const cutout = await sharp(join(out, 'landscape.0.cutout.png')).metadata();
    expect([overlay.width, overlay.height, overlay.channels]).toEqual([320, 240, 3]);
    expect([cutout.width, cutout.height, cutout.channels]).toEqual([320, 240, 4]);
    expect(readdirSync(out).filter((f) => f.includes('partial'))).toEqual([]);
  });
});

describe('signals', () => {
  it('SIGTERM finishes the image in flight, says it was SIGTERM, and exits 143', async () => {
    const many = join(work, 'term-many');
    mkdirSync(many);
    const names = ['img0.png', 'img1.png', 'img2.png', 'img3.png'];
    for (const name of names) copyFileSync(fixturePath('portrait.png'), join(many, name));
    const out = join(work, 'term-out');
    // The second image's read waits for the signal: it lands with one image done and the second in flight.
    const { child, done, held } = startSamliteHeld(['segment', ...names.map((n) => join('term-many', n)), '--point', '10,10', '--no-cache', '--out', out], {
      cwd: work,
      env: { HOME: work, SAMLITE_HOME: home },
      holdImageRead: 2,
    });
    expect(await held).toBe(join(many, 'img1.png'));
    child.kill('SIGTERM');
    const run = await done;
    expect(run.code).toBe(143);
    expect(run.stderr).toMatch(/^interrupted by SIGTERM: finishing the image in flight \(send it again to stop at once\)$/m);
    expect(run.stderr).not.toMatch(/Ctrl-C/);
    // The image in flight was finished; the two after it were not started.
    expect(jsonLines(run.stdout).map((l) => l.image)).toEqual([join('term-many', 'img0.png'), join('term-many', 'img1.png')]);
    expect(run.stderr).toMatch(/^2 masks written with builtin; 2 images not done \(interrupted; rerun with --skip-existing to continue\)$/m);
    expect(readdirSync(out).sort()).toEqual(['img0.0.mask.png', 'img1.0.mask.png']);
  });
});

describe('embedding cache', () => {
  it('keeps one embedding per image under the store; --no-cache keeps none', async () => {
    const cacheHome = mkdtempSync(join(tmpdir(), 'samlite-seg-cache-'));
    const env = { SAMLITE_HOME: cacheHome };
    const image = fixturePath('portrait.png');
    const first = await samlite(['segment', image, '--point', '10,10', '--out', join(work, 'c1'), '--model', 'builtin'], { env });
    const again = await samlite(['segment', image, '--point', '200,300', '--out', join(work, 'c2'), '--model', 'builtin'], { env });
    expect([first.code, again.code]).toEqual([0, 0]);
    expect(readdirSync(join(cacheHome, 'embeddings')).filter((f) => f.endsWith('.emb'))).toHaveLength(1);
    const off = await samlite(['segment', fixturePath('box.png'), '--point', '10,10', '--out', join(work, 'c3'), '--no-cache'], { env });
    expect(off.code).toBe(0);
    expect(readdirSync(join(cacheHome, 'embeddings')).filter((f) => f.endsWith('.emb'))).toHaveLength(1);
    rmSync(cacheHome, { recursive: true, force: true });
  });
});

describe('terminal output', () => {
  it('falls back to the built-in model with one notice naming how to pull EfficientSAM', async () => {
    const run = await samlite(['segment', fixturePath('landscape.png'), '--point', '10,10', '--out', join(work, 'notice')]);
    expect(run.code).toBe(0);
    expect(run.stderr.split('\n').filter((l) => l.includes('built-in'))).toEqual([
      'using the built-in classical segmenter (no neural model installed); for real masks run `samlite models pull efficientsam-ti`',
    ]);
  });

  it('colours errors on a terminal, not with NO_COLOR; prints no JSON on a terminal unless --json', async () => {
    const args = ['segment', fixturePath('bad/empty.png'), '--point', '1,1', '--out', join(work, 'tty')];
    const coloured = await runSamliteOnTty(args, { cwd: work, env: { HOME: work, SAMLITE_HOME: home } });
    expect(coloured.code).toBe(1);
    expect(coloured.stdout).toMatch(/\x1b\[31merror:/);
    expect(coloured.stdout).not.toContain('{"image"');
    const plain = await runSamliteOnTty(args, { cwd: work, env: { HOME: work, SAMLITE_HOME: home, NO_COLOR: '1' } });
    expect(plain.stdout).toContain('error: ');
    expect(plain.stdout).not.toMatch(/\x1b\[/);
  });
});
