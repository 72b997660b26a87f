/**
 * Soak check for sharded, interrupted, resumed `samlite everything` runs (a script, not a
 * unit test: it takes minutes).
 *
 *   npm run build && npx tsx scripts/soak.ts [--images 200] [--processes 4] [--concurrency 2]
 *                                            [--grid 16] [--kills 2] [--seed 1] [--keep]
 *
 * 1. Generates `--images` scenes (sizes 160x120 to 320x240) as PNG files in one folder.
 * 2. Reference: one uninterrupted run over the folder, every output format.
 * 3. Soak: `--processes` processes, each `--shard k/n --concurrency c --skip-existing` into
 *    one shared --out. Twice (`--kills`), once a share of the images is done, every process
 *    is killed with SIGKILL at a staggered moment (mid-image, mid-write), and all are started
 *    again; the last round runs to the end.
 * 4. Checks that every output of the reference exists in the soak folder exactly once and
 *    byte-identical, that there is nothing else (temporary files a SIGKILL leaves are
 *    counted and reported apart), and reports each process's peak RSS (VmHWM, Linux).
 *
 * Exit 0 when the outputs match, 1 when they do not.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { procRssKB } from '../bench/lib/child.js';
import { createRng } from './fixtures/prng.js';
import { makeScene } from './fixtures/scene.js';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'samlite');
const FORMATS = 'json,labels,masks,overlay,polygons';

const { values: opts } = parseArgs({
  options: {
    images: { type: 'string', default: '200' },
    processes: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '2' },
    grid: { type: 'string', default: '16' },
    kills: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
  },
});
const IMAGES = Number(opts.images);
const PROCESSES = Number(opts.processes);
const CONCURRENCY = Number(opts.concurrency);
const GRID = Number(opts.grid);
const KILLS = Number(opts.kills);
const rng = createRng(Number(opts.seed));

/** One samlite process of a round, watched for its JSON lines and its peak RSS. */
interface Watched {
  readonly child: ChildProcess;
  readonly label: string;
  done: number;
  peakKiB: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function start(args: readonly string[], label: string, env: NodeJS.ProcessEnv): Watched {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let pending = '';
  const watched: Watched = {
    child,
    label,
    done: 0,
    peakKiB: 0,
    exited: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr }))),
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    watched.done += lines.filter((l) => l.includes('"masks"')).length;
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const poll = setInterval(() => (watched.peakKiB = Math.max(watched.peakKiB, (child.pid && procRssKB(child.pid)) || 0)), 100);
  child.on('close', () => clearInterval(poll));
  return watched;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every file under `dir`, relative, sorted. */
function files(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => statSync(join(dir, f)).isFile()).sort();
}

async function generateImages(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const sizes = [
    [160, 120],
    [200, 150],
    [240, 180],
    [320, 240],
  ];
  for (let i = 0; i < IMAGES; i++) {
    const [width, height] = sizes[i % sizes.length];
    const scene = makeScene({ width, height, seed: 1000 + i, shapes: 3 + (i % 4) });
    await sharp(scene.image.data, { raw: { width, height, channels: 3 } }).png().toFile(join(dir, `img${String(i).padStart(4, '0')}.png`));
  }
}

async function main(): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'samlite-soak-'));
  const env = { PATH: process.env.PATH ?? '', HOME: work, SAMLITE_HOME: join(work, 'home') };
  const common = ['everything', join(work, 'in'), '--grid', String(GRID), '--format', FORMATS, '--concurrency', String(CONCURRENCY)];
  const report: string[] = [];
  const say = (line: string) => {
    report.push(line);
    process.stderr.write(`${line}\n`);
  };
  say(`soak: ${IMAGES} images, ${PROCESSES} processes x ${CONCURRENCY} in flight, grid ${GRID}, ${KILLS} kills; ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  await generateImages(join(work, 'in'));

  let t0 = Date.now();
  const reference = start([...common, '--out', join(work, 'reference')], 'reference', env);
  const ref = await reference.exited;
  if (ref.code !== 0) throw new Error(`the reference run failed (${ref.code}): ${ref.stderr}`);
  say(`reference: one uninterrupted process, ${((Date.now() - t0) / 1000).toFixed(0)} s, peak RSS ${(reference.peakKiB / 1024).toFixed(0)} MB`);

  t0 = Date.now();
  const out = join(work, 'soak');
  const peaks: number[][] = Array.from({ length: PROCESSES }, () => []);
  for (let round = 0; round <= KILLS; round++) {
    const procs = Array.from({ length: PROCESSES }, (_, k) =>
      start([...common, '--shard', `${k + 1}/${PROCESSES}`, '--skip-existing', '--out', out], `shard ${k + 1}`, env),
    );
    const killing = round < KILLS;
    if (killing) {
      // Kill once about a fifth of the remaining images are done, each process at its own moment.
      const target = Math.max(PROCESSES, Math.round((IMAGES / (KILLS + 1)) * 0.6));
      while (procs.reduce((n, p) => n + p.done, 0) < target && procs.some((p) => p.child.exitCode === null)) await sleep(100);
      for (const p of procs) {
        await sleep(rng.int(0, 800));
        p.child.kill('SIGKILL');
      }
    }
    const results = await Promise.all(procs.map((p) => p.exited));
    procs.forEach((p, k) => peaks[k].push(p.peakKiB));
    const killed = results.filter((r) => r.signal === 'SIGKILL').length;
    const failed = results.filter((r) => r.signal === null && r.code !== 0);
    if (failed.length > 0) throw new Error(`round ${round + 1}: ${failed.length} processes failed: ${failed.map((r) => r.stderr.trim()).join(' | ')}`);
    say(`round ${round + 1}: ${procs.reduce((n, p) => n + p.done, 0)} images written, ${killed} of ${PROCESSES} processes killed (SIGKILL)`);
  }
  say(`soak: ${((Date.now() - t0) / 1000).toFixed(0)} s in ${KILLS + 1} rounds`);

  // Outputs: the reference's, exactly once and byte for byte; temporary leftovers apart.
  const want = files(join(work, 'reference'));
  const got = files(out);
  const temporary = got.filter((f) => f.split('/').pop()!.startsWith('.') && f.endsWith('.partial'));
  const outputs = got.filter((f) => !temporary.includes(f));
  const missing = want.filter((f) => !outputs.includes(f));
  const extra = outputs.filter((f) => !want.includes(f));
  const differing = want.filter((f) => outputs.includes(f) && !readFileSync(join(work, 'reference', f)).equals(readFileSync(join(out, f))));
  say(`outputs: ${want.length} expected, ${outputs.length} found; missing ${missing.length}, extra ${extra.length}, differing ${differing.length}; ${temporary.length} temporary files left by the kills`);
  for (const [k, rounds] of peaks.entries()) {
    say(`shard ${k + 1}/${PROCESSES}: peak RSS per round ${rounds.map((kib) => `${(kib / 1024).toFixed(0)} MB`).join(', ')}`);
  }
  const ok = missing.length === 0 && extra.length === 0 && differing.length === 0;
  // Paths are relative to the output folders already: print them as they are, by kind.
  const problems = [...missing.map((f) => `missing ${f}`), ...extra.map((f) => `extra ${f}`), ...differing.map((f) => `differing ${f}`)];
  for (const line of problems.slice(0, 10)) say(`  ${line}`);
  say(ok ? 'ok: every output present once, byte-identical to the uninterrupted run' : 'FAILED');
  if (opts.keep) say(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`soak: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
