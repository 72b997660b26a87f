/**
 * The SAM 2.1 rows of `npm run bench`: sam2.1-tiny and -small as the conformance kit rebuilt
 * them (../shared/conformance/sam2, random weights), their bare encoder and decoder floors,
 * and samlite's segment and everything beside them, all from the same run.
 *
 * The kit's graphs are not part of the checkout (about 300 MB per model, built with Python),
 * so the section runs only where they are: `SAMLITE_BENCH_SAM2_KIT=<dir>` or `--real-graphs
 * <dir>`, a folder holding `sam2.1-tiny/` and `sam2.1-small/` (encoder.onnx, decoder.onnx,
 * manifest.json with `"family": "sam2"`). Without them one line says so.
 *
 * Target: everything at <= 1.10x its model's own time, the model's own time being the
 * encoder run and the decoder runs the generator needs (one per grid point at its 256x256
 * render size), read from the same call's time inside onnxruntime as for the other families
 * (see installOrtClock); the bare floors of the same run are printed beside it.
 *
 * The kit's random weights give noise-like masks: their logits straddle the stability
 * cut-offs (+-1) in most cells of the 256x256 grid, so scoring each candidate at full
 * resolution, which SAM 2's generator does, costs far more than for an object's mask. As
 * for the other families' stand-ins, a second figure replaces the mask-dependent stages
 * (filters, NMS, rendering, clean-up, JSON) with those of the built-in SAM 2 model, whose
 * masks are real regions, on the same photo and grid; the model time is the kit graph's.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BenchImage } from './images.js';
import { everythingInProcess, measureInProcess, measureModelCost, type EverythingRun, type FamilyInProcess, type ModelCost, type Repeats } from './pipeline.js';
import { projectEverything, type TargetResult } from './report.js';
import { note } from './util.js';

/** The built-in model of the family: real masks through the same stages. */
const BUILTIN_SAM2 = 'builtin-sam2';

/** The kit's folders the section measures, in this order. */
export const SAM2_KIT_MODELS = ['sam2.1-tiny', 'sam2.1-small'] as const;
/** SAM2AutomaticMaskGenerator's default points_per_side: the grid the target is held at. */
export const SAM2_EVERYTHING_GRID = 32;
/** everything <= this x (encoder + the decoder runs it needs). */
export const SAM2_EVERYTHING_TARGET = 1.1;

/** Where the kit's SAM 2.1 folders are, or why the section does not run. */
export function sam2KitDir(realGraphs: string | undefined): { dir?: string; why?: string } {
  const candidates = [process.env.SAMLITE_BENCH_SAM2_KIT, realGraphs].filter((d): d is string => !!d).map((d) => resolve(d));
  for (const dir of candidates) {
    if (SAM2_KIT_MODELS.some((m) => existsSync(join(dir, m, 'manifest.json')))) return { dir };
  }
  const looked = candidates.length > 0 ? ` (looked in ${candidates.join(', ')})` : '';
  return { why: `no kit graphs: set SAMLITE_BENCH_SAM2_KIT=<folder with ${SAM2_KIT_MODELS.join('/ and ')}/ built by ../shared/conformance/sam2>${looked}` };
}

/** One kit model's figures. */
export interface Sam2Bench {
  readonly model: string;
  readonly manifest: string;
  readonly inProcess: FamilyInProcess;
}

/** A model of another family whose bare floors are timed in the same run, for comparison. */
export interface BesideModel {
  readonly name: string;
  readonly manifest: string;
}

/** The section's report: the models measured, or why none were. */
export interface Sam2Section {
  /** The everything grid (points per side) measured. */
  readonly grid: number;
  readonly dir?: string;
  readonly notRun?: string;
  readonly models: Sam2Bench[];
  /** Bare floors of EfficientSAM-Ti and MobileSAM, timed in the same run (same machine load). */
  readonly beside?: { readonly name: string; readonly cost: ModelCost }[];
  /** builtin-sam2's everything on the same photo and grid: the mask stages of real masks. */
  readonly builtinReference?: EverythingRun;
}

/** A kit model's everything with builtin-sam2's mask-dependent stage times in place of its own. */
export function sam2RealMaskProjection(section: Sam2Section, m: Sam2Bench): ReturnType<typeof projectEverything> | undefined {
  const e = m.inProcess.everything.find((x) => x.grid === section.grid);
  return e && section.builtinReference ? projectEverything(e, section.builtinReference) : undefined;
}

/**
 * Measures every kit model found in `kit.dir`: bare floors, segment, caches and everything
 * at `grid` (SAM 2's default 32; smaller only to check the harness).
 */
export async function measureSam2(
  kit: { dir?: string; why?: string },
  photo: BenchImage,
  warmup: BenchImage,
  tmp: string,
  repeats: Repeats,
  grid: number = SAM2_EVERYTHING_GRID,
  besideModels: readonly BesideModel[] = [],
): Promise<Sam2Section> {
  if (!kit.dir) {
    note(`SAM 2.1 rows: not run: ${kit.why}`);
    return { grid, notRun: kit.why, models: [] };
  }
  const models: Sam2Bench[] = [];
  for (const model of SAM2_KIT_MODELS) {
    const manifest = join(kit.dir, model, 'manifest.json');
    if (!existsSync(manifest)) {
      note(`SAM 2.1 rows: ${model} not in ${kit.dir}, skipped`);
      continue;
    }
    const inProcess = await measureInProcess(manifest, `rebuilt-${model}`, photo, warmup, tmp, repeats, [grid]);
    models.push({ model, manifest, inProcess });
  }
  let builtinReference: EverythingRun | undefined;
  if (models.length > 0) {
    note(`SAM 2.1 rows: ${BUILTIN_SAM2} everything ${grid}x${grid} on the photo (real masks: the stages after the decoder at work)`);
    [builtinReference] = await everythingInProcess(BUILTIN_SAM2, photo, warmup, [grid], join(tmp, `out-${BUILTIN_SAM2}`));
  }
  const beside: { name: string; cost: ModelCost }[] = [];
  for (const b of besideModels) {
    note(`SAM 2.1 rows: bare floors of ${b.name}, for comparison`);
    beside.push({ name: b.name, cost: await measureModelCost(b.manifest, photo, repeats) });
  }
  return { grid, dir: kit.dir, models, beside, builtinReference };
}

