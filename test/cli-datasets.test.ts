/**
 * Datasets end to end with the real bin/samlite and the built-in model: detection files
 * (COCO, YOLO) as prompts on the fixtures, and `everything --format coco` interrupted and
 * resumed, or split into shards and merged, giving the same file as one plain run.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_DIR, fixtureScene, makeScene, readFixtureIndex, type FixtureIndex } from '../scripts/fixtures/index.js';
import { refDecodeCocoRle } from './helpers/coco-rle-reference.js';
import { assertBuilt, jsonLines, runSamlite, startSamliteHeld, type CliRun } from './helpers/run-cli.js';

let index: FixtureIndex;
let work: string;
let home: string;
const env = () => ({ HOME: work, SAMLITE_HOME: home });
const samlite = (args: string[]): Promise<CliRun> => runSamlite(args, { cwd: work, env: env() });
const SCENES = ['landscape', 'portrait'];

beforeAll(async () => {
  assertBuilt();
  index = await readFixtureIndex();
  work = mkdtempSync(join(tmpdir(), 'samlite-ds-'));
  home = mkdtempSync(join(tmpdir(), 'samlite-ds-home-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

/** A box around every shape of the fixture scenes, in each detection format. */
function fixtureBoxes() {
  return SCENES.map((name) => {
    const scene = fixtureScene(index, name);
    return { scene, boxes: scene.shapes.map((s) => ({ id: s.id, x: s.bbox.x1, y: s.bbox.y1, w: s.bbox.x2 - s.bbox.x1 + 1, h: s.bbox.y2 - s.bbox.y1 + 1 })) };
  });
}

