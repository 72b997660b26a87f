/**
 * Prompt inputs end to end with the real bin/samlite and the built-in model: absurd YOLO
 * class numbers, COCO ids past the safe integers, COCO results lists with --coco-images,
 * class names from a dataset YAML, byte-order marks, files under the wrong
 * --prompts-format, NULs in names and scheduler indices that are not decimal digits. Each
 * is a clear line naming the input, with the exit code the README promises.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_DIR } from '../scripts/fixtures/index.js';
import { assertBuilt, jsonLines, runSamlite, type CliRun } from './helpers/run-cli.js';

let work: string;
let home: string;

function samlite(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  return runSamlite(args, { cwd: work, stdin: options.stdin, env: { HOME: work, SAMLITE_HOME: home, ...options.env } });
}

/** stderr's error lines. */
const errors = (run: CliRun) => run.stderr.split('\n').filter((l) => l.startsWith('error: '));

interface CocoOut {
  images: { file_name: string }[];
  annotations: { category_id: number; detection_id?: number | string }[];
  categories: { id: number; name: string }[];
}
const readCoco = (dir: string): CocoOut => JSON.parse(readFileSync(join(work, dir, 'coco.json'), 'utf8')) as CocoOut;

beforeAll(() => {
  assertBuilt();
  work = mkdtempSync(join(tmpdir(), 'samlite-inputs-'));
  home = mkdtempSync(join(tmpdir(), 'samlite-inputs-home-'));
  // An ultralytics-style layout: ds/images/<stem>.png beside ds/labels/<stem>.txt.
  mkdirSync(join(work, 'ds', 'images'), { recursive: true });
  mkdirSync(join(work, 'ds', 'labels'), { recursive: true });
  for (const name of ['box.png', 'landscape.png']) copyFileSync(join(FIXTURES_DIR, name), join(work, 'ds', 'images', name));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

describe('YOLO labels', () => {
  // Before, class 1000000000 made a billion categories (the process grew past 1.2 GB and
  // never ended): the test's timeout only turns such a hang into a failure, it times nothing.
  it('an absurd class is one error line for its line; the other lines run and only classes used are categories', { timeout: 300_000 }, async () => {
    writeFileSync(join(work, 'ds', 'labels', 'box.txt'), '1000000000 0.5 0.5 0.2 0.2\n99999999999999999999 0.5 0.5 0.2 0.2\n3 0.5 0.5 0.4 0.4\n');
    writeFileSync(join(work, 'ds', 'labels', 'landscape.txt'), '100000 0.5 0.5 0.3 0.3\n');
    const run = await samlite(['segment', '--prompts', 'ds/labels', '--format', 'coco', '--out', 'o-class']);
    expect(run.code).toBe(1);
    expect(errors(run)).toEqual([
      'error: ds/labels/box.txt line 1: class 1000000000 is past 999999, the largest class number samlite reads',
      'error: ds/labels/box.txt line 2: class 99999999999999999999 is past 999999, the largest class number samlite reads',
    ]);
    const coco = readCoco('o-class');
    expect(coco.categories.map((c) => [c.id, c.name])).toEqual([
      [4, '3'],
      [100001, '100000'],
    ]);
    expect(coco.annotations.map((a) => a.category_id).sort()).toEqual([100001, 4]);
  });

  it('--classes data.yaml names the classes of labels written without classes.txt (ultralytics predict --save-txt --save-conf)', async () => {
    mkdirSync(join(work, 'predict', 'labels'), { recursive: true });
    writeFileSync(join(work, 'predict', 'labels', 'box.txt'), '2 0.5 0.5 0.4 0.4 0.91\n');
    writeFileSync(join(work, 'data.yaml'), 'path: ../datasets/mine\ntrain: images/train\nval: images/val\nnames:\n  0: person\n  1: bicycle\n  2: car\n');
    const run = await samlite(['segment', '--prompts', 'predict/labels', '--image-root', 'ds/images', '--classes', 'data.yaml', '--format', 'coco,yolo-seg', '--out', 'o-names']);
    expect(run.code).toBe(0);
    expect(jsonLines(run.stdout).filter((l) => 'segmentation' in l).map((l) => l.category)).toEqual(['car']);
    expect(readCoco('o-names').categories.map((c) => c.name)).toEqual(['person', 'bicycle', 'car']);
    expect(readFileSync(join(work, 'o-names', 'data.yaml'), 'utf8')).toContain('names:\n  0: "person"\n  1: "bicycle"\n  2: "car"\n');
    const lines = readFileSync(join(work, 'o-names', 'labels', 'box.txt'), 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['2']);
  });
});

describe('COCO detection files', () => {
  it('an id past the safe integers fails its entry, naming file and entry, when the file is read; the rest of the run and coco.json are whole', async () => {
    const dets = {
      images: [
        { id: 1, file_name: 'box.png' },
        { id: 2, file_name: 'landscape.png' },
      ],
      annotations: [
        { id: 1, image_id: 1, category_id: 1e300, bbox: [100, 80, 100, 80] },
        { id: 2, image_id: 2, category_id: 3, bbox: [10, 10, 60, 40] },
      ],
    };
    // 1e300 in JSON text, as a tool would write it.
    writeFileSync(join(work, 'ds', 'images', 'big-ids.json'), JSON.stringify(dets).replace('1e+300', '1e300'));
    const run = await samlite(['segment', '--prompts', 'ds/images/big-ids.json', '--format', 'coco', '--out', 'o-ids']);
    expect(run.code).toBe(1);
    expect(errors(run)).toEqual([
      'error: ds/images/big-ids.json: annotation 0 (id 1), image box.png: "category_id" 1e+300 is not a whole number from -9007199254740991 to 9007199254740991',
    ]);
    const coco = readCoco('o-ids');
    expect(coco.images.map((i) => i.file_name)).toEqual(['box.png', 'landscape.png']);
    expect(coco.annotations.map((a) => a.category_id)).toEqual([3]);
  });

  it('a NUL in a file_name fails that entry with a line naming file and entry, not a raw Node message', async () => {
    writeFileSync(join(work, 'nul.json'), JSON.stringify({ images: [{ id: 1, file_name: 'ds/images/box\u0000.png' }, { id: 2, file_name: 'ds/images/box.png' }], annotations: [] }));
    const run = await samlite(['segment', '--prompts', 'nul.json', '--format', 'coco', '--out', 'o-nul']);
    expect(run.code).toBe(1);
    expect(errors(run)).toEqual(['error: nul.json: images[0]: "file_name" "ds/images/box\\u0000.png" holds a NUL character']);
    expect(readCoco('o-nul').images.map((i) => i.file_name)).toEqual(['ds/images/box.png']);
    // The same in samlite's own prompts file is a usage error (that file is all or nothing).
    writeFileSync(join(work, 'nul-prompts.json'), JSON.stringify({ images: [{ image: 'ds/images/box\u0000.png', prompts: [{ points: [[5, 5]] }] }] }));
    const own = await samlite(['segment', '--prompts', 'nul-prompts.json', '--out', 'o-nul2']);
    expect(own.code).toBe(2);
    expect(own.stderr).toBe('error: nul-prompts.json: images[0]: image: holds a NUL character\n');
  });
});

describe('COCO results lists', () => {
  beforeAll(() => {
    writeFileSync(
      join(work, 'instances_val.json'),
      JSON.stringify({
        images: [
          { id: 139, file_name: 'box.png', width: 320, height: 240 },
          { id: 285, file_name: 'landscape.png' },
        ],
        annotations: [{ id: 7, image_id: 139, category_id: 1, bbox: [0, 0, 10, 10] }],
        categories: [
          { id: 1, name: 'person' },
          { id: 18, name: 'dog' },
        ],
      }),
    );
    writeFileSync(
      join(work, 'results.json'),
      JSON.stringify([
        { image_id: 139, category_id: 18, bbox: [100, 80, 100, 80], score: 0.97 },
        { image_id: 285, category_id: 1, bbox: [10, 10, 60, 40], score: 0.66 },
        { image_id: 139, category_id: 1, bbox: [5, 5, 20, 20], score: 0.05 },
      ]),
    );
  });

  it('are read with --coco-images, the pair pycocotools takes: names and categories from that file, its own annotations ignored', async () => {
    const run = await samlite(['segment', '--prompts', 'results.json', '--coco-images', 'instances_val.json', '--image-root', 'ds/images', '--min-score', '0.1', '--format', 'coco', '--out', 'o-res']);
    expect(run.code).toBe(0);
    const masks = jsonLines(run.stdout).filter((l) => 'segmentation' in l);
    expect(masks.map((m) => [m.image, m.category, m.detection_id, m.detection_score])).toEqual([
      ['box.png', 'dog', 1, 0.97],
      ['landscape.png', 'person', 2, 0.66],
    ]);
    const coco = readCoco('o-res');
    expect(coco.categories.map((c) => [c.id, c.name])).toEqual([
      [1, 'person'],
      [18, 'dog'],
    ]);
    expect(coco.annotations.map((a) => [a.category_id, a.detection_id])).toEqual([
      [18, 1],
      [1, 2],
    ]);
  });

  it('without --coco-images, are refused in one line saying to add it (exit 2)', async () => {
    const run = await samlite(['segment', '--prompts', 'results.json', '--format', 'coco', '--out', 'o-res2']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: results.json: a COCO results list names images by id only: add --coco-images <the COCO file it belongs to, e.g. instances_val2017.json>\n');
  });
});

describe('byte-order marks', () => {
  it('are accepted in a COCO file and in prompts on stdin', async () => {
    writeFileSync(join(work, 'bom.json'), `\uFEFF${JSON.stringify({ images: [{ id: 1, file_name: 'ds/images/box.png' }], annotations: [{ image_id: 1, category_id: 1, bbox: [100, 80, 100, 80] }] })}`);
    const coco = await samlite(['segment', '--prompts', 'bom.json', '--format', 'coco', '--out', 'o-bom']);
    expect(coco.code).toBe(0);
    expect(readCoco('o-bom').annotations).toHaveLength(1);
    const stdin = await samlite(['segment', 'ds/images/box.png', '--prompts', '-', '--out', 'o-bom-stdin'], { stdin: '\uFEFF[{"points": [[160, 120]]}]' });
    expect(stdin.code).toBe(0);
    expect(jsonLines(stdin.stdout)).toHaveLength(1);
  });
});

describe('a file under the wrong --prompts-format', () => {
  it('is a usage error (exit 2) saying what it is not, before any model work', async () => {
    writeFileSync(join(work, 'd.json'), '[{"points": [[1, 2]]}]');
    const json = await samlite(['segment', '--prompts', 'd.json', '--prompts-format', 'yolo', '--out', 'o-fmt']);
    expect(json.code).toBe(2);
    expect(json.stderr).toBe('error: d.json: not YOLO labels: no line is "class cx cy w h [confidence]" (line 1: "[{"points": [[1, 2]]}]"); a JSON file is read without --prompts-format yolo\n');
    const folder = await samlite(['segment', '--prompts', 'ds/images', '--prompts-format', 'yolo', '--out', 'o-fmt']);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toBe('error: ds/images: not YOLO labels: no .txt label file in this folder or below it\n');
  });
});

describe('scheduler indices', () => {
  it('AWS_BATCH_JOB_ARRAY_INDEX=0x1 is refused (exit 2), not run as shard 2/4', async () => {
    const run = await samlite(['everything', 'ds/images', '--shard', 'auto', '--out', 'o-shard'], { env: { AWS_BATCH_JOB_ARRAY_INDEX: '0x1', AWS_BATCH_JOB_ARRAY_SIZE: '4' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: --shard auto (AWS Batch array job): AWS_BATCH_JOB_ARRAY_INDEX="0x1" is not a whole number >= 0 in decimal digits\n');
  });
});
