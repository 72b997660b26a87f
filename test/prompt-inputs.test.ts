/**
 * Prompt inputs as other tools write them, in-process: YOLO class numbers (categories are
 * the classes used or named, absurd ones refused on their line), class names from a
 * dataset YAML or a names file, COCO ids that must be safe integers, COCO results lists
 * read with their COCO file, byte-order marks, NULs in names, and files given under the
 * wrong --prompts-format.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLines } from '../src/batch/inputs.js';
import { UsageError } from '../src/util/errors.js';
import {
  MAX_YOLO_CLASS,
  parseClassNames,
  parseCocoDetections,
  parsePromptsJson,
  parseYoloLabels,
  readPrompts,
  readYoloDetections,
  type PromptPlan,
} from '../src/prompts/index.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'samlite-prompt-inputs-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

const BOM = '\uFEFF';

function perImage(plan: PromptPlan) {
  if (plan.kind !== 'per-image') throw new Error('expected a per-image plan');
  return plan;
}

/** A YOLO dataset folder `name` with images/ and labels/ (one label file per entry of `labels`). */
async function yoloFolder(name: string, labels: Record<string, string>, classesTxt?: string): Promise<string> {
  const root = join(work, name);
  await mkdir(join(root, 'labels'), { recursive: true });
  await mkdir(join(root, 'images'), { recursive: true });
  for (const [stem, text] of Object.entries(labels)) {
    await writeFile(join(root, 'labels', `${stem}.txt`), text);
    await writeFile(join(root, 'images', `${stem}.png`), '');
  }
  if (classesTxt !== undefined) await writeFile(join(root, 'labels', 'classes.txt'), classesTxt);
  return join(root, 'labels');
}