describe('detection files as prompts', () => {
  it('COCO: one mask per box carrying its category; bad entries fail one line each; the COCO output agrees', async () => {
    const scenes = fixtureBoxes();
    const names = ['', 'person', 'car'];
    const dets = {
      images: [...scenes.map(({ scene }, i) => ({ id: 20 + i, file_name: scene.image, width: scene.width, height: scene.height })), { id: 30, file_name: 'missing.png' }],
      annotations: [
        ...scenes.flatMap(({ boxes }, i) => boxes.map((b) => ({ id: 100 * (i + 1) + b.id, image_id: 20 + i, category_id: 1 + (b.id % 2), bbox: [b.x, b.y, b.w, b.h], score: 0.9 }))),
        { id: 900, image_id: 30, category_id: 1, bbox: [0, 0, 4, 4] },
        { id: 901, image_id: 77, category_id: 1, bbox: [0, 0, 4, 4] },
        { id: 902, image_id: 20, category_id: 2, bbox: [500, 10, 5, 5] },
      ],
      categories: [
        { id: 1, name: 'person' },
        { id: 2, name: 'car' },
      ],
    };
    writeFileSync(join(work, 'dets.json'), JSON.stringify(dets));
    const out = join(work, 'coco-seg');
    const run = await samlite(['segment', '--prompts', 'dets.json', '--image-root', FIXTURES_DIR, '--format', 'json,coco', '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n').filter((l) => l.startsWith('error:'))).toEqual([
      'error: dets.json: annotation 13 (id 901): unknown image_id 77',
      'error: dets.json: annotation 14 (id 902), image landscape.png: bbox [500,10,5,5] is outside the 320x240 image',
      'error: missing.png: no such file',
    ]);
    const masks = jsonLines(run.stdout).filter((l) => 'segmentation' in l);
    const boxCount = scenes.reduce((n, s) => n + s.boxes.length, 0);
    expect(masks).toHaveLength(boxCount);
    for (const m of masks) {
      const detection = dets.annotations.find((a) => a.id === m.detection_id)!;
      expect(m).toMatchObject({ category_id: detection.category_id, category: names[detection.category_id], detection_score: 0.9 });
      expect(m.area as number).toBeGreaterThan(0);
    }

    const coco = JSON.parse(readFileSync(join(out, 'coco.json'), 'utf8'));
    expect(coco.categories.map((c: { name: string }) => c.name)).toEqual(['person', 'car']);
    expect(coco.images.map((i: { id: number; file_name: string }) => [i.id, i.file_name])).toEqual([
      [20, 'landscape.png'],
      [21, 'portrait.png'],
    ]);
    expect(coco.annotations).toHaveLength(boxCount);
    for (const a of coco.annotations) {
      const record = masks.find((m) => m.detection_id === a.detection_id)!;
      expect(a.segmentation).toEqual(record.segmentation);
      expect(refDecodeCocoRle(a.segmentation).data.reduce((s: number, v: number) => s + v, 0)).toBe(a.area);
      expect([a.category_id, a.bbox]).toEqual([record.category_id, record.bbox]);
    }

    // Resumed with --skip-existing: no image is redone, the dataset file is rebuilt the same.
    const before = readFileSync(join(out, 'coco.json'), 'utf8');
    const again = await samlite(['segment', '--prompts', 'dets.json', '--image-root', FIXTURES_DIR, '--format', 'json,coco', '--out', out, '--skip-existing']);
    expect(again.code).toBe(1); // the bad entries still fail
    expect(jsonLines(again.stdout).filter((l) => 'segmentation' in l)).toEqual([]);
    expect(again.stderr).toContain('2 images skipped (already done)');
    expect(readFileSync(join(out, 'coco.json'), 'utf8')).toBe(before);
  });

  it('YOLO: a labels folder with classes.txt gives one mask per line, and YOLO-seg labels one line per mask', async () => {
    const labels = join(work, 'yolo', 'labels');
    mkdirSync(labels, { recursive: true });
    writeFileSync(join(work, 'yolo', 'classes.txt'), 'round\nsquare\nother\n');
    const scenes = fixtureBoxes();
    for (const { scene, boxes } of scenes) {
      const lines = boxes.map((b) => `${b.id % 3} ${(b.x + b.w / 2) / scene.width} ${(b.y + b.h / 2) / scene.height} ${b.w / scene.width} ${b.h / scene.height} 0.8`);
      if (scene.name === 'portrait') lines.push('1 0.5 0.5 0.25');
      writeFileSync(join(labels, `${scene.name}.txt`), `${lines.join('\n')}\n`);
    }
    const out = join(work, 'yolo-seg');
    const run = await samlite(['segment', '--prompts', 'yolo/labels', '--image-root', FIXTURES_DIR, '--format', 'yolo-seg', '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: yolo/labels/portrait.txt line ${scenes[1].boxes.length + 1}: expected "class cx cy w h [confidence]", got "1 0.5 0.5 0.25"`);
    const masks = jsonLines(run.stdout).filter((l) => 'segmentation' in l);
    expect(masks).toHaveLength(scenes.reduce((n, s) => n + s.boxes.length, 0));
    for (const m of masks) expect(m.category).toBe(['round', 'square', 'other'][(m.category_id as number) - 1]);
    for (const { scene, boxes } of scenes) {
      const lines = readFileSync(join(out, 'labels', `${scene.name}.txt`), 'utf8').trimEnd().split('\n');
      expect(lines.map((l) => Number(l.split(' ')[0]))).toEqual(boxes.map((b) => b.id % 3));
      expect(existsSync(join(out, 'images', scene.image))).toBe(true);
    }
    expect(readFileSync(join(out, 'data.yaml'), 'utf8')).toContain('names:\n  0: "round"\n  1: "square"\n  2: "other"\n');
  });
});

describe('everything --format coco over a batch', () => {
  const args = (out: string, ...more: string[]) => ['everything', 'photos', '--grid', '8', '--concurrency', '1', '--format', 'coco', '--out', out, ...more];
  let reference: string;

  beforeAll(async () => {
    mkdirSync(join(work, 'photos'));
    for (let i = 0; i < 6; i++) {
      const scene = makeScene({ width: 96, height: 72, seed: 700 + i, shapes: 3, minSize: 24 });
      await sharp(scene.image.data, { raw: { width: 96, height: 72, channels: 3 } }).png().toFile(join(work, 'photos', `img${i}.png`));
    }
    const run = await samlite(args(join(work, 'whole')));
    expect(run.code).toBe(0);
    reference = readFileSync(join(work, 'whole', 'coco.json'), 'utf8');
    expect(JSON.parse(reference).images).toHaveLength(6);
  });

  it('interrupted, it leaves a valid file of the images done; resumed, the same file as one run', async () => {
    const out = join(work, 'interrupted');
    // Ctrl-C while the second image is being read (startSamliteHeld): one image done, however busy the machine.
    const { child, done, held } = startSamliteHeld(args(out), { cwd: work, env: env(), holdImageRead: 2 });
    expect(await held).toBe(join(work, 'photos', 'img1.png'));
    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(130);
    expect(jsonLines(run.stdout).filter((l) => 'masks' in l).map((l) => l.image)).toEqual([join('photos', 'img0.png')]);
    expect(run.stderr).toMatch(/; 5 not done \(interrupted; rerun with --skip-existing to continue\)$/m);
    const partial = JSON.parse(readFileSync(join(out, 'coco.json'), 'utf8'));
    expect(partial.images.map((i: { file_name: string }) => i.file_name)).toEqual(['img0.png']);
    expect(readdirSync(out).filter((f) => f.includes('partial'))).toEqual([]);

    const resumed = await samlite(args(out, '--skip-existing'));
    expect(resumed.code).toBe(0);
    expect(jsonLines(resumed.stdout).filter((l) => 'masks' in l)).toHaveLength(5);
    expect(readFileSync(join(out, 'coco.json'), 'utf8')).toBe(reference);
  });

  it('two shards merged give the same file as one run', async () => {
    const out = join(work, 'sharded');
    for (const k of [1, 2]) {
      const run = await samlite(args(out, '--shard', `${k}/2`));
      expect(run.code).toBe(0);
      expect(run.stderr).toContain(`shard ${k}/2: parts in ${join(out, 'samlite-parts')}`);
    }
    expect(existsSync(join(out, 'coco.json'))).toBe(false);
    const merged = await samlite(['merge', out]);
    expect(merged.code).toBe(0);
    expect(jsonLines(merged.stdout)).toEqual([{ dataset: [join(out, 'coco.json')], images: 6 }]);
    expect(readFileSync(join(out, 'coco.json'), 'utf8')).toBe(reference);
  });
});

describe('dataset runs: clashes, failures and merges', () => {
  let photos: string;
  beforeAll(async () => {
    photos = join(work, 'small');
    mkdirSync(photos);
    for (const [i, name] of ['one.png', 'two.png', 'coco.png'].entries()) {
      const scene = makeScene({ width: 64, height: 48, seed: 900 + i, shapes: 2, minSize: 16 });
      await sharp(scene.image.data, { raw: { width: 64, height: 48, channels: 3 } }).png().toFile(join(photos, name));
    }
  });

  it("a folder where an image's dataset file goes is refused before any work (a write failing later fails its image alone: cli-io)", async () => {
    const out = join(work, 'ds-folder-in-way');
    // A folder where one.png's YOLO image link goes.
    mkdirSync(join(out, 'images', 'one.png'), { recursive: true });
    writeFileSync(join(out, 'images', 'one.png', 'keep'), 'x');
    const run = await samlite(['segment', 'small/one.png', 'small/two.png', '--point', '10,10', '--model', 'builtin', '--format', 'coco,yolo-seg', '--out', out, '--overwrite']);
    expect(run).toEqual({ code: 2, stdout: '', stderr: `error: ${join(out, 'images', 'one.png')} is a folder where samlite writes a file; move it away or choose another --out\n` });
    expect(existsSync(join(out, 'coco.json'))).toBe(false);
  });

  it("an input's own file that is a run-wide dataset file, or two formats writing one file, is refused up front", async () => {
    const out = join(work, 'ds-clash');
    const run = await samlite(['everything', 'small/coco.png', '--grid', '4', '--format', 'labelme,coco', '--out', out]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`error: small/coco.png would write ${join(out, 'coco.json')}, one of the run's dataset files; rename the input\n`);
    expect(existsSync(out)).toBe(false);
    const both = await samlite(['everything', 'small/one.png', '--grid', '4', '--format', 'json,labelme', '--out', out]);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe(`error: small/one.png: two --format outputs would both write ${join(out, 'one.json')}; write them to different --out folders\n`);
  });

  it('a YOLO-seg --out inside the walked folder is not read back: its image links are the inputs again', async () => {
    const folder = join(work, 'walked');
    mkdirSync(folder);
    for (const name of ['one.png', 'two.png']) writeFileSync(join(folder, name), readFileSync(join(photos, name)));
    const args = ['everything', 'walked', '-r', '--grid', '4', '--format', 'yolo-seg', '--out', 'walked/ds'];
    expect((await samlite(args)).code).toBe(0);
    expect(readdirSync(join(folder, 'ds', 'images')).sort()).toEqual(['one.png', 'two.png']);
    const again = await samlite([...args, '--skip-existing']);
    expect(again.stderr).toBe('nothing to do: 2 images already done\ndataset: walked/ds/data.yaml (2 images)\n');
    expect(again.code).toBe(0);
  });

  it('a resumed run whose kept parts number classes differently still builds coco.json; data.yaml alone fails', async () => {
    const out = join(work, 'ds-resume-classes');
    const dets = (images: string[], cats: [number, string][]) =>
      JSON.stringify({
        images: images.map((file_name, i) => ({ id: i + 1, file_name })),
        annotations: images.map((_, i) => ({ image_id: i + 1, category_id: cats[cats.length - 1][0], bbox: [2, 2, 20, 20] })),
        categories: cats.map(([id, name]) => ({ id, name })),
      });
    writeFileSync(join(work, 'resume-a.json'), dets(['one.png'], [[1, 'cat'], [2, 'dog']]));
    writeFileSync(join(work, 'resume-b.json'), dets(['one.png', 'two.png'], [[1, 'cat'], [3, 'bird']]));
    const segment = (file: string, ...more: string[]) =>
      samlite(['segment', '--prompts', file, '--image-root', photos, '--model', 'builtin', '--format', 'coco,yolo-seg', '--out', out, ...more]);
    expect((await segment('resume-a.json')).code).toBe(0);
    const resumed = await segment('resume-b.json', '--skip-existing');
    expect(resumed.stderr).toContain(`come from runs with different categories, so their labels number classes differently; leave yolo-seg out, or rerun them with one category list; ${join(out, 'data.yaml')} not written\n`);
    expect(resumed.stderr).toContain(`dataset: ${join(out, 'coco.json')} (2 images)\n`);
    expect(resumed.code).toBe(1);
    const coco = JSON.parse(readFileSync(join(out, 'coco.json'), 'utf8'));
    expect(coco.images.map((i: { file_name: string }) => i.file_name)).toEqual(['one.png', 'two.png']);
  });

  it('a shard run with no run-wide dataset file gives no merge hint', async () => {
    const out = join(work, 'ds-labelme-shard');
    const run = await samlite(['everything', 'small/one.png', 'small/two.png', '--grid', '4', '--format', 'labelme', '--shard', '1/2', '--out', out]);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('samlite merge');
  });

  it('merge refuses parts that disagree only on an option the chosen formats read', async () => {
    const out = join(work, 'ds-options');
    for (const [image, prefix] of [['one.png', '/a/'], ['two.png', '/b/']]) {
      const run = await samlite(['segment', `small/${image}`, '--point', '10,10', '--model', 'builtin', '--format', 'coco,labelstudio', '--image-url-prefix', prefix, '--out', out, '--overwrite']);
      expect(run.code).toBe(0);
    }
    // COCO files hold no image URL: the prefixes' disagreement does not matter to them.
    const coco = await samlite(['merge', out, '--format', 'coco', '--overwrite']);
    expect(coco.stderr).toBe(`dataset: ${join(out, 'coco.json')} (2 images from 2 parts)\n`);
    expect(coco.code).toBe(0);
    const ls = await samlite(['merge', out, '--format', 'labelstudio', '--overwrite']);
    expect(ls.code).toBe(2);
    expect(ls.stderr).toMatch(/^error: parts were made with different --image-url-prefix /);
  });

  it('merge refuses a YOLO-seg data.yaml away from the labels, and parts whose classes differ', async () => {
    const a = join(work, 'ds-yolo-a');
    const b = join(work, 'ds-yolo-b');
    const dets = (image: string, cats: [number, string][]) =>
      JSON.stringify({
        images: [{ id: 1, file_name: image }],
        annotations: [{ image_id: 1, category_id: cats[cats.length - 1][0], bbox: [2, 2, 20, 20] }],
        categories: cats.map(([id, name]) => ({ id, name })),
      });
    writeFileSync(join(work, 'cats-a.json'), dets('one.png', [[1, 'cat'], [2, 'dog']]));
    writeFileSync(join(work, 'cats-b.json'), dets('two.png', [[1, 'cat'], [3, 'bird']]));
    const segment = (file: string, out: string, ...more: string[]) =>
      samlite(['segment', '--prompts', file, '--image-root', photos, '--model', 'builtin', '--format', 'yolo-seg', '--out', out, ...more]);
    expect((await segment('cats-a.json', a)).code).toBe(0);
    expect((await segment('cats-b.json', b)).code).toBe(0);

    const away = await samlite(['merge', a, '--out', join(work, 'ds-yolo-elsewhere'), '--format', 'yolo-seg']);
    expect(away.code).toBe(2);
    expect(away.stderr).toBe(
      `error: --format yolo-seg: data.yaml must be written in the folder that holds the labels and images (${a}); merge that folder alone, without --out, for it, or leave yolo-seg out of --format\n`,
    );
    expect(existsSync(join(work, 'ds-yolo-elsewhere'))).toBe(false);
    const several = await samlite(['merge', a, b, '--format', 'yolo-seg', '--overwrite']);
    expect(several.code).toBe(2);
    expect(several.stderr).toMatch(/^error: --format yolo-seg: data\.yaml must be written in the folder that holds the labels and images/);
    expect((await samlite(['merge', a, '--format', 'yolo-seg', '--overwrite'])).code).toBe(0);
    // Not asked for by the merge (the runs' formats): the other files are built, and a line says why not data.yaml.
    const all = join(work, 'ds-yolo-all');
    const both = await samlite(['merge', a, b, '--out', all]);
    expect(both.stderr).toBe(
      `data.yaml not written: it belongs in the folder that holds the labels and images (${a}, ${b}); merge each folder alone, without --out, for it\n` +
        `error: the parts' runs asked for no dataset file this merge can write (yolo-seg); give --format coco|labelstudio\n`,
    );
    expect(both.code).toBe(2);
    const coco = await samlite(['merge', a, b, '--out', all, '--format', 'coco']);
    expect(coco.code).toBe(0);
    expect(readdirSync(all).sort()).toEqual(['coco.json']);

    // Another run into the same folder numbers bird as class 1, which data.yaml calls dog.
    expect((await segment('cats-b.json', a, '--overwrite')).code).toBe(0);
    const mixed = await samlite(['merge', a, '--format', 'yolo-seg', '--overwrite']);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/^error: --format yolo-seg: .*one\.part\.json.*two\.part\.json.*\n$/);
    expect((await samlite(['merge', a, '--format', 'coco'])).code).toBe(0);
  });
});
