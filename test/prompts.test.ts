import { describe, expect, it } from 'vitest';
import { checkPromptInImage, parseBoxFlag, parsePointFlag, parsePromptsJson, promptFromFlags } from '../src/prompts/index.js';

describe('prompt flags', () => {
  it('parses points and boxes in pixels, decimals allowed', () => {
    expect(parsePointFlag('120,80')).toEqual({ x: 120, y: 80 });
    expect(parsePointFlag(' 12.5 , 3 ')).toEqual({ x: 12.5, y: 3 });
    expect(parseBoxFlag('10,20,200,180')).toEqual({ x1: 10, y1: 20, x2: 200, y2: 180 });
  });

  it.each(['120', '120,', 'a,b', '1,2,3', 'NaN,1', 'Infinity,2', '1e3,2', ''])('rejects point %j with a usage error', (text) => {
    expect(() => parsePointFlag(text)).toThrow(/--point .*expected x,y/);
    try {
      parsePointFlag(text);
    } catch (err) {
      expect((err as { exitCode: number }).exitCode).toBe(2);
    }
  });

  it('rejects boxes with corners out of order', () => {
    expect(() => parseBoxFlag('50,10,20,80')).toThrow('--box 50,10,20,80: x2 (20) is less than x1 (50)');
    expect(() => parseBoxFlag('10,50,20,40')).toThrow('y2 (40) is less than y1 (50)');
  });

  it('combines flags into one prompt set', () => {
    expect(promptFromFlags({ point: ['1,2', '3,4'], negPoint: ['5,6'], box: '0,0,9,9' })).toEqual({
      points: [
        { x: 1, y: 2 },
        { x: 3, y: 4 },
      ],
      negPoints: [{ x: 5, y: 6 }],
      box: { x1: 0, y1: 0, x2: 9, y2: 9 },
    });
    expect(promptFromFlags({})).toBeUndefined();
    expect(() => promptFromFlags({ negPoint: ['5,6'] })).toThrow(/--neg-point needs at least one --point or a --box/);
  });
});

describe('prompts JSON', () => {
  it('accepts a bare list shared by every image', () => {
    const plan = parsePromptsJson('[{"points": [[1, 2]]}, {"box": [0, 0, 5, 5], "id": "cup"}]', 'p.json', '/base');
    expect(plan.kind).toBe('shared');
    if (plan.kind !== 'shared') return;
    expect(plan.sets.map((s) => s.index)).toEqual([0, 1]);
    expect(plan.sets[1]).toEqual({ index: 1, id: 'cup', prompt: { points: [], negPoints: [], box: { x1: 0, y1: 0, x2: 5, y2: 5 } } });
  });

  it('accepts {"prompts": [...]}', () => {
    const plan = parsePromptsJson('{"prompts": [{"points": [[1, 2]], "neg_points": [[3, 4]]}]}', 'p.json', '/base');
    expect(plan).toEqual({
      kind: 'shared',
      sets: [{ index: 0, prompt: { points: [{ x: 1, y: 2 }], negPoints: [{ x: 3, y: 4 }] } }],
    });
  });

  it('resolves per-image paths against the base folder', () => {
    const plan = parsePromptsJson(
      '{"images": [{"image": "a.png", "prompts": [{"points": [[1, 2]]}]}, {"image": "/abs/b.png", "prompts": [{"box": [1, 1, 2, 2]}]}]}',
      'p.json',
      '/base/dir',
    );
    expect(plan.kind).toBe('per-image');
    if (plan.kind !== 'per-image') return;
    expect(plan.images.map((i) => i.image)).toEqual(['/base/dir/a.png', '/abs/b.png']);
  });

  it('merges the prompt sets of an image listed twice, numbered in file order', () => {
    const plan = parsePromptsJson(
      JSON.stringify({
        images: [
          { image: 'a.png', prompts: [{ points: [[1, 2]] }] },
          { image: 'b.png', prompts: [{ points: [[3, 4]] }] },
          { image: './a.png', prompts: [{ box: [0, 0, 5, 5], id: 'cup' }, { points: [[5, 6]] }] },
        ],
      }),
      'p.json',
      '/base',
    );
    if (plan.kind !== 'per-image') throw new Error('expected per-image');
    expect(plan.images.map((i) => [i.image, i.sets.map((s) => s.index)])).toEqual([
      ['/base/a.png', [0, 1, 2]],
      ['/base/b.png', [0]],
    ]);
    expect(plan.images[0].sets[1]).toMatchObject({ index: 1, id: 'cup' });
  });

  it.each([
    ['not json', '{', /^p\.json: not valid JSON/],
    ['a bare prompt set', '{"points": [[1, 2]]}', /^p\.json: a single prompt set must be inside a list: \[\{"points":\[\[1,2\]\]\}\]/],
    ['an object of no known shape', '{"image": "a.png", "points": [[1, 2]]}', /^p\.json: expected a list of prompt sets, .* got an object with keys image, points$/],
    ['wrong top-level type', '42', /^p\.json: expected a list of prompt sets/],
    ['point with one coordinate', '[{"points": [[1]]}]', /^p\.json: prompt 0: points\.0/],
    ['NaN as a string', '[{"points": [["NaN", 2]]}]', /^p\.json: prompt 0: points\.0\.0: .*number/i],
    ['unknown field', '[{"points": [[1, 2]], "pionts": []}]', /^p\.json: prompt 0: .*pionts/],
    ['empty prompt set', '[{"points": [[1, 2]]}, {}]', /^p\.json: prompt 1: needs at least one point or a box/],
    ['box corners swapped', '{"prompts": [{"box": [9, 0, 1, 5]}]}', /^p\.json: prompt 0: box: x2 \(1\) is less than x1 \(9\)/],
    [
      'per-image bad box names the image',
      '{"images": [{"image": "cat.jpg", "prompts": [{"points": [[1, 1]]}, {"box": [0, 9, 5, 1]}]}]}',
      /^p\.json: image cat\.jpg, prompt 1: box: y2 \(1\) is less than y1 \(9\)/,
    ],
    ['per-image missing prompts', '{"images": [{"image": "cat.jpg"}]}', /^p\.json: image cat\.jpg: prompts: /],
  ])('%s gives a one-line message naming the prompt', (_name, text, pattern) => {
    let message = '';
    try {
      parsePromptsJson(text, 'p.json', '/base');
    } catch (err) {
      message = (err as Error).message;
      expect((err as { exitCode: number }).exitCode).toBe(2);
    }
    expect(message).toMatch(pattern);
    expect(message).not.toContain('\n');
  });
});

describe('prompt bounds', () => {
  const size = { width: 100, height: 50 };
  it('accepts points inside and boxes up to the edge', () => {
    expect(() => checkPromptInImage({ points: [{ x: 0, y: 0 }, { x: 99.5, y: 49 }], box: { x1: 0, y1: 0, x2: 100, y2: 50 } }, size)).not.toThrow();
  });
  it('names the point outside', () => {
    expect(() => checkPromptInImage({ points: [{ x: 100, y: 10 }] }, size)).toThrow('point (100, 10) is outside the 100x50 image');
    expect(() => checkPromptInImage({ points: [{ x: 1, y: 1 }], negPoints: [{ x: -1, y: 1 }] }, size)).toThrow(
      'background point (-1, 1) is outside the 100x50 image',
    );
    expect(() => checkPromptInImage({ box: { x1: 10, y1: 10, x2: 120, y2: 20 } }, size)).toThrow('box (10, 10, 120, 20) is outside');
  });
});