/** The section's verdicts: everything at its grid and segment, each against its own onnxruntime time. */
export function sam2Targets(section: Sam2Section): TargetResult[] {
  const out: TargetResult[] = [];
  for (const m of section.models) {
    const e = m.inProcess.everything.find((x) => x.grid === section.grid);
    out.push({
      target: `everything ${section.grid}x${section.grid} <= ${SAM2_EVERYTHING_TARGET} x (encoder + decoder runs it needs)`,
      scope: `rebuilt ${m.model} (kit graph, random weights)`,
      value: e ? e.sameRun.ratio : null,
      limit: SAM2_EVERYTHING_TARGET,
      unit: 'x',
      met: e ? e.sameRun.ratio <= SAM2_EVERYTHING_TARGET : null,
      basis: 'library call (load image, generate with SAM 2 defaults, write JSON) against its own time inside onnxruntime',
    });
    const p = sam2RealMaskProjection(section, m);
    if (p) {
      out.push({
        target: `everything ${section.grid}x${section.grid} <= ${SAM2_EVERYTHING_TARGET} x (encoder + decoder runs it needs)`,
        scope: `rebuilt ${m.model}, mask stages of real masks`,
        value: p.ratio,
        limit: SAM2_EVERYTHING_TARGET,
        unit: 'x',
        met: p.ratio <= SAM2_EVERYTHING_TARGET,
        basis: `as above, with the filter/NMS/render/JSON times of ${BUILTIN_SAM2} on the same photo and grid`,
      });
    }
    const s = m.inProcess.segment;
    out.push({
      target: 'segment <= 1.10 x (encoder + decoder)',
      scope: `rebuilt ${m.model} (kit graph, random weights)`,
      value: s.sameRun.ratio,
      limit: 1.1,
      unit: 'x',
      met: s.sameRun.ratio <= 1.1,
      basis: 'library call (load image, embed, decode, write mask PNG; sessions loaded) against its own time inside onnxruntime',
    });
  }
  return out;
}

const ms = (v: number | undefined) => (v === undefined ? '-' : `${Math.round(v)} ms`);

/** The section as a table on stdout (or its one line when it did not run). */
export function printSam2(section: Sam2Section): void {
  if (section.notRun) {
    console.log(`\nSAM 2.1 rows: not run: ${section.notRun}`);
    return;
  }
  console.log(`\nSAM 2.1 on the conformance kit's rebuilt graphs (${section.dir}; random weights), bare floors and samlite from the same run:`);
  console.log(`| model | encoder, bare | decoder at photo size, bare | decoder at everything's render size, bare | segment | vs own onnxruntime time | vs bare runs alongside | everything ${section.grid}x${section.grid} | model time inside it (decoder runs) | vs own onnxruntime time | vs bare encoder + runs x bare decoder | of which scoring, NMS, render, JSON | with real masks' stages (${BUILTIN_SAM2}) | masks | load |`);
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const m of section.models) {
    const x = m.inProcess;
    const e = x.everything.find((y) => y.grid === section.grid);
    const p = sam2RealMaskProjection(section, m);
    const cells = [
      m.model,
      ms(x.model.encoder.medianMs),
      ms(x.model.decoderFull.medianMs),
      `${ms(x.model.decoderRender.medianMs)} (${x.model.decoderRender.size})`,
      ms(x.segment.medianMs),
      `${x.segment.sameRun.ratio.toFixed(2)}x (+${ms(x.segment.sameRun.overheadMs)})`,
      `${x.segment.ratio.toFixed(2)}x`,
      e ? ms(e.totalMs) : '-',
      e ? `${ms(e.sameRun.modelMs)} (${e.decoderRuns})` : '-',
      e ? `${e.sameRun.ratio.toFixed(2)}x (+${ms(e.sameRun.overheadMs)})` : '-',
      e ? `${e.ratio.toFixed(2)}x` : '-',
      p ? ms(p.replacedMs) : '-',
      p ? `${ms(p.totalMs)} (${p.ratio.toFixed(2)}x own; stages ${ms(p.withMs)})` : '-',
      e ? String(e.records) : '-',
      `${x.model.encoder.load[0]}-${e?.load[1] ?? x.model.encoder.load[1]}`,
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
  if (section.beside && section.beside.length > 0) {
    console.log('\nBeside them, the same run\'s bare floors (encoder | decoder at the photo\'s size | decoder at everything\'s render size):');
    const rows = [
      ...section.models.map((m) => [`rebuilt ${m.model}`, m.inProcess.model] as const),
      ...section.beside.map((b) => [b.name, b.cost] as const),
    ];
    for (const [name, c] of rows) {
      console.log(`  ${name}: ${ms(c.encoder.medianMs)} | ${ms(c.decoderFull.medianMs)} | ${ms(c.decoderRender.medianMs)} (${c.decoderRender.size}); load ${c.encoder.load.join('-')}`);
    }
  }
}
