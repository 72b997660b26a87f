/**
 * Process lifetime with inference in a worker, tested in child processes that run the
 * built library (dist/, the worker entry users get): the worker never keeps the process
 * alive, closing mid-run is safe, and the second Ctrl-C exits at once even while the
 * worker is inside a long native run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeSpyModels } from '../scripts/onnx/spy-models.js';
import { ROOT, assertBuilt } from './helpers/run-cli.js';
import { buildEndlessSamEncoder, buildSlowSamEncoder } from './helpers/slow-encoder.js';

let dir: string;
let slow: string;
let endless: string;
let spies: Record<string, string>;
const dist = (module: string) => JSON.stringify(pathToFileURL(join(ROOT, 'dist', module)).href);
/** The scripts live in a temporary folder, outside the package's node_modules lookup. */
const ORT = JSON.stringify(pathToFileURL(createRequire(join(ROOT, 'package.json')).resolve('onnxruntime-node')).href);

beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'samlite-inference-proc-'));
  spies = writeSpyModels(dir);
  slow = join(dir, 'slow.onnx');
  writeFileSync(slow, buildSlowSamEncoder(12));
  // A run that never ends: only an exit that does not wait for it ends the test.
  endless = join(dir, 'endless.onnx');
  writeFileSync(endless, buildEndlessSamEncoder());
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Children started here that have not exited yet. */
const running = new Set<ReturnType<typeof spawn>>();
// A child left running (a test that failed, say, with an endless run in flight) dies with its test.
afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run an ES module `body` in a child node; `onLine` sees each stdout line as it comes. */
function runScript(body: string, onLine?: (line: string, child: ReturnType<typeof spawn>) => void): Promise<Exit> {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, body);
  const child = spawn(process.execPath, [file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.on('close', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const before = stdout;
    stdout += chunk.toString();
    const complete = stdout.slice(0, stdout.lastIndexOf('\n') + 1);
    for (const line of complete.slice(before.lastIndexOf('\n') + 1).split('\n').filter(Boolean)) onLine?.(line, child);
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const openSession = (path: string) => `
import * as ort from ${ORT};
import { ModelSession } from ${dist('families/session.js')};
const session = await ModelSession.open(${JSON.stringify(path)}, 'encoder', { inference: 'worker' });
const feeds = { input_image: new ort.Tensor('float32', new Float32Array(8 * 8 * 3), [8, 8, 3]) };
`;

describe('the worker and the process lifetime', () => {
  it('closing ends the worker; an opened model never closed does not keep the process alive either', async () => {
    for (const close of [true, false]) {
      const run = await runScript(`
import { Segmenter } from ${dist('index.js')};
const seg = await Segmenter.open({ name: 'spy', family: 'sam', files: { encoder: ${JSON.stringify(spies['spy-mobilesam-encoder.onnx'])}, decoder: ${JSON.stringify(spies['spy-sam-decoder-4.onnx'])} } }, { inference: 'worker' });
const { best } = await seg.segment({ width: 40, height: 30, data: new Uint8Array(40 * 30 * 3) }, { points: [{ x: 5, y: 5 }] });
${close ? 'await seg.close();' : ''}
console.log('segmented', best.mask.width);
`);
      expect(run, run.stderr).toMatchObject({ code: 0, signal: null, stdout: 'segmented 40\n' });
    }
  });

  it('closing while a run is in flight lets the run finish, then the process exits normally', async () => {
    const run = await runScript(`${openSession(slow)}
const running = session.run(feeds);
const released = session.release();
const out = await running;
await released;
console.log('ran', out.image_embeddings.dims.join('x'));
`);
    // Terminating the thread mid-run would abort the process (exit 134) instead.
    expect(run, run.stderr).toMatchObject({ code: 0, signal: null, stdout: 'ran 1x256x64x64\n' });
  });

  it('the first Ctrl-C is handled during a run; the second exits at once by SIGINT', async () => {
    const run = await runScript(
      `import { installInterruptHandler } from ${dist('batch/interrupt.js')};
${openSession(endless)}
installInterruptHandler({ onFirst: () => console.log('first') });
const before = process.cpuUsage();
const running = session.run(feeds);
// 'running' once the worker is inside the native run: the process has used 200 ms of CPU
// since (the main thread idles meanwhile), which no clock on a busy machine can fake.
for (;;) {
  const used = process.cpuUsage(before);
  if (used.user + used.system >= 200_000) break;
  await new Promise((resolve) => setTimeout(resolve, 10));
}
console.log('running');
await running;
console.log('finished');
`,
      (line, child) => {
        if (line === 'running' || line === 'first') child.kill('SIGINT');
      },
    );
    expect(run.stdout).toBe('running\nfirst\n');
    // Killed by the signal itself, which shells report as 130, rather than waiting for the
    // run to return and onnxruntime-node aborting the process (SIGABRT, 134).
    expect([run.signal, run.code]).toEqual(['SIGINT', null]);
  });
});
