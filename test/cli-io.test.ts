/**
 * The CLI's edges where input and output meet the world (issue 16), end to end through the
 * real bin/samlite: a reader that closes stdout, a stdout that cannot be written, output
 * paths that cannot be written (found before any model work, or met after it), merge's
 * yolo-seg refusal, and the rough edges (version, unknown subcommands, exporter-made
 * dimension names, background points EfficientSAM cannot take, runs that keep no mask,
 * a re-runnable quickstart). Needs `npm run build` first (npm test does it).
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../scripts/fixtures/index.js';
import { writeSpyModels } from '../scripts/onnx/spy-models.js';
import type { EverythingResult } from '../src/everything/generator.js';
import { loadImage } from '../src/image/load.js';
import { Segmenter } from '../src/segmenter/segmenter.js';
import { chooseModel } from '../src/store/resolve.js';
import { BIN, ROOT, assertBuilt, jsonLines, runSamlite, startSamlite, startSamliteWithClosedStdout, type CliRun } from './helpers/run-cli.js';

let work: string;
let env: Record<string, string>;
/** Three small scenes, in the order a folder walk takes them. */
const IMAGES = ['box.png', 'landscape.png', 'portrait.png'];

function samlite(args: string[], stdin?: string): Promise<CliRun> {
  return runSamlite(args, { cwd: work, env, stdin });
}

function closedStdout(args: string[]): Promise<CliRun> {
  return startSamliteWithClosedStdout(args, { cwd: work, env }).done;
}

