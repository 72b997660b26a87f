import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expandInputs } from '../src/batch/inputs.js';
import { inShard, parseShard } from '../src/batch/shard.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samlite-inputs-'));
  await mkdir(join(dir, 'photos/sub'), { recursive: true });
  for (const f of ['photos/b.jpg', 'photos/a.PNG', 'photos/notes.txt', 'photos/sub/c.webp', 'photos/sub/a.png', 'loose.dat']) {
    await writeFile(join(dir, f), 'x');
  }
});

describe('expandInputs', () => {
  it('takes image files from a folder, sorted, skipping other files and sub-folders', async () => {
    const { items, problems } = await expandInputs(['photos'], { cwd: dir });
    expect(items.map((i) => i.display)).toEqual(['photos/a.PNG', 'photos/b.jpg']);
    expect(items.every((i) => i.root === join(dir, 'photos'))).toBe(true);
    expect(problems).toEqual([]);
  });

  it('descends with recursive and keeps same-named files apart', async () => {
    const { items } = await expandInputs(['photos'], { cwd: dir, recursive: true });
    expect(items.map((i) => i.display)).toEqual(['photos/a.PNG', 'photos/b.jpg', 'photos/sub/a.png', 'photos/sub/c.webp']);
  });

  it('always tries explicit files, whatever their extension', async () => {
    const { items } = await expandInputs(['loose.dat', 'photos/notes.txt'], { cwd: dir });
    expect(items.map((i) => i.path)).toEqual([join(dir, 'loose.dat'), join(dir, 'photos/notes.txt')]);
    expect(items[0].root).toBeUndefined();
  });

  it('expands globs to image files only', async () => {
    const { items } = await expandInputs(['photos/**/*'], { cwd: dir });
    expect(items.map((i) => i.display)).toEqual(['photos/a.PNG', 'photos/b.jpg', 'photos/sub/a.png', 'photos/sub/c.webp']);
    expect(items[0].root).toBe(join(dir, 'photos'));
  });

  it('reads - as one path per line and removes duplicates', async () => {
    const { items } = await expandInputs(['photos/b.jpg', '-'], {
      cwd: dir,
      stdinLines: async () => ['photos/b.jpg', 'photos/sub/c.webp'],
    });
    expect(items.map((i) => i.display)).toEqual(['photos/b.jpg', 'photos/sub/c.webp']);
  });

  it('reports arguments that match nothing without dropping the rest', async () => {
    const { items, problems } = await expandInputs(['missing.jpg', 'photos/*.gif', 'photos/b.jpg'], { cwd: dir });
    expect(items.map((i) => i.display)).toEqual(['photos/b.jpg']);
    expect(problems).toEqual([
      { input: 'missing.jpg', error: 'no such file or directory' },
      { input: 'photos/*.gif', error: 'pattern matches no images' },
    ]);
  });

  it('takes symbolic links to images from a folder, and leaves a dangling one to be reported when opened', async () => {
    await mkdir(join(dir, 'links/sub'), { recursive: true });
    await symlink(join(dir, 'photos/b.jpg'), join(dir, 'links/b-link.jpg'));
    await symlink(join(dir, 'photos/sub'), join(dir, 'links/sub-link')); // a folder link: not descended
    await symlink(join(dir, 'missing.png'), join(dir, 'links/dangling.png'));
    await writeFile(join(dir, 'links/sub/d.png'), 'x');
    const { items, problems } = await expandInputs(['links'], { cwd: dir, recursive: true });
    expect(items.map((i) => i.display)).toEqual(['links/b-link.jpg', 'links/dangling.png', 'links/sub/d.png']);
    expect(problems).toEqual([]);
  });

  it('takes a walked or globbed link to an image that is itself an input once, under the image', async () => {
    // As a yolo-seg --out inside the walked folder holds: images/ links to the inputs.
    await mkdir(join(dir, 'shots/ds/images'), { recursive: true });
    await writeFile(join(dir, 'shots/a.png'), 'x');
    await writeFile(join(dir, 'elsewhere.png'), 'x');
    await symlink('../../a.png', join(dir, 'shots/ds/images/a.png'));
    await symlink(join(dir, 'elsewhere.png'), join(dir, 'shots/ds/images/e.png'));
    await symlink(join(dir, 'elsewhere.png'), join(dir, 'shots/ds/images/e2.png'));
    const walked = await expandInputs(['shots'], { cwd: dir, recursive: true });
    expect(walked.items.map((i) => i.display)).toEqual(['shots/a.png', 'shots/ds/images/e.png']);
    const globbed = await expandInputs(['shots/**/*.png'], { cwd: dir });
    expect(globbed.items.map((i) => i.display)).toEqual(['shots/a.png', 'shots/ds/images/e.png']);
  });

  it('reports a named pipe and a symbolic link loop for what they are', async () => {
    execFileSync('mkfifo', [join(dir, 'pipe.jpg')]);
    await symlink('loop2.png', join(dir, 'loop1.png'));
    await symlink('loop1.png', join(dir, 'loop2.png'));
    const { items, problems } = await expandInputs(['pipe.jpg', 'loop1.png', 'photos/b.jpg'], { cwd: dir });
    expect(items.map((i) => i.display)).toEqual(['photos/b.jpg']);
    expect(problems).toEqual([
      { input: 'pipe.jpg', error: 'not a regular file (a named pipe)' },
      { input: 'loop1.png', error: 'a symbolic link loop (too many levels of symbolic links)' },
    ]);
  });
});

describe('shards', () => {
  it('parses k/n and rejects nonsense', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['0/4', '5/4', '1/0', 'a/b', '1', '1/2/3']) expect(() => parseShard(bad)).toThrow(/--shard/);
  });

  it('splits keys into disjoint shards that cover everything', () => {
    const keys = Array.from({ length: 500 }, (_, i) => `photos/img_${i}.jpg`);
    const n = 4;
    const owners = keys.map((k) => [1, 2, 3, 4].filter((i) => inShard(k, { index: i, count: n })));
    expect(owners.every((o) => o.length === 1)).toBe(true);
    const sizes = [1, 2, 3, 4].map((i) => owners.filter((o) => o[0] === i).length);
    // Roughly balanced: each shard gets a fair share of 500.
    for (const s of sizes) expect(s).toBeGreaterThan(80);
  });
});
