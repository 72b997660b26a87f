/**
 * The SAM 2.1 section of `npm run bench` (bench/lib/sam2.ts): where it finds the kit's
 * graphs, the one line it prints without them, and a run of the whole section on a kit
 * folder laid out with the built-in SAM 2 model (the kit's graphs are not in the checkout).
 * No timing is asserted: only that every figure the report needs is there.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { warmupImage } from '../bench/lib/images.js';
import { installOrtClock } from '../bench/lib/pipeline.js';
import { measureSam2, printSam2, sam2KitDir, sam2RealMaskProjection, sam2Targets } from '../bench/lib/sam2.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(join(tmpdir(), 'samlite-bench-sam2-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

/** A kit-shaped folder whose sam2.1-tiny is the built-in SAM 2 model (same contract). */
function builtinKit(): string {
  const kit = join(tmp, 'kit');
  const folder = join(kit, 'sam2.1-tiny');
  mkdirSync(folder, { recursive: true });
  for (const role of ['encoder', 'decoder']) copyFileSync(join(ROOT, 'models', 'builtin', `builtin-sam2-${role}.onnx`), join(folder, `${role}.onnx`));
  writeFileSync(
    join(folder, 'manifest.json'),
    JSON.stringify({ name: 'kit-sam2.1-tiny', family: 'sam2', license: 'Apache-2.0', files: { encoder: { path: 'encoder.onnx' }, decoder: { path: 'decoder.onnx' } } }),
  );
  return kit;
}

describe('bench: SAM 2.1 section', () => {
  it('without kit graphs it names the variable to set, and prints one line', async () => {
    vi.stubEnv('SAMLITE_BENCH_SAM2_KIT', '');
    const empty = mkdtempSync(join(tmp, 'empty-'));
    const kit = sam2KitDir(empty);
    expect(kit.dir).toBeUndefined();
    expect(kit.why).toMatch(/SAMLITE_BENCH_SAM2_KIT=/);
    expect(kit.why).toContain(empty);
    const section = await measureSam2(kit, await warmupImage(tmp), await warmupImage(tmp), tmp, { encoder: 1, decoder: 1, segment: 1, cachePairs: 1 });
    expect(section.models).toEqual([]);
    expect(sam2Targets(section)).toEqual([]);
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    printSam2(section);
    const text = lines.join('\n').trim();
    expect(text.split('\n')).toHaveLength(1);
    expect(text).toMatch(/^SAM 2\.1 rows: not run: no kit graphs/);
  });

  it('finds the kit by SAMLITE_BENCH_SAM2_KIT before --real-graphs', () => {
    const kit = builtinKit();
    vi.stubEnv('SAMLITE_BENCH_SAM2_KIT', kit);
    expect(sam2KitDir(join(tmp, 'elsewhere')).dir).toBe(kit);
    vi.stubEnv('SAMLITE_BENCH_SAM2_KIT', '');
    expect(sam2KitDir(kit).dir).toBe(kit);
  });

  it('measures bare floors, segment and everything of each kit model, the other families\' floors beside them, and holds everything to 1.10x', async () => {
    installOrtClock();
    const kit = builtinKit();
    const image = await warmupImage(tmp);
    const beside = [{ name: 'builtin-efficientsam', manifest: 'builtin-efficientsam' }];
    const section = await measureSam2({ dir: kit }, image, image, tmp, { encoder: 1, decoder: 2, segment: 1, cachePairs: 1 }, 4, beside);
    expect(section.models.map((m) => m.model)).toEqual(['sam2.1-tiny']);
    const m = section.models[0].inProcess;
    expect(m.model.encoder.medianMs).toBeGreaterThan(0);
    // SAM 2's everything renders at its decoder's own 256x256 grid.
    expect(m.model.decoderRender.size).toBe('256x256');
    const e = m.everything.find((x) => x.grid === 4)!;
    // One encoder run and one decoder run per grid point, all seen by the same call's clock.
    expect(e.decoderRuns).toBe(16);
    expect(e.sameRun.sessionRuns).toBe(17);
    expect(e.sameRun.modelMs).toBeGreaterThan(0);
    const targets = sam2Targets(section);
    const everything = targets.find((t) => t.target.startsWith('everything 4x4'))!;
    expect(everything.limit).toBe(1.1);
    expect(everything.value).toBe(e.sameRun.ratio);
    expect(everything.met).toBe(e.sameRun.ratio <= 1.1);
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    printSam2(section);
    expect(lines.find((l) => l.startsWith('| sam2.1-tiny |'))).toContain(`${e.sameRun.ratio.toFixed(2)}x`);
    // The kit's masks are noise; the second verdict uses the built-in model's real-mask stages.
    expect(section.builtinReference?.grid).toBe(4);
    const projected = targets.find((t) => t.scope.endsWith('mask stages of real masks'))!;
    expect(projected.value).toBe(sam2RealMaskProjection(section, section.models[0])!.ratio);
    // The other families' floors from the same run, beside SAM 2's own.
    expect(section.beside?.map((b) => b.name)).toEqual(['builtin-efficientsam']);
    expect(section.beside![0].cost.encoder.medianMs).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes('builtin-efficientsam:'))).toBe(true);
    expect(lines.some((l) => l.includes('rebuilt sam2.1-tiny:'))).toBe(true);
  }, 240_000);
});
