/**
 * `samlite everything` end to end: the real bin/samlite over folders of generated scenes
 * with the built-in model — the batch walker, bad inputs, resume, shards, stdin lists,
 * writers and Ctrl-C.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath, makeScene } from '../scripts/fixtures/index.js';
import { refDecodeCocoRle } from './helpers/coco-rle-reference.js';
import { inShard } from '../src/batch/shard.js';
import { damagedJpegs } from './helpers/damaged-jpeg.js';
import { assertBuilt, jsonLines, killLeftoverRuns, runSamlite, runSamliteOnTty, startSamliteHeld, startSamliteOnTtyHeld, type CliRun } from './helpers/run-cli.js';

let work: string;
let home: string;
let photos: string;
const GOOD = ['a.png', 'b.png', 'sub/c.png', 'd.png'];

function samlite(args: string[], stdin?: string): Promise<CliRun> {
  return runSamlite(args, { cwd: work, stdin, env: { HOME: work, SAMLITE_HOME: home } });
}

/** Every file under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => statSync(join(dir, f)).isFile()).sort();
}

beforeAll(async () => {
  assertBuilt();
  work = mkdtempSync(join(tmpdir(), 'samlite-every-'));
  home = mkdtempSync(join(tmpdir(), 'samlite-every-home-'));
  photos = join(work, 'photos');
  mkdirSync(join(photos, 'sub'), { recursive: true });
  for (const [i, name] of GOOD.entries()) {
    const scene = makeScene({ width: 96, height: 72, seed: 500 + i, shapes: 3, minSize: 24 });
    await sharp(scene.image.data, { raw: { width: 96, height: 72, channels: 3 } }).png().toFile(join(photos, name));
  }
  copyFileSync(fixturePath('bad/truncated.jpg'), join(photos, 'corrupt.jpg'));
  const jpeg = await sharp(makeScene({ width: 96, height: 72, seed: 77 }).image.data, { raw: { width: 96, height: 72, channels: 3 } }).jpeg().toBuffer();
  writeFileSync(join(photos, 'cut-with-end.jpg'), damagedJpegs(jpeg).cutWithEnd);
  copyFileSync(fixturePath('bad/empty.png'), join(photos, 'empty.png'));
  copyFileSync(fixturePath('bad/not-an-image.png'), join(photos, 'text.png'));
  writeFileSync(join(photos, 'notes.txt'), 'not picked from a folder');
});
afterEach(killLeftoverRuns);
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

describe('a folder with good and bad images', () => {
  const out = () => join(work, 'out');
  let first: CliRun;

  beforeAll(async () => {
    first = await samlite(['everything', 'photos', '-r', '--grid', '8', '--format', 'json,labels,overlay,masks,polygons', '--out', out()]);
  });

  it('writes every good image, names each bad one, exits 1', () => {
    expect(first.code).toBe(1);
    const lines = jsonLines(first.stdout);
    const done = lines.filter((l) => 'masks' in l);
    expect(done.map((l) => l.image).sort()).toEqual(GOOD.map((g) => join('photos', g)).sort());
    for (const l of done) {
      expect(l.model).toBe('builtin');
      expect(l.masks as number).toBeGreaterThan(0);
      expect(typeof l.ms).toBe('number');
    }
    const failed = lines.filter((l) => 'error' in l).map((l) => [l.image, l.error]);
    expect(failed.sort()).toEqual([
      ['photos/corrupt.jpg', 'truncated or corrupt JPEG data'],
      ['photos/cut-with-end.jpg', 'truncated or corrupt JPEG data'],
      ['photos/empty.png', 'empty file'],
      ['photos/text.png', 'not an image (unrecognised format)'],
    ]);
    expect(first.stderr).toContain('error: photos/empty.png: empty file');
    expect(first.stderr).toMatch(/4 images done \(\d+ masks\)/);
  });

  it('keeps sub-folders under --out, leaves no temporary files, and the outputs agree', async () => {
    const files = tree(out());
    expect(files.filter((f) => f.includes('partial'))).toEqual([]);
    for (const stem of ['a', 'b', 'sub/c', 'd']) {
      for (const suffix of ['.json', '.labels.png', '.overlay.png', '.geojson', '.coco-polygons.json', '.masks/metadata.csv']) {
        expect(files).toContain(`${stem}${suffix}`);
      }
    }
    // The SA-1B json and the label map describe the same masks: each label value's pixels
    // are inside its annotation's mask (the label map resolves overlaps).
    const doc = JSON.parse(readFileSync(join(out(), 'a.json'), 'utf8'));
    expect(doc.image).toMatchObject({ width: 96, height: 72, file_name: 'a.png' });
    const meta = await sharp(join(out(), 'a.labels.png')).metadata();
    expect([meta.width, meta.height, meta.channels, meta.depth]).toEqual([96, 72, 1, 'uchar']);
    // sharp expands grey to sRGB on raw output unless asked for the one channel.
    const { data } = await sharp(join(out(), 'a.labels.png')).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    for (const ann of doc.annotations) {
      const mask = refDecodeCocoRle(ann.segmentation);
      expect(mask.data.reduce((n: number, v: number) => n + v, 0)).toBe(ann.area);
      for (let i = 0; i < data.length; i++) if (data[i] === ann.id) expect(mask.data[i]).toBe(1);
    }
    const geo = JSON.parse(readFileSync(join(out(), 'a.geojson'), 'utf8'));
    expect(geo.type).toBe('FeatureCollection');
    expect(geo.features).toHaveLength(doc.annotations.length);
  });

  it('a rerun with --skip-existing does no work; without it, existing outputs stop the run', async () => {
    const before = tree(out()).map((f) => [f, statSync(join(out(), f)).mtimeMs]);
    const again = await samlite(['everything', 'photos', '-r', '--grid', '8', '--format', 'json,labels,overlay,masks,polygons', '--out', out(), '--skip-existing']);
    expect(again.code).toBe(1); // the bad files still fail
    expect(jsonLines(again.stdout).filter((l) => 'masks' in l)).toEqual([]);
    expect(again.stderr).toMatch(/4 skipped \(already done\)/);
    expect(tree(out()).map((f) => [f, statSync(join(out(), f)).mtimeMs])).toEqual(before);

    const clash = await samlite(['everything', 'photos/a.png', '--grid', '8', '--out', out()]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain(`${join(out(), 'a.json')} already exists; pass --overwrite to replace it or --skip-existing to keep finished images`);
  });
});

describe('inputs and shards', () => {
  it('--shard auto: three Slurm array tasks at once over one folder take disjoint shards that cover everything', async () => {
    // What `sbatch --array=5-7` gives its tasks; all three write to one --out, as on a cluster.
    const out = join(work, 'shards');
    const task = (id: number) =>
      runSamlite(['everything', 'photos', '-r', '--grid', '4', '--shard', 'auto', '--skip-existing', '--out', out], {
        cwd: work,
        env: { HOME: work, SAMLITE_HOME: home, SLURM_ARRAY_TASK_ID: String(id), SLURM_ARRAY_TASK_MIN: '5', SLURM_ARRAY_TASK_MAX: '7', SLURM_ARRAY_TASK_COUNT: '3' },
      });
    const runs = await Promise.all([5, 6, 7].map(task));
    for (const [k, run] of runs.entries()) expect(run.stderr).toContain(`shard ${k + 1}/3 from Slurm job array (SLURM_ARRAY_TASK_ID=${k + 5}, SLURM_ARRAY_TASK_MIN=5`);
    const seen = runs.map((run) => jsonLines(run.stdout).map((l) => String(l.image)));
    const all = seen.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(['photos/a.png', 'photos/b.png', 'photos/corrupt.jpg', 'photos/cut-with-end.jpg', 'photos/d.png', 'photos/empty.png', 'photos/sub/c.png', 'photos/text.png']);
    expect(tree(out)).toEqual(['a.json', 'b.json', 'd.json', 'sub/c.json']);
  });

  it('a clash between inputs of different shards stops every shard', async () => {
    mkdirSync(join(work, 'other'), { recursive: true });
    copyFileSync(join(photos, 'b.png'), join(work, 'other', 'a.png'));
    // A split that puts photos/a.png and other/a.png (both writing a.json) in different shards.
    const shardOf = (key: string, count: number) => Array.from({ length: count }, (_, i) => i + 1).find((index) => inShard(key, { index, count }))!;
    const count = [2, 3, 4, 5, 6, 7, 8].find((n) => shardOf('photos/a.png', n) !== shardOf('other/a.png', n))!;
    const k = shardOf('photos/a.png', count);
    const run = await samlite(['everything', 'photos/a.png', 'other/a.png', '--grid', '4', '--shard', `${k}/${count}`, '--out', join(work, 'clash')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`error: photos/a.png and other/a.png would both write ${join(work, 'clash', 'a.json')}; rename one, or walk their common folder so sub-folders are kept\n`);
  });

  it('reads a list of paths from stdin with -, and reports missing ones', async () => {
    const run = await samlite(['everything', '-', '--grid', '4', '--out', join(work, 'stdin')], 'photos/a.png\nphotos/nope.png\n\nphotos/sub/c.png\n');
    expect(run.code).toBe(1);
    const lines = jsonLines(run.stdout);
    // Lines come in completion order (images run concurrently); each names its image.
    expect(lines.filter((l) => 'masks' in l).map((l) => l.image).sort()).toEqual(['photos/a.png', 'photos/sub/c.png']);
    expect(lines.filter((l) => 'error' in l)).toEqual([{ image: 'photos/nope.png', error: 'no such file' }]);
  });

  it('a named pipe among the inputs fails alone instead of blocking the batch', async () => {
    execFileSync('mkfifo', [join(work, 'x.jpg'), join(work, 'y.jpg')]);
    // One named on the command line, one in a stdin list (read as given, not stat'ed first).
    const run = await runSamlite(['everything', 'x.jpg', 'photos/a.png', '-', '--grid', '4', '--out', join(work, 'fifo')], {
      cwd: work,
      stdin: 'y.jpg\n',
      env: { HOME: work, SAMLITE_HOME: home },
    });
    expect(run.code).toBe(1);
    const lines = jsonLines(run.stdout);
    expect(lines.filter((l) => 'masks' in l).map((l) => l.image)).toEqual(['photos/a.png']);
    expect(lines.filter((l) => 'error' in l).sort((a, b) => String(a.image).localeCompare(String(b.image)))).toEqual([
      { image: 'x.jpg', error: 'not a regular file (a named pipe)' },
      { image: 'y.jpg', error: 'not a regular file (a named pipe)' },
    ]);
  });

  it('filters by --min-area and --max-area as the range table parsed them', async () => {
    const run = (...flags: string[]) => samlite(['everything', 'photos/a.png', '--grid', '4', '--json', '--out', join(work, 'areas'), '--overwrite', ...flags]);
    const masks = async (...flags: string[]) => {
      const r = await run(...flags);
      expect(r.code, `${flags.join(' ')}: ${r.stderr}`).toBe(0);
      return jsonLines(r.stdout)[0].masks as number;
    };
    expect(await masks('--min-area', '1', '--max-area', '100%')).toBeGreaterThan(0);
    expect(await masks('--max-area', '1')).toBe(0);
    expect(await masks('--min-area', '100%')).toBe(0);
    const clash = await run('--min-area', '50%', '--max-area', '0.1');
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain('minArea is larger than maxArea');
  });

  it('rejects bad flags with one line and exit 2', async () => {
    for (const [flags, message] of [
      [['--shard', '4/3'], '--shard "4/3": expected k/n with 1 <= k <= n'],
      [['--format', 'labels,svg'], '--format "svg": expected one or more of json, labels, masks, overlay, polygons'],
      [['--stability-thresh', '1.5'], '--stability-thresh "1.5": expected a number from 0 to 1'],
      [['--min-area', 'lots'], '--min-area'],
      [['--out', 'photos/a.png'], '--out photos/a.png: is a file, not a folder'],
    ] as const) {
      // The flags come last, so their --out wins over the default one here.
      const run = await samlite(['everything', 'photos', '--out', join(work, 'never'), ...flags]);
      expect(run.code, flags.join(' ')).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toContain(message);
    }
    expect(existsSync(join(work, 'never'))).toBe(false);
  });
});

describe('Ctrl-C', () => {
  // Each run's second image read waits for the signal (startSamliteHeld): it lands with the
  // first image done and the second being read, however busy the machine. The second is
  // then stopped before its model work (nothing written for it) and the rest never start.

  it('stops the image in flight before its model work (nothing written for it), takes no new ones, exits 130, and --skip-existing resumes', async () => {
    const many = join(work, 'many');
    mkdirSync(many);
    for (let i = 0; i < 6; i++) copyFileSync(join(photos, GOOD[i % 2]), join(many, `img${String(i).padStart(2, '0')}.png`));
    const out = join(work, 'interrupted');
    const args = ['everything', 'many', '--grid', '8', '--concurrency', '1', '--format', 'json,labels', '--out', out];
    const { child, done, held } = startSamliteHeld(args, { cwd: work, env: { HOME: work, SAMLITE_HOME: home }, holdImageRead: 2 });
    expect(await held).toBe(join(many, 'img01.png'));
    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(/^interrupted: finishing images in flight \(Ctrl-C again to stop at once\)$/m);
    expect(run.stderr).toMatch(/^1 image done \(\d+ masks\) in [\d.]+ s with builtin; 5 not done \(interrupted; rerun with --skip-existing to continue\)$/m);
    expect(jsonLines(run.stdout).map((l) => l.image)).toEqual([join('many', 'img00.png')]);
    // Only whole outputs: the image done has both files, nothing temporary is left.
    expect(tree(out)).toEqual(['img00.json', 'img00.labels.png']);

    const resumed = await samlite([...args, '--skip-existing']);
    expect(resumed.code).toBe(0);
    expect(jsonLines(resumed.stdout)).toHaveLength(5);
    expect(tree(out)).toHaveLength(12);
  });

  it('SIGTERM (docker stop, an eviction) stops the same way, says so, and exits 143', async () => {
    const many = join(work, 'term-many');
    mkdirSync(many);
    for (let i = 0; i < 6; i++) copyFileSync(join(photos, GOOD[i % 2]), join(many, `img${i}.png`));
    const out = join(work, 'terminated');
    const { child, done, held } = startSamliteHeld(['everything', 'term-many', '--grid', '8', '--concurrency', '1', '--out', out], {
      cwd: work,
      env: { HOME: work, SAMLITE_HOME: home },
      holdImageRead: 2,
    });
    expect(await held).toBe(join(many, 'img1.png'));
    child.kill('SIGTERM');
    const run = await done;
    expect(run.code).toBe(143);
    expect(run.stderr).toMatch(/^interrupted by SIGTERM: finishing images in flight \(send it again to stop at once\)$/m);
    expect(run.stderr).not.toMatch(/Ctrl-C/);
    expect(run.stderr).toMatch(/^1 image done \(\d+ masks\) .*; 5 not done \(interrupted; rerun with --skip-existing to continue\)$/m);
    expect(tree(out)).toEqual(['img0.json']);
  });
});

describe('terminals', () => {
  const env = () => ({ HOME: work, SAMLITE_HOME: home });
  // The 0-column hang ignored Ctrl-C: such a run is killed after its test (killLeftoverRuns),
  // which fails at its timeout rather than hangs.

  it('finishes on a terminal that reports 0 columns, with no stream of redraws', async () => {
    const out = join(work, 'tty0');
    const run = await runSamliteOnTty(['everything', 'photos/a.png', 'photos/b.png', '--grid', '4', '--out', out], { cwd: work, env: env(), columns: 0 });
    expect(run.code).toBe(0);
    expect(tree(out)).toEqual(['a.json', 'b.json']);
    // Plain lines as on a log: no cursor movement at all.
    expect(run.stdout).not.toMatch(/\x1b\[\d*[AK]/);
    expect(run.stdout).toMatch(/2 images done/);
  });

  it('Ctrl-C typed at a 0-column terminal stops the batch with 130', async () => {
    const many = join(work, 'tty-many');
    mkdirSync(many);
    for (let i = 0; i < 6; i++) copyFileSync(join(photos, GOOD[i % 2]), join(many, `i${i}.png`));
    const args = ['everything', 'tty-many', '--grid', '8', '--concurrency', '1', '--json', '--out', join(work, 'tty-int')];
    // Typed while the second image is being read (see the Ctrl-C tests above).
    const { child, done, held } = startSamliteOnTtyHeld(args, { cwd: work, env: env(), columns: 0, holdImageRead: 2 });
    expect(await held).toBe(join(many, 'i1.png'));
    child.stdin!.write('\x03');
    const run = await done;
    expect(run.code).toBe(130);
    expect(run.stdout.match(/"masks"/g)).toHaveLength(1);
    expect(run.stdout).toMatch(/1 image done \(\d+ masks\) .*; 5 not done \(interrupted; rerun with --skip-existing to continue\)/);
  });

  it('NO_COLOR on a terminal leaves the spinner and the bar uncoloured', async () => {
    const args = ['everything', 'photos/a.png', '--grid', '4', '--out', join(work, 'tty-plain')];
    const run = await runSamliteOnTty(args, { cwd: work, env: { ...env(), NO_COLOR: '1' } });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('loading builtin'); // the spinner was drawn
    expect(run.stdout).not.toMatch(/\x1b\[[0-9;]*m/);
  });
});