/** The error `run` throws (failing the test when it does not). */
async function thrown(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('YOLO class numbers', () => {
  it('categories are the classes used, not every number up to the largest', async () => {
    const labels = await yoloFolder('sparse', { a: '100000 0.5 0.5 0.2 0.2\n3 0.5 0.5 0.1 0.1\n', b: '3 0.2 0.2 0.1 0.1\n' });
    const plan = perImage(await readYoloDetections(labels));
    expect(plan.categories).toEqual([
      { id: 4, name: '3' },
      { id: 100001, name: '100000' },
    ]);
    expect(plan.problems).toEqual([]);
  });

  it(`refuses a class past ${MAX_YOLO_CLASS} on its own line, the other lines kept`, async () => {
    const labels = await yoloFolder('absurd', {
      a: '1000000000 0.5 0.5 0.2 0.2\n99999999999999999999 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n',
      b: `${MAX_YOLO_CLASS} 0.5 0.5 0.2 0.2\n`,
    });
    const plan = perImage(await readYoloDetections(labels));
    expect(plan.problems).toEqual([
      `${join(labels, 'a.txt')} line 1: class 1000000000 is past ${MAX_YOLO_CLASS}, the largest class number samlite reads`,
      `${join(labels, 'a.txt')} line 2: class 99999999999999999999 is past ${MAX_YOLO_CLASS}, the largest class number samlite reads`,
    ]);
    expect(plan.images.map((e) => e.sets.map((s) => s.categoryId))).toEqual([[2], [MAX_YOLO_CLASS + 1]]);
    expect(plan.categories?.map((c) => c.id)).toEqual([2, MAX_YOLO_CLASS + 1]);
  });

  it('with classes.txt, every named class is a category and an unnamed one is refused on its line', async () => {
    const labels = await yoloFolder('named', { a: '0 0.5 0.5 0.2 0.2\n5 0.5 0.5 0.2 0.2\n' }, 'cat\ndog\nbird\n');
    const plan = perImage(await readYoloDetections(labels));
    expect(plan.categories).toEqual([
      { id: 1, name: 'cat' },
      { id: 2, name: 'dog' },
      { id: 3, name: 'bird' },
    ]);
    expect(plan.problems).toEqual([expect.stringMatching(/a\.txt line 2: class 5 is not in .*labels\/classes\.txt \(3 classes\)$/)]);
  });
});

describe('class names (--classes)', () => {
  it("reads ultralytics' names: as a map or a list, and a file of one name per line", async () => {
    const map = parseClassNames('path: ../x\ntrain: images/train\nnames:\n  0: person\n  1: bicycle\n  2: 7\n', 'data.yaml', 'yaml');
    expect([...map.names]).toEqual([
      [0, 'person'],
      [1, 'bicycle'],
      [2, '7'],
    ]);
    const list = parseClassNames('nc: 2\nnames: [person, "traffic light"]\n', 'coco.yaml', 'yaml');
    expect([...list.names]).toEqual([
      [0, 'person'],
      [1, 'traffic light'],
    ]);
    expect([...parseClassNames(`${BOM}cat\r\n\r\ndog\r\n`, 'classes.txt', 'lines').names]).toEqual([
      [0, 'cat'],
      [1, 'dog'],
    ]);
  });

  it('refuses a YAML without usable names, one line naming the file', () => {
    for (const [text, message] of [
      ['train: images\n', /^d\.yaml: no class names: expected a "names:" list, or a map of class number to name/],
      ['names: {0: a, x: b}\n', /^d\.yaml: names: "x" is not a class number from 0 to 999999$/],
      ['names: [a, null]\n', /^d\.yaml: names: class 1 has no name$/],
      ['nc: 3\nnames: [a, b]\n', /^d\.yaml: nc is 3 but "names:" lists 2 classes$/],
      ['names: [a\n', /^d\.yaml: not valid YAML \(.*line 2, column 1\)$/],
    ] as const) {
      let error: unknown;
      try {
        parseClassNames(text, 'd.yaml', 'yaml');
      } catch (err) {
        error = err;
      }
      expect(error, text).toBeInstanceOf(UsageError);
      expect((error as Error).message, text).toMatch(message);
    }
  });

  it('names the categories of labels that came without classes.txt (ultralytics predict --save-txt)', async () => {
    const labels = await yoloFolder('predict', { a: '0 0.5 0.5 0.2 0.2 0.9\n2 0.5 0.5 0.1 0.1 0.8\n' });
    await writeFile(join(work, 'data.yaml'), `${BOM}names:\n  0: person\n  1: bicycle\n  2: car\n  3: motorcycle\n`);
    const plan = perImage(await readPrompts(labels, { classes: join(work, 'data.yaml') }));
    expect(plan.categories?.map((c) => c.name)).toEqual(['person', 'bicycle', 'car', 'motorcycle']);
    expect(plan.images[0].sets.map((s) => s.categoryId)).toEqual([1, 3]);
    // A classes.txt given the same way works too, and --classes wins over one beside the labels.
    const beside = await yoloFolder('predict-beside', { a: '1 0.5 0.5 0.2 0.2\n' }, 'wrong\nnames\n');
    await writeFile(join(work, 'mine.txt'), 'person\nbicycle\n');
    expect(perImage(await readPrompts(beside, { classes: join(work, 'mine.txt') })).categories?.map((c) => c.name)).toEqual(['person', 'bicycle']);
  });

  it('is refused for prompts that are not YOLO labels', async () => {
    await writeFile(join(work, 'plain.json'), JSON.stringify([{ points: [[1, 2]] }]));
    const error = await thrown(() => readPrompts(join(work, 'plain.json'), { classes: join(work, 'data.yaml') }));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(/^--classes names the classes of YOLO labels/);
  });
});

describe('COCO ids', () => {
  it('refuses ids that are not safe integers when the file is read, naming the file and the entry', () => {
    const doc = {
      images: [
        { id: 1, file_name: 'a.jpg' },
        { id: 1e300, file_name: 'b.jpg' },
        { id: 2.5, file_name: 'c.jpg' },
      ],
      annotations: [
        { id: 1, image_id: 1, category_id: 1e300, bbox: [0, 0, 5, 5] },
        { id: 2, image_id: 1, category_id: 1.5, bbox: [0, 0, 5, 5] },
        { id: 3e300, image_id: 1, category_id: 1, bbox: [0, 0, 5, 5] },
        { id: 4, image_id: 9007199254740993, category_id: 1, bbox: [0, 0, 5, 5] },
        { id: 5, image_id: 1, category_id: 1, bbox: [0, 0, 5, 5] },
      ],
    };
    const plan = perImage(parseCocoDetections(doc, 'dets.json', '/data'));
    const range = 'a whole number from -9007199254740991 to 9007199254740991';
    expect(plan.problems).toEqual([
      `dets.json: images[1] (b.jpg): "id" 1e+300 is not ${range} or a string`,
      `dets.json: images[2] (c.jpg): "id" 2.5 is not ${range} or a string`,
      `dets.json: annotation 0 (id 1), image a.jpg: "category_id" 1e+300 is not ${range}`,
      `dets.json: annotation 1 (id 2), image a.jpg: "category_id" 1.5 is not ${range}`,
      `dets.json: annotation 2: "id" 3e+300 is not ${range} or a string`,
      `dets.json: annotation 3 (id 4): "image_id" 9007199254740992 is not ${range} or a string`,
    ]);
    expect(plan.images.map((e) => [e.fileName, e.sets.map((s) => s.detectionId)])).toEqual([['a.jpg', [5]]]);
    expect(plan.categories).toEqual([{ id: 1, name: '1' }]);
  });

  it('refuses a category id past the safe integers in "categories" too', () => {
    const doc = { images: [{ id: 1, file_name: 'a.jpg' }], annotations: [], categories: [{ id: 1e300, name: 'x' }, { id: 2, name: 'y' }] };
    const plan = perImage(parseCocoDetections(doc, 'd.json', '/'));
    expect(plan.problems).toEqual(['d.json: categories[0]: id 1e+300 is not a whole number from -9007199254740991 to 9007199254740991']);
    expect(plan.categories).toEqual([{ id: 2, name: 'y' }]);
  });

  it('refuses a file_name holding a NUL, naming the file and the entry; the other images stay', () => {
    const doc = { images: [{ id: 1, file_name: 'a\u0000.jpg' }, { id: 2, file_name: 'b.jpg' }], annotations: [] };
    const plan = perImage(parseCocoDetections(doc, 'd.json', '/data'));
    expect(plan.problems).toEqual(['d.json: images[0]: "file_name" "a\\u0000.jpg" holds a NUL character']);
    expect(plan.images.map((e) => e.fileName)).toEqual(['b.jpg']);
  });
});

describe('COCO results lists (--coco-images)', () => {
  const instances = {
    info: {},
    images: [
      { id: 139, file_name: '000000000139.jpg', width: 640, height: 426 },
      { id: 285, file_name: '000000000285.jpg', width: 586, height: 640 },
      { id: 632, file_name: '000000000632.jpg', width: 640, height: 483 },
    ],
    // Ground truth: never prompts.
    annotations: [{ id: 1, image_id: 139, category_id: 1, bbox: [1, 1, 9, 9] }],
    categories: [
      { id: 1, name: 'person', supercategory: 'person' },
      { id: 23, name: 'bear', supercategory: 'animal' },
    ],
  };
  const results = [
    { image_id: 285, category_id: 23, bbox: [10.5, 20, 300, 400.25], score: 0.98 },
    { image_id: 139, category_id: 1, bbox: [600, 400, 100, 100], score: 0.41, segmentation: { size: [426, 640], counts: 'x' } },
    { image_id: 285, category_id: 1, bbox: [0, 0, 5, 5], score: 0.2 },
    { image_id: 999, category_id: 1, bbox: [0, 0, 5, 5], score: 0.9 },
    { image_id: 139, category_id: 5, bbox: [0, 0, 5, 5], score: 0.9 },
  ];

  beforeAll(async () => {
    await mkdir(join(work, 'annotations'), { recursive: true });
    await writeFile(join(work, 'annotations', 'instances_val.json'), JSON.stringify(instances));
    await writeFile(join(work, 'results.json'), JSON.stringify(results));
  });

  it('reads each result as a box prompt on its image, with the categories and file names of the COCO file', async () => {
    const plan = perImage(
      await readPrompts(join(work, 'results.json'), { cocoImages: join(work, 'annotations', 'instances_val.json'), imageRoot: '/coco/val2017', minScore: 0.3 }),
    );
    expect(plan.categories).toEqual([
      { id: 1, name: 'person' },
      { id: 23, name: 'bear' },
    ]);
    expect(plan.images.map((e) => [e.image, e.sourceId, e.sets.length])).toEqual([
      ['/coco/val2017/000000000139.jpg', 139, 1],
      ['/coco/val2017/000000000285.jpg', 285, 1],
      ['/coco/val2017/000000000632.jpg', 632, 0],
    ]);
    // Ids as pycocotools' loadRes gives them (position + 1); clipped to the declared size.
    expect(plan.images[1].sets[0]).toMatchObject({ categoryId: 23, detectionId: 1, detectionScore: 0.98, prompt: { box: { x1: 10.5, y1: 20, x2: 310.5, y2: 420.25 } } });
    expect(plan.images[0].sets[0]).toMatchObject({ categoryId: 1, detectionId: 2, prompt: { box: { x1: 600, y1: 400, x2: 640, y2: 426 } } });
    expect(plan.belowMinScore).toBe(1);
    const shown = join(work, 'results.json');
    expect(plan.problems).toEqual([
      `${shown}: result 3: unknown image_id 999 (not in ${join(work, 'annotations', 'instances_val.json')})`,
      `${shown}: result 4, image 000000000139.jpg: unknown category_id 5`,
    ]);
  });

  it('without its COCO file, is one line saying to add it', async () => {
    const error = await thrown(() => readPrompts(join(work, 'results.json')));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(`${join(work, 'results.json')}: a COCO results list names images by id only: add --coco-images <the COCO file it belongs to, e.g. instances_val2017.json>`);
    // Also when the format is named.
    await expect(readPrompts(join(work, 'results.json'), { format: 'coco' })).rejects.toThrow(/add --coco-images/);
  });

  it('--coco-images is refused with anything but a results list', async () => {
    await writeFile(join(work, 'prompts.json'), JSON.stringify([{ points: [[1, 2]] }]));
    const cocoImages = join(work, 'annotations', 'instances_val.json');
    await expect(readPrompts(join(work, 'prompts.json'), { cocoImages })).rejects.toThrow(/--coco-images pairs with a COCO results list .*, and this is not one$/);
    await expect(readPrompts(cocoImages, { cocoImages })).rejects.toThrow(/--coco-images pairs with a COCO results list/);
    await expect(readPrompts(join(work, 'results.json'), { cocoImages: join(work, 'prompts.json') })).rejects.toThrow(/prompts\.json: not a COCO file/);
    await expect(readPrompts(join(work, 'results.json'), { cocoImages: join(work, 'none.json') })).rejects.toThrow(/none\.json: no such COCO file$/);
  });
});

describe('byte-order marks', () => {
  it('are skipped in samlite prompts, COCO files, results lists and their COCO file, YOLO labels, class files and stdin', async () => {
    await writeFile(join(work, 'bom-prompts.json'), `${BOM}[{"points": [[1, 2]]}]`);
    await writeFile(join(work, 'bom-coco.json'), `${BOM}${JSON.stringify({ images: [{ id: 1, file_name: 'a.jpg' }], annotations: [{ image_id: 1, category_id: 1, bbox: [1, 1, 2, 2] }] })}`);
    await writeFile(join(work, 'bom-results.json'), `${BOM}[{"image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "score": 0.5}]`);
    expect((await readPrompts(join(work, 'bom-prompts.json'))).kind).toBe('shared');
    expect(perImage(await readPrompts(join(work, 'bom-coco.json'))).images[0].sets).toHaveLength(1);
    expect(perImage(await readPrompts(join(work, 'bom-results.json'), { cocoImages: join(work, 'bom-coco.json') })).images[0].sets).toHaveLength(1);
    const stdin = Readable.from([Buffer.from(`${BOM}[{"box": [1, 2, 3, 4]}]`)]);
    expect((await readPrompts('-', { stdin })).kind).toBe('shared');
    expect(parsePromptsJson(`${BOM}{"prompts": [{"points": [[1, 2]]}]}`, 'text', '/').kind).toBe('shared');
    expect(await readLines(Readable.from([Buffer.from(`${BOM}a.png\nb.png\n`)]))).toEqual(['a.png', 'b.png']);
    const labels = await yoloFolder('bom', { a: `${BOM}0 0.5 0.5 0.2 0.2\n` }, `${BOM}cat\n`);
    const yolo = perImage(await readYoloDetections(labels));
    expect(yolo.categories).toEqual([{ id: 1, name: 'cat' }]);
    expect(yolo.problems).toEqual([]);
  });
});

describe('a file under the wrong --prompts-format', () => {
  it('a JSON file read as YOLO labels is "not YOLO labels", a usage error, before any image is looked for', async () => {
    await writeFile(join(work, 'd.json'), JSON.stringify([{ points: [[1, 2]] }]));
    const error = await thrown(() => readPrompts(join(work, 'd.json'), { format: 'yolo' }));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(
      `${join(work, 'd.json')}: not YOLO labels: no line is "class cx cy w h [confidence]" (line 1: "[{"points":[[1,2]]}]"); a JSON file is read without --prompts-format yolo`,
    );
  });

  it('a folder without label files, a COCO file read as samlite prompts, and YOLO segmentation outlines are said to be what they are', async () => {
    await mkdir(join(work, 'photos'), { recursive: true });
    await writeFile(join(work, 'photos', 'a.png'), '');
    await expect(readPrompts(join(work, 'photos'), { format: 'yolo' })).rejects.toThrow(/photos: not YOLO labels: no \.txt label file in this folder or below it$/);
    await writeFile(join(work, 'c.json'), JSON.stringify({ images: [{ id: 1, file_name: 'a.jpg' }] }));
    await expect(readPrompts(join(work, 'c.json'), { format: 'samlite' })).rejects.toThrow(/c\.json: a COCO file, not samlite prompts: give --prompts-format coco, or leave the format out$/);
    const outline = parseYoloLabels('0 0.1 0.1 0.5 0.1 0.5 0.5 0.1 0.5\n', 'seg.txt');
    expect(outline.problems).toEqual([expect.stringMatching(/^seg\.txt line 1: expected .* \(an outline of YOLO segmentation labels\? --prompts reads detection boxes\)$/)]);
  });

  it("a samlite prompts file naming an image with a NUL is one line naming the file and the entry", () => {
    const text = JSON.stringify({ images: [{ image: 'a\u0000.png', prompts: [{ points: [[1, 1]] }] }] });
    expect(() => parsePromptsJson(text, 'p.json', '/')).toThrow(/^p\.json: images\[0\]: image: holds a NUL character$/);
  });
});
