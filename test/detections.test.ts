/**
 * Detection files as prompts, in-process: COCO detection JSON and YOLO label folders
 * become box prompt sets carrying category, detection id and score; entries that cannot
 * be used are reported one line each while the rest stay.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/util/errors.js';
import { parseCocoDetections, parseYoloLabels, promptForImage, readPrompts, readYoloDetections } from '../src/prompts/index.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'samlite-dets-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

const COCO = {
  images: [
    { id: 5, file_name: 'sub/a.jpg', width: 100, height: 80 },
    { id: 6, file_name: 'b.jpg' },
    { id: 7, file_name: 'empty.jpg', width: 10, height: 10 },
  ],
  annotations: [
    { id: 1, image_id: 5, category_id: 3, bbox: [10, 20, 30, 40], score: 0.9 },
    { id: 2, image_id: 6, category_id: 1, bbox: [0, 0, 5, 5], score: 0.2 },
    { id: 3, image_id: 5, category_id: 1, bbox: [90, 70, 30, 30] },
    { id: 4, image_id: 99, category_id: 1, bbox: [0, 0, 5, 5] },
    { id: 5, image_id: 5, category_id: 1, bbox: [0, 0, 5] },
    { id: 6, image_id: 5, category_id: 8, bbox: [0, 0, 5, 5] },
    { id: 7, image_id: 5, category_id: 1, bbox: [200, 0, 5, 5] },
  ],
  categories: [
    { id: 1, name: 'person' },
    { id: 3, name: 'car' },
  ],
};

describe('COCO detection files', () => {
  it('one box prompt set per detection, carrying category, id and score; clipped to the declared size', () => {
    const plan = parseCocoDetections(COCO, 'dets.json', '/data', { minScore: 0.5 });
    if (plan.kind !== 'per-image') throw new Error('expected a per-image plan');
    expect(plan.categories).toEqual(COCO.categories);
    expect(plan.images.map((e) => [e.image, e.fileName, e.root, e.sourceId, e.sets.length])).toEqual([
      ['/data/sub/a.jpg', 'sub/a.jpg', '/data', 5, 2],
      ['/data/b.jpg', 'b.jpg', '/data', 6, 0], // its only box is below --min-score
      ['/data/empty.jpg', 'empty.jpg', '/data', 7, 0], // kept: a dataset lists images without objects
    ]);
    const [first, second] = plan.images[0].sets;
    expect(first).toMatchObject({ index: 0, categoryId: 3, detectionId: 1, detectionScore: 0.9, prompt: { box: { x1: 10, y1: 20, x2: 40, y2: 60 } } });
    expect(second).toMatchObject({ index: 1, categoryId: 1, detectionId: 3, prompt: { box: { x1: 90, y1: 70, x2: 100, y2: 80 } } });
    expect(second.detectionScore).toBeUndefined();
    expect(plan.belowMinScore).toBe(1);
  });

  it('reports each unusable entry on one line naming the file and the entry', () => {
    const plan = parseCocoDetections(COCO, 'dets.json', '/data', { imageRoot: '/photos' });
    if (plan.kind !== 'per-image') throw new Error('expected a per-image plan');
    expect(plan.images[0].image).toBe('/photos/sub/a.jpg');
    expect(plan.problems).toEqual([
      'dets.json: annotation 3 (id 4): unknown image_id 99',
      'dets.json: annotation 4 (id 5), image sub/a.jpg: "bbox" must be [x, y, width, height] in pixels',
      'dets.json: annotation 5 (id 6), image sub/a.jpg: unknown category_id 8',
      'dets.json: annotation 6 (id 7), image sub/a.jpg: bbox [200,0,5,5] is outside the 100x80 image',
    ]);
  });

  it('an image listed twice (different ids, same file) is one entry: its boxes numbered on, the first id kept', () => {
    const doc = {
      images: [
        { id: 1, file_name: 'a.jpg' },
        { id: 2, file_name: './a.jpg' },
        { id: 3, file_name: 'b.jpg' },
      ],
      annotations: [
        { id: 10, image_id: 1, category_id: 1, bbox: [1, 1, 2, 2] },
        { id: 11, image_id: 2, category_id: 1, bbox: [3, 3, 2, 2] },
        { id: 12, image_id: 1, category_id: 1, bbox: [5, 5, 2, 2] },
      ],
    };
    const plan = parseCocoDetections(doc, 'd.json', '/data');
    if (plan.kind !== 'per-image') throw new Error('expected a per-image plan');
    expect(plan.images.map((e) => [e.image, e.sourceId, e.sets.map((s) => [s.index, s.detectionId])])).toEqual([
      ['/data/a.jpg', 1, [[0, 10], [1, 11], [2, 12]]],
      ['/data/b.jpg', 3, []],
    ]);
    expect(plan.problems).toEqual([]);
  });

  it('a box past the border is clipped to the real image size, also when the file gives no size', () => {
    const doc = {
      images: [{ id: 1, file_name: 'a.jpg' }],
      annotations: [
        { id: 1, image_id: 1, category_id: 1, bbox: [-0.3, 10, 40.6, 20] },
        { id: 2, image_id: 1, category_id: 1, bbox: [50, 10, 5, 5] },
      ],
    };
    const plan = parseCocoDetections(doc, 'd.json', '/data');
    if (plan.kind !== 'per-image') throw new Error('expected a per-image plan');
    const [near, outside] = plan.images[0].sets;
    expect(promptForImage(near, { width: 40, height: 30 }).box).toEqual({ x1: 0, y1: 10, x2: 40, y2: 30 });
    expect(() => promptForImage(outside, { width: 40, height: 30 })).toThrow('box (50, 10, 55, 15) of detection 2 is outside the 40x30 image');
  });

  it('names categories by number when the file lists none; refuses a document that is not COCO', () => {
    const plan = parseCocoDetections({ images: [{ id: 1, file_name: 'a.jpg' }], annotations: [{ image_id: 1, category_id: 4, bbox: [1, 1, 2, 2] }] }, 'd', '/');
    expect(plan.kind === 'per-image' && plan.categories).toEqual([{ id: 4, name: '4' }]);
    expect(() => parseCocoDetections([{ points: [[1, 1]] }], 'p.json', '/')).toThrow(UsageError);
  });
});

describe('YOLO labels', () => {
  it('parses class cx cy w h [confidence] into relative boxes, clipped; bad lines named by number', () => {
    const text = '0 0.5 0.5 0.2 0.4 0.8\n\n2 0.95 0.1 0.2 0.4\n1 0.5 0.5\n0 1.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2 0.1\n-1 0.5 0.5 0.1 0.1\n';
    const labels = parseYoloLabels(text, 'labels/a.txt', { minScore: 0.5 });
    expect(labels.sets).toHaveLength(2);
    expect(labels.sets[0]).toMatchObject({ categoryId: 1, detectionId: 1, detectionScore: 0.8 });
    expect(labels.sets[0].relativeBox).toEqual({ x1: 0.4, y1: 0.3, x2: 0.6, y2: 0.7 });
    const clipped = labels.sets[1].relativeBox!;
    expect([clipped.x1, clipped.y1, clipped.x2, clipped.y2].map((v) => +v.toFixed(6))).toEqual([0.85, 0, 1, 0.3]);
    expect(labels.sets[1]).toMatchObject({ categoryId: 3, detectionId: 3 });
    expect(labels.belowMinScore).toBe(1);
    expect(labels.problems).toEqual([
      'labels/a.txt line 4: expected "class cx cy w h [confidence]", got "1 0.5 0.5"',
      'labels/a.txt line 5: box (centre 1.5, 0.5) is outside the image',
      'labels/a.txt line 7: class -1 is not a whole number >= 0',
    ]);
    expect(promptForImage(labels.sets[0], { width: 200, height: 100 }).box).toEqual({ x1: 80, y1: 30, x2: 120, y2: 70 });
  });

  it('finds each label file\'s image under images/ beside labels/, names classes from classes.txt, reports a label without image', async () => {
    const root = join(work, 'ds');
    await mkdir(join(root, 'labels', 'val'), { recursive: true });
    await mkdir(join(root, 'images', 'val'), { recursive: true });
    await writeFile(join(root, 'labels', 'val', 'x.txt'), '1 0.5 0.5 0.5 0.5\n');
    await writeFile(join(root, 'labels', 'val', 'orphan.txt'), '0 0.5 0.5 0.5 0.5\n');
    await writeFile(join(root, 'labels', 'classes.txt'), 'cat\ndog\n');
    await writeFile(join(root, 'images', 'val', 'x.PNG'), '');
    const plan = await readYoloDetections(join(root, 'labels'));
    if (plan.kind !== 'per-image') throw new Error('expected a per-image plan');
    expect(plan.categories).toEqual([
      { id: 1, name: 'cat' },
      { id: 2, name: 'dog' },
    ]);
    expect(plan.images.map((e) => [e.image, e.fileName, e.sets.length])).toEqual([[join(root, 'images', 'val', 'x.PNG'), 'val/x.PNG', 1]]);
    expect(plan.problems).toEqual([expect.stringMatching(/labels\/val\/orphan\.txt: no image val\/orphan\.\* under /)]);

    // Images named on the command line take the label file of their stem; none means no boxes.
    const named = await readYoloDetections(join(root, 'labels', 'val'), { images: ['/elsewhere/x.jpg', '/elsewhere/y.jpg'] });
    expect(named.kind === 'per-image' && named.images.map((e) => [e.image, e.sets.length])).toEqual([
      ['/elsewhere/x.jpg', 1],
      ['/elsewhere/y.jpg', 0],
    ]);
  });
});

describe('--prompts format', () => {
  it('is told by content: a folder is YOLO, a COCO object is COCO, a list is samlite prompts', async () => {
    await writeFile(join(work, 'coco.json'), JSON.stringify(COCO));
    await writeFile(join(work, 'own.json'), JSON.stringify([{ points: [[1, 2]] }]));
    expect((await readPrompts(join(work, 'coco.json'))).kind === 'per-image').toBe(true);
    expect((await readPrompts(join(work, 'own.json'))).kind).toBe('shared');
    await expect(readPrompts(join(work, 'own.json'), { format: 'coco' })).rejects.toThrow(/not a COCO file/);
    await expect(readPrompts(join(work, 'own.json'), { minScore: 0.5 })).rejects.toThrow(/apply to detection files/);
    const yolo = await readPrompts(join(work, 'ds', 'labels'));
    expect(yolo.kind === 'per-image' && yolo.categories?.length).toBe(2);
  });
});
