/**
 * `--device` and `--inference` end to end: `--device cuda` on this machine (no CUDA build of
 * onnxruntime-node) falls back to the CPU with one warning line and writes what
 * `--device cpu` writes; main-thread and worker inference write identical files.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../scripts/fixtures/index.js';
import { assertBuilt, jsonLines, runSamlite, type CliRun } from './helpers/run-cli.js';

let work: string;

function samlite(args: string[]): Promise<CliRun> {
  return runSamlite(args, { cwd: work, env: { HOME: work, SAMLITE_HOME: join(work, 'home') } });
}

/** Every file under `dir` with its bytes. */
function files(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    try {
      out[name] = readFileSync(path);
    } catch {
      // a folder
    }
  }
  return out;
}

const FALLBACK = /^warning: CUDA is not available \(.+\); running on the CPU\n$/;

beforeAll(() => {
  assertBuilt();
  work = mkdtempSync(join(tmpdir(), 'samlite-inference-cli-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('--device cuda without CUDA, --inference main|worker', () => {
  it('segment: one warning line, exit 0, the same masks', async () => {
    const image = fixturePath('landscape.png');
    const common = ['segment', image, '--point', '100,120', '--point', '60,40', '--model', 'builtin', '--format', 'mask,json', '--no-cache', '--json', '--quiet'];
    const [cpu, cuda] = await Promise.all([
      samlite([...common, '--out', 'seg-cpu', '--device', 'cpu', '--inference', 'main']),
      samlite([...common, '--out', 'seg-cuda', '--device', 'cuda', '--inference', 'worker']),
    ]);
    expect(cpu).toMatchObject({ code: 0, stderr: '' });
    expect(cuda.code).toBe(0);
    expect(cuda.stderr).toMatch(FALLBACK);
    const strip = (run: CliRun) => jsonLines(run.stdout).map(({ files: _f, ...rest }) => rest);
    expect(strip(cuda)).toEqual(strip(cpu));
    expect(files(join(work, 'seg-cuda'))).toEqual(files(join(work, 'seg-cpu')));
  });

  it('everything: one warning line, exit 0, identical files', async () => {
    const common = ['everything', fixturePath('portrait.png'), '--model', 'builtin', '--grid', '8', '--format', 'json,labels', '--json', '--quiet'];
    const [cpu, cuda] = await Promise.all([
      samlite([...common, '--out', 'all-cpu', '--device', 'cpu', '--inference', 'worker']),
      samlite([...common, '--out', 'all-cuda', '--device', 'cuda', '--inference', 'main']),
    ]);
    expect(cpu).toMatchObject({ code: 0, stderr: '' });
    expect(cuda.code).toBe(0);
    expect(cuda.stderr).toMatch(FALLBACK);
    const cpuFiles = files(join(work, 'all-cpu'));
    expect(Object.keys(cpuFiles).sort()).toEqual(['portrait.json', 'portrait.labels.png']);
    expect(files(join(work, 'all-cuda'))).toEqual(cpuFiles);
  });
});