/** Run bin/samlite (optionally under `node --import preload`) with stdout on the file descriptor `fd`. */
function samliteTo(fd: number, args: string[], preload?: string, extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [...(preload ? ['--import', pathToFileURL(preload).href] : []), BIN, ...args], {
    cwd: work,
    env: { PATH: process.env.PATH ?? '', ...env, ...extraEnv },
    stdio: ['ignore', fd, 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** Every file under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => statSync(join(dir, f)).isFile()).sort();
}

/** Preload that fails output writes mid-run (see the file). */
const FAILING_WRITES = join(import.meta.dirname, 'helpers', 'failing-writes.mjs');

/** What a crash or a raw Node error would leave on stderr. */
const RAW = /EPIPE|ENOSPC:|EISDIR:|EEXIST:|EROFS:|Error:|\n\s+at /;

const cocoImages = (path: string) => (JSON.parse(readFileSync(path, 'utf8')) as { images: { file_name: string }[] }).images.map((i) => i.file_name);

beforeAll(() => {
  assertBuilt();
  work = mkdtempSync(join(tmpdir(), 'samlite-io-'));
  env = { HOME: work, SAMLITE_HOME: join(work, 'home') };
  mkdirSync(join(work, 'imgs'));
  for (const name of IMAGES) copyFileSync(fixturePath(name), join(work, 'imgs', name));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('a reader that closes stdout', () => {
  it('everything stops taking images, builds the dataset files from what is done, and exits 141 without an error', async () => {
    const out = join(work, 'closed-everything');
    const args = ['everything', 'imgs', '--grid', '8', '-c', '1', '--format', 'json,coco', '--out', out];
    const run = await closedStdout(args);
    expect(run.code).toBe(141);
    expect(run.stderr).not.toMatch(RAW);
    expect(run.stderr).not.toMatch(/^error:/m);
    // The first image's line met the closed pipe: the batch stopped there.
    expect(run.stderr).toMatch(/^1 image done \(\d+ masks\) .*; 2 not done \(stdout closed; rerun with --skip-existing to continue\)$/m);
    expect(tree(out)).toEqual(['box.json', 'coco.json', 'samlite-parts/box.part.json']);
    expect(cocoImages(join(out, 'coco.json'))).toEqual(['box.png']);
    // Nothing half-done: --skip-existing finishes the rest.
    const resumed = await samlite([...args, '--skip-existing']);
    expect(resumed.code).toBe(0);
    expect(cocoImages(join(out, 'coco.json'))).toEqual(IMAGES);
  });

  it('segment finishes the image in flight and stops', async () => {
    const out = join(work, 'closed-segment');
    const run = await closedStdout(['segment', 'imgs/box.png', 'imgs/landscape.png', '--point', '40,40', '--point', '60,60', '--format', 'mask,coco', '--out', out]);
    expect(run.code).toBe(141);
    expect(run.stderr).not.toMatch(RAW);
    expect(run.stderr).toMatch(/1 image not done \(stdout closed; rerun with --skip-existing to continue\)$/m);
    expect(tree(out)).toEqual(['box.0.mask.png', 'coco.json', 'samlite-parts/box.part.json']);
  });

  it.each([[['help', 'everything']], [['segment', '--help']], [['--help']], [['--version']], [['models', 'list']], [['models', 'path']]])(
    '%j ends quietly with 141',
    async (args) => {
      const run = await closedStdout(args);
      expect(run).toEqual({ code: 141, stdout: '', stderr: '' });
    },
  );

  it('a reader that leaves after the first chunk never gets a stack trace (10 runs of segment --help | head -1)', async () => {
    for (let i = 0; i < 10; i++) {
      const { child, done } = startSamlite(['segment', '--help'], { cwd: work, env });
      child.stdout!.once('data', () => child.stdout!.destroy());
      const run = await done;
      // 0 when all of the help was written before the reader left, 141 when not: a race a
      // shell has too; what must never happen is a crash.
      expect([0, 141]).toContain(run.code);
      expect(run.stderr).toBe('');
    }
  });
});

describe('a stdout that cannot be written (/dev/full)', () => {
  const full = existsSync('/dev/full');
  if (!full) console.warn('cli-io: /dev/full is missing on this system; the full-stdout tests do not run');

  it.runIf(full)('help is one error line and exit 1', async () => {
    const fd = openSync('/dev/full', 'w');
    try {
      expect(await samliteTo(fd, ['--help'])).toEqual({ code: 1, stderr: 'error: cannot write to stdout: no space left on device\n' });
    } finally {
      closeSync(fd);
    }
  });

  it.runIf(full)('everything says so once, stops, builds the dataset files and exits 1', async () => {
    const out = join(work, 'devfull');
    const fd = openSync('/dev/full', 'w');
    try {
      const run = await samliteTo(fd, ['everything', 'imgs', '--grid', '8', '-c', '1', '--format', 'json,coco', '--out', out]);
      expect(run.code).toBe(1);
      expect(run.stderr).not.toMatch(RAW);
      expect(run.stderr.match(/^error: .*$/gm)).toEqual(['error: cannot write to stdout: no space left on device']);
      expect(run.stderr).toMatch(/; 2 not done \(stdout cannot be written; rerun with --skip-existing to continue\)$/m);
      expect(cocoImages(join(out, 'coco.json'))).toEqual(['box.png']);
    } finally {
      closeSync(fd);
    }
  });
});

describe('output paths that cannot be written are refused before any model work (exit 2)', () => {
  it('coco.json being a folder, with or without --overwrite', async () => {
    const out = join(work, 'coco-folder');
    mkdirSync(join(out, 'coco.json'), { recursive: true });
    for (const extra of [[], ['--overwrite'], ['--skip-existing']]) {
      const run = await samlite(['everything', 'imgs', '--grid', '8', '--format', 'json,coco', '--out', out, ...extra]);
      expect(run).toEqual({ code: 2, stdout: '', stderr: `error: ${join(out, 'coco.json')} is a folder where samlite writes a file; move it away or choose another --out\n` });
    }
    const segment = await samlite(['segment', 'imgs/box.png', '--point', '4,4', '--format', 'coco', '--out', out, '--overwrite']);
    expect(segment.code).toBe(2);
    expect(tree(out)).toEqual([]);
  });

  it('samlite-parts being a file', async () => {
    const out = join(work, 'parts-file');
    mkdirSync(out);
    writeFileSync(join(out, 'samlite-parts'), 'in the way');
    const run = await samlite(['everything', 'imgs/box.png', '--grid', '8', '--format', 'coco', '--out', out]);
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: ${join(out, 'samlite-parts')} is a file where samlite needs a folder (for ${join(out, 'samlite-parts', 'box.part.json')}); move it away or choose another --out\n`,
    });
  });

  it('a read-only --out (a read-only mount as root, a folder without write permission otherwise)', async (ctx) => {
    const out = join(work, 'ro');
    mkdirSync(out);
    let reason: string;
    let undo: () => void;
    if (process.getuid?.() === 0) {
      // Root ignores permission bits, so only a read-only mount is read-only for it.
      try {
        execFileSync('mount', ['--bind', '-o', 'ro', out, out], { stdio: 'ignore' });
      } catch {
        console.warn('cli-io: running as root without permission to mount; the read-only --out test does not run');
        ctx.skip();
        return;
      }
      reason = 'read-only file system';
      undo = () => execFileSync('umount', [out]);
    } else {
      chmodSync(out, 0o555);
      reason = 'permission denied';
      undo = () => chmodSync(out, 0o755);
    }
    try {
      const run = await samlite(['everything', 'imgs/box.png', '--grid', '8', '--out', join(out, 'sub')]);
      expect(run).toEqual({ code: 2, stdout: '', stderr: `error: --out ${join(out, 'sub')}: cannot write there (${reason})\n` });
      const parts = join(work, 'ro-parts');
      expect((await samlite(['segment', 'imgs/box.png', '--box', '10,10,200,200', '--format', 'coco', '--out', parts])).code).toBe(0);
      const merge = await samlite(['merge', parts, '--out', out, '--overwrite']);
      expect(merge.code).toBe(2);
      expect(merge.stderr).toBe(`error: --out ${out}: cannot write there (${reason})\n`);
    } finally {
      undo();
    }
  });
});

describe('output failures after work started: one line naming the path, exit 1', () => {
  it('a disk that fills after the first image (an injected ENOSPC): the batch stops, the dataset files cover what was done', async () => {
    const out = join(work, 'enospc');
    const devNull = openSync('/dev/null', 'w');
    // The preload lets two output files through (box.json and its part), then fails every write.
    const run = await samliteTo(
      devNull,
      ['everything', 'imgs', '--grid', '8', '-c', '1', '--format', 'json,coco', '--out', out],
      FAILING_WRITES,
      { FAIL_WRITES_AFTER: '2' },
    ).finally(() => closeSync(devNull));
    expect(run.code).toBe(1);
    expect(run.stderr).not.toMatch(RAW);
    expect(run.stderr).toMatch(new RegExp(`^error: ${join(out, 'landscape.json')}: cannot write \\(no space left on device\\)$`, 'm'));
    expect(run.stderr).toMatch(new RegExp(`; 1 failed; 1 not done \\(cannot write to ${out}: no space left on device; rerun with --skip-existing to continue\\)$`, 'm'));
    // coco.json is streamed (the preload fails whole-file writes only), so it is built.
    expect(tree(out)).toEqual(['box.json', 'coco.json', 'samlite-parts/box.part.json']);
    expect(cocoImages(join(out, 'coco.json'))).toEqual(['box.png']);
  });

  it('a write that fails for one file only (EIO) fails that image alone; the others and the dataset files are done', async () => {
    const out = join(work, 'eio');
    const devNull = openSync('/dev/null', 'w');
    const run = await samliteTo(devNull, ['segment', 'imgs/box.png', 'imgs/landscape.png', '--point', '40,40', '--format', 'mask,coco', '--out', out], FAILING_WRITES, {
      FAIL_WRITES_MATCH: 'box.part.json',
      FAIL_WRITES_CODE: 'EIO',
    }).finally(() => closeSync(devNull));
    expect(run.code).toBe(1);
    expect(run.stderr).not.toMatch(RAW);
    expect(run.stderr).toContain(`error: imgs/box.png: ${join(out, 'samlite-parts', 'box.part.json')}: cannot write (input/output error)\n`);
    expect(run.stderr).toMatch(/^2 masks written with builtin; 1 failed$/m);
    expect(cocoImages(join(out, 'coco.json'))).toEqual(['landscape.png']);
    expect(tree(out)).toEqual(['box.0.mask.png', 'coco.json', 'landscape.0.mask.png', 'samlite-parts/landscape.part.json']);
  });

  it('a real full disk (a small tmpfs, as root): refused up front when full, one line per failure once it fills', async (ctx) => {
    const disk = join(work, 'tmpfs');
    mkdirSync(disk);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk], { stdio: 'ignore' });
    } catch {
      console.warn('cli-io: cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN); the real full-disk test does not run');
      ctx.skip();
      return;
    }
    try {
      // 16 pages of 4 KiB: all taken, then all but one (room for box.json, not for more).
      writeFileSync(join(disk, 'ballast'), Buffer.alloc(64 * 1024));
      const refused = await samlite(['everything', 'imgs', '--grid', '8', '--out', join(disk, 'out')]);
      expect(refused).toEqual({ code: 2, stdout: '', stderr: `error: --out ${join(disk, 'out')}: cannot write there (no space left on device)\n` });
      writeFileSync(join(disk, 'ballast'), Buffer.alloc(60 * 1024));
      const run = await samlite(['everything', 'imgs', '--grid', '8', '-c', '1', '--out', join(disk, 'out')]);
      expect(run.code).toBe(1);
      expect(run.stderr).not.toMatch(RAW);
      expect(jsonLines(run.stdout).map((l) => l.error ?? 'done')).toEqual(['done', `${join(disk, 'out', 'landscape.json')}: cannot write (no space left on device)`]);
      expect(run.stderr).toMatch(/; 1 not done \(cannot write to .*: no space left on device; rerun with --skip-existing to continue\)$/m);
      expect(readdirSync(join(disk, 'out'))).toEqual(['box.json']);
    } finally {
      execFileSync('umount', [disk]);
    }
  });
});

describe('merge', () => {
  it('refuses --format yolo-seg for runs that wrote no YOLO-seg labels', async () => {
    const out = join(work, 'merge-coco');
    expect((await samlite(['segment', 'imgs/box.png', '--box', '10,10,200,200', '--format', 'coco', '--out', out])).code).toBe(0);
    const run = await samlite(['merge', out, '--format', 'yolo-seg']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'error: --format yolo-seg: the runs wrote no YOLO-seg labels (labels/, images/), which data.yaml points to; rerun with --format yolo-seg, or leave yolo-seg out of --format\n',
    );
    expect(existsSync(join(out, 'data.yaml'))).toBe(false);

    // One run with labels and one without: data.yaml would leave the second's image out.
    await samlite(['segment', 'imgs/landscape.png', '--box', '10,10,200,200', '--format', 'coco,yolo-seg', '--out', out, '--skip-existing']);
    const mixed = await samlite(['merge', out, '--format', 'yolo-seg']);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain(`the run of ${join(out, 'samlite-parts', 'box.part.json')} wrote no YOLO-seg labels`);
    // Asked for by a run, not by the merge: the other files are built, and it says why not
    // data.yaml (the second run wrote one for its own image).
    rmSync(join(out, 'data.yaml'));
    const own = await samlite(['merge', out, '--overwrite']);
    expect(own.code).toBe(0);
    expect(own.stderr).toContain(`data.yaml not written: the run of ${join(out, 'samlite-parts', 'box.part.json')} wrote no YOLO-seg labels`);
    expect(existsSync(join(out, 'data.yaml'))).toBe(false);
  });

  it('names a missing folder as it was given, and joins paths without a double slash', async () => {
    expect(await samlite(['merge', 'nonexist/'])).toEqual({ code: 2, stdout: '', stderr: 'error: nonexist/: no such folder\n' });
    mkdirSync(join(work, 'no-parts'));
    const empty = await samlite(['merge', 'no-parts/']);
    expect(empty.stderr).toBe('error: no parts under no-parts/samlite-parts: run samlite with --format coco (or another dataset format), or on GeoTIFFs, first\n');
  });
});

describe('rough edges', () => {
  it('--version prints `samlite <version>`, as -v and -V do; --verbose adds onnxruntime, sharp and Node', async () => {
    const pkg = (path: string) => (JSON.parse(readFileSync(join(ROOT, path, 'package.json'), 'utf8')) as { version: string }).version;
    for (const flag of ['--version', '-v', '-V']) expect(await samlite([flag])).toEqual({ code: 0, stdout: `samlite ${pkg('.')}\n`, stderr: '' });
    const verbose = await samlite(['--version', '--verbose']);
    expect(verbose.code).toBe(0);
    expect(verbose.stdout).toMatch(
      new RegExp(`^samlite ${pkg('.')}\\nonnxruntime ${pkg('node_modules/onnxruntime-node')}\\nsharp ${pkg('node_modules/sharp')} \\(libvips [\\d.]+\\)\\nnode ${process.versions.node}\\n$`),
    );
  });

  it('top-level --help names every family, FastSAM too, and the exit code of a closed pipe', async () => {
    const help = await samlite(['--help']);
    // commander wraps the description to the width of the help.
    expect(help.stdout).toMatch(/EfficientSAM, MobileSAM, SAM ViT-B and\s+FastSAM/);
    expect(help.stdout).toMatch(/141 stdout closed\s+by its reader/);
  });

  it('an unknown subcommand of models is named, with the closest one', async () => {
    expect(await samlite(['models', 'pul', 'x'])).toEqual({ code: 2, stdout: '', stderr: "error: unknown command 'pul'\n(Did you mean pull?)\n" });
    // A real subcommand with too many arguments is still that.
    expect((await samlite(['models', 'ls', 'extra'])).stderr).toBe("error: too many arguments for 'list'. Expected 0 arguments but got 1.\n");
  });

  it('models info shows exporter-made dimension names as ?, and keeps them in --json', async () => {
    const files = writeSpyModels(join(work, 'mirrors'));
    const manifest = join(work, 'mirrors', 'mirror-efficientsam.json');
    writeFileSync(
      manifest,
      JSON.stringify({ name: 'mirror-efficientsam', family: 'efficientsam', files: { encoder: { path: files['mirror-efficientsam-encoder.onnx'] }, decoder: { path: files['mirror-efficientsam-decoder.onnx'] } } }),
    );
    const text = await samlite(['models', 'info', manifest]);
    // Piped, models info stays text (the rule covers lists of records: models list).
    expect(text.code).toBe(0);
    expect(text.stdout).not.toMatch(/_dim_\d/);
    expect(text.stdout).toMatch(/^ {4}image_embeddings +float32 +\[\?, 256, \?, \?\]$/m);
    expect(text.stdout).toMatch(/^ {4}onnx::Shape_1830 +float32 +\[\?, \?, \?, \?\]$/m);
    expect(text.stdout).toMatch(/^ {4}batched_point_coords +float32 +\[1, 1, num_points, 2\]$/m);
    const json = await samlite(['models', 'info', manifest, '--json']);
    expect(json.stdout).toContain('"Addimage_embeddings_dim_0"');
  });

  it('--neg-point with an EfficientSAM model is exit 2 before any image is read', async () => {
    const out = join(work, 'neg');
    const message = 'background points are not supported by builtin-efficientsam (EfficientSAM was not trained with negative points); use a sam-family model such as mobilesam';
    const flags = await samlite(['segment', 'imgs/box.png', 'imgs/missing.png', '--point', '40,40', '--neg-point', '5,5', '--model', 'builtin-efficientsam', '--out', out]);
    // The missing image is not even reported: nothing was read.
    expect(flags).toEqual({ code: 2, stdout: '', stderr: `error: ${message}\n` });
    expect(existsSync(out)).toBe(false);
    // (A prompts file's sets are inputs of their own: one the model refuses fails alone, see cli-segment.)
    // A SAM-family model takes them.
    expect((await samlite(['segment', 'imgs/box.png', '--point', '40,40', '--neg-point', '5,5', '--model', 'builtin', '--out', out])).code).toBe(0);
  });

  it('an image that fails is reported without a blank line before it', async () => {
    mkdirSync(join(work, 'with-bad'));
    copyFileSync(fixturePath('box.png'), join(work, 'with-bad', 'a.png'));
    copyFileSync(fixturePath('bad/truncated.jpg'), join(work, 'with-bad', 'b.jpg'));
    const run = await samlite(['everything', 'with-bad', '--grid', '8', '--out', join(work, 'with-bad-out')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: with-bad\/b\.jpg: /m);
    expect(run.stderr.split('\n').slice(0, -1)).not.toContain('');
    // a.png kept masks: no word of an empty run.
    expect(run.stderr).not.toContain('no masks kept');
  });

  it('a run that keeps no mask says which filter removed the candidates, with the generator’s own counts', async () => {
    const model = chooseModel('builtin').model;
    const seg = await Segmenter.open(model, { embeddingCache: false });
    const image = await loadImage(fixturePath('box.png'));
    const { stats } = (await seg.everything(image, { pointsPerSide: 8, maxArea: { pixels: 10 } })) as EverythingResult;
    await seg.close();
    const { candidates, afterBoxNms, afterArea } = stats.counts;
    expect(afterArea).toBe(0);
    const run = await samlite(['everything', 'imgs/box.png', '--grid', '8', '--max-area', '10', '--model', 'builtin', '--out', join(work, 'empty-run')]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      `warning: no masks kept: ${candidates} candidates in 1 image; --nms-thresh 0.7 kept ${afterBoxNms}, --max-area 10 kept 0; raise --max-area to keep some\n`,
    );
    const fastsam = await samlite(['everything', 'imgs/box.png', '--model', 'builtin-fastsam', '--conf', '0.99', '--out', join(work, 'empty-fastsam')]);
    expect(fastsam.stderr).toContain('warning: no masks kept: no detection scored above --conf 0.99 in 1 image; lower --conf to keep some\n');
  });

  it('the quickstart command runs twice as printed (on a fixtures/ folder of one scene)', async () => {
    const dir = join(work, 'quickstart');
    mkdirSync(join(dir, 'fixtures'), { recursive: true });
    copyFileSync(fixturePath('box.png'), join(dir, 'fixtures', 'box.png'));
    const command = 'everything fixtures/ --grid 16 --format json,labels,overlay --out out/ --overwrite'.split(' ');
    for (const time of ['first', 'second']) {
      const run = await runSamlite(command, { cwd: dir, env });
      expect(run.code, `${time} run: ${run.stderr}`).toBe(0);
    }
    expect(tree(join(dir, 'out'))).toEqual(['box.json', 'box.labels.png', 'box.overlay.png']);
  });
});
