/**
 * The benchmark's verdicts and its printed table.
 *
 * Targets (issue 5): segment <= 1.10 x (encoder + decoder); everything 32x32 <= 1.15 x
 * (encoder + 1024 x decoder); 64x64 on a 12 MP image within 1.5 GB peak RSS; a second
 * prompt with a warm embedding cache <= 5 % of a cold run; fast mode >= 3x faster than
 * faithful at 32x32 while recovering >= 90 % of its masks. Issue 10: everything with
 * FastSAM <= 1.10 x the bare model run + samlite's post-processing floor, and >= 10x
 * faster than MobileSAM's 32x32 grid on the same photo. Each is checked on the
 * definition that measures samlite's own overhead (see docs/performance.md).
 */
import type { FastSamBench } from './fastsam.js';
import type { CliRun } from './child.js';
import type { FastModeResult } from './fast.js';
import type { EverythingRun, FamilyInProcess } from './pipeline.js';
import { round2 } from './util.js';

/** The built-in model of the same family, whose masks are real (see `projectEverything`). */
export const BUILTIN_OF_FAMILY: Readonly<Record<string, string>> = { efficientsam: 'builtin-efficientsam', sam: 'builtin' };

/**
 * A benchmark model's segment call with its noise mask's PNG write replaced by the write of
 * the built-in model's real mask for the same click (see `realMaskWriteMs`).
 */
export function projectSegment(f: FamilyReport, realWriteMs: number | undefined): { totalMs: number; ratio: number } | undefined {
  const s = f.inProcess.segment;
  if (realWriteMs === undefined || s.steps.write === undefined) return undefined;
  const totalMs = s.medianMs - s.steps.write + realWriteMs;
  return { totalMs, ratio: Math.round((totalMs / s.sameRun.modelMs) * 100) / 100 };
}

/** samlite's stages after the decoder, whose cost depends on the masks rather than on the model. */
const MASK_STAGES = ['filterMs', 'nmsMs', 'renderMs', 'cleanupMs'] as const;

/**
 * The everything run of a benchmark model with its mask-dependent stages (filters, NMS,
 * rendering, clean-up, JSON) replaced by those of the built-in model on the same photo and
 * grid. The benchmark models' masks are noise: nearly all fail the stability filter (so NMS
 * and rendering idle), and noise straddles the cutoffs in every cell (so the stability
 * filter works far harder than on an object's mask). The built-in model's masks are real
 * regions, so its stage times are what samlite spends on real masks; the model time is
 * unaffected by what the masks contain.
 */
export function projectEverything(bench: EverythingRun, builtin: EverythingRun): { totalMs: number; ratio: number; replacedMs: number; withMs: number } {
  const stages = (r: EverythingRun) => MASK_STAGES.reduce((a, k) => a + (r.timings[k] ?? 0), 0) + (r.steps.writeJson ?? 0);
  const totalMs = bench.totalMs - stages(bench) + stages(builtin);
  return { totalMs: Math.round(totalMs), ratio: Math.round((totalMs / bench.sameRun.modelMs) * 100) / 100, replacedMs: Math.round(stages(bench)), withMs: Math.round(stages(builtin)) };
}

/** The CLI figures of one family (see run.ts measureCli). */
export interface CliReport {
  readonly startupMs: number;
  readonly segmentCold: readonly CliRun[];
  readonly segmentColdMs: number;
  readonly modelMs: number;
  readonly ratio: number;
  readonly overheadMs: number;
  readonly segmentWarmDisk: CliRun;
  readonly warmFraction: number;
}

/** Everything measured for one family. */
export interface FamilyReport {
  readonly family: string;
  readonly model: string;
  readonly inProcess: FamilyInProcess;
  readonly cli: CliReport;
}

/** One peak-RSS run. */
export interface RssReport {
  readonly model: string;
  readonly image: string;
  readonly grid: number;
  readonly run: CliRun;
}

/** The 64x64 peak RSS of a stand-in: composed from cheaper runs, and measured directly when asked. */
export interface RssEstimate {
  readonly model: string;
  readonly grid: number;
  readonly estimateMB: number;
  readonly directMB?: number;
  readonly how: string;
}

/**
 * The model's share of a warm second prompt: the decoder's own time in the warm call over
 * the cold call. What samlite adds on top is the difference to the measured fraction.
 */
export function decoderFloor(f: FamilyReport): number | undefined {
  const { coldMs, warmModelMs } = f.inProcess.memoryCache;
  return coldMs && warmModelMs !== undefined ? Math.round((warmModelMs / coldMs) * 1000) / 1000 : undefined;
}

/** One target's verdict. */
export interface TargetResult {
  readonly target: string;
  readonly scope: string;
  readonly value: number | null;
  readonly limit: number;
  readonly unit: string;
  /** null: could not be measured (feature missing). */
  readonly met: boolean | null;
  readonly basis: string;
}

/** Every target's verdict, per family where the target is per family. */
export function evaluateTargets(
  families: readonly FamilyReport[],
  rss: readonly RssReport[],
  rssEstimate: RssEstimate,
  fast: FastModeResult,
  builtinReference: Readonly<Record<string, EverythingRun>>,
  builtinMaskWriteMs: Readonly<Record<string, number>>,
  fastsam: readonly FastSamBench[] = [],
): TargetResult[] {
  const out: TargetResult[] = [];
  const check = (target: string, scope: string, value: number | null | undefined, limit: number, unit: string, basis: string, atLeast = false) =>
    out.push({
      target,
      scope,
      value: value ?? null,
      limit,
      unit,
      met: value === undefined || value === null ? null : atLeast ? value >= limit : value <= limit,
      basis,
    });
  for (const f of families) {
    check('segment <= 1.10 x (encoder + decoder)', `${f.model}, noise mask`, f.inProcess.segment.sameRun.ratio, 1.1, 'x', 'library call (load image, embed, decode, write mask PNG; sessions loaded) against its own time inside onnxruntime');
    const b = BUILTIN_OF_FAMILY[f.family];
    const p = projectSegment(f, builtinMaskWriteMs[b]);
    if (p) check('segment <= 1.10 x (encoder + decoder)', `${f.model}, PNG of a real mask`, p.ratio, 1.1, 'x', `as above, with the mask PNG write of ${b}'s mask for the same click`);
  }
  for (const f of families) {
    const e32 = f.inProcess.everything.find((e) => e.grid === 32);
    check('everything 32x32 <= 1.15 x (encoder + 1024 x decoder)', `${f.model}, noise masks`, e32?.sameRun.ratio, 1.15, 'x', 'library call (load image, generate, write JSON) against its own time inside onnxruntime');
    const b = builtinReference[BUILTIN_OF_FAMILY[f.family]];
    if (e32 && b) {
      check('everything 32x32 <= 1.15 x (encoder + 1024 x decoder)', `${f.model}, mask stages of real masks`, projectEverything(e32, b).ratio, 1.15, 'x', `as above, with the filter/NMS/render/JSON times of ${BUILTIN_OF_FAMILY[f.family]} on the same photo and grid`);
    }
  }
  if (rssEstimate.directMB !== undefined) {
    check('everything 64x64 on 12 MP: peak RSS <= 1.5 GB', `${rssEstimate.model}, measured`, rssEstimate.directMB, 1536, 'MB', 'CLI child process, max RSS');
  }
  check('everything 64x64 on 12 MP: peak RSS <= 1.5 GB', `${rssEstimate.model}, composed`, rssEstimate.estimateMB, 1536, 'MB', rssEstimate.how);
  for (const r of rss.filter((x) => x.grid === 64 && x.model.startsWith('builtin'))) {
    check('everything 64x64 on 12 MP: peak RSS <= 1.5 GB', `${r.model}, measured`, r.run.maxRssMB ?? null, 1536, 'MB', `CLI child process, max RSS by ${r.run.rssSource}`);
  }
  for (const f of families) {
    check('2nd prompt, warm cache <= 5 % of cold', `${f.model}, memory cache`, f.inProcess.memoryCache.fraction, 0.05, '', `Segmenter.segment(), in-memory cache; the decoder run alone is ${((decoderFloor(f) ?? NaN) * 100).toFixed(1)} % of the cold call`);
    check('2nd prompt, warm cache <= 5 % of cold', `${f.model}, disk cache`, f.inProcess.diskCache.fraction, 0.05, '', 'Segmenter.segment() in a new Segmenter, on-disk cache');
  }
  for (const x of fastsam) {
    const floor = `(library call - its letterbox/detection/mask/clean-up stages, ${Math.round(x.everything.floorMs)} ms) / the call's own onnxruntime time`;
    check('everything with FastSAM <= 1.10 x model run + post-processing floor', `${x.model}, noise masks`, x.everything.ratioToOwnPlusFloor, 1.1, 'x', floor);
    check('everything with FastSAM <= 1.10 x model run + post-processing floor', `${x.model}, JSON write of real masks`, x.everything.ratioRealMasks, 1.1, 'x', `${floor}; the stand-in's JSON write replaced by the built-in FastSAM model's per mask`);
    const mobile = families.find((f) => f.family === 'sam');
    const e32 = mobile?.inProcess.everything.find((e) => e.grid === 32);
    check('everything with FastSAM >= 10x faster than MobileSAM 32x32', `${x.model} vs ${mobile?.model ?? 'MobileSAM (not measured)'}`, e32 ? round2(e32.totalMs / x.everything.totalMs) : undefined, 10, 'x', 'library calls on the same photo (load, everything, write JSON); MobileSAM with its noise masks, so its real-mask time is higher', true);
  }
  check('fast mode >= 3x faster than faithful at 32x32', 'built-in models, generated scenes', fast.speedup, 3, 'x', fast.note, true);
  check('fast mode recovers >= 90 % of faithful masks (IoU >= 0.9)', 'built-in models, generated scenes', fast.recovered, 0.9, '', fast.note, true);
  return out;
}

const ms = (x: number | undefined) => (x === undefined ? '-' : x >= 10000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);
const pct = (x: number | undefined) => (x === undefined ? '-' : `${(x * 100).toFixed(1)} %`);

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c]?.length ?? 0)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('   ')).join('\n');
}

/** The subset of the JSON report the table reads. */
export interface PrintableReport {
  readonly machine: { cpu: string; logicalCores: number; ramGB: number; node: string; onnxruntimeNode: string; os: string; commit: string; dirty: boolean; loadAtStart: readonly number[] };
  readonly loadAtEnd: readonly number[];
  readonly images: { photo: { source: string; width: number; height: number } };
  readonly rssEstimate: RssEstimate;
  readonly models: readonly { name: string; encoder: { gmac: number; mparams: number }; decoder: { gmac: number; mparams: number }; mimics?: string }[];
  readonly families: readonly FamilyReport[];
  readonly fastsam: readonly FastSamBench[];
  readonly rss: readonly RssReport[];
  readonly fastMode: FastModeResult;
  readonly builtinReference: Readonly<Record<string, EverythingRun>>;
  readonly builtinMaskWriteMs: Readonly<Record<string, number>>;
  readonly targets: readonly TargetResult[];
}

/** Prints the table and the targets on stdout. */
export function printReport(r: PrintableReport): void {
  const m = r.machine;
  console.log(`samlite bench: ${m.cpu}, ${m.logicalCores} cores, ${m.ramGB} GB, Node ${m.node}, onnxruntime-node ${m.onnxruntimeNode}, ${m.os}`);
  console.log(`commit ${m.commit.slice(0, 10)}${m.dirty ? ' (uncommitted changes in the checkout)' : ''}; load ${m.loadAtStart.join(' ')} at start, ${r.loadAtEnd.join(' ')} at end`);
  console.log(`photo: ${r.images.photo.source}, ${r.images.photo.width}x${r.images.photo.height}\n`);
  console.log(table([
    ['stand-in model', 'mimics', 'encoder GMAC', 'encoder Mparams', 'decoder GMAC', 'decoder Mparams'],
    ...r.models.map((x) => [x.name, x.mimics ?? '-', x.encoder.gmac.toFixed(1), x.encoder.mparams.toFixed(2), x.decoder.gmac.toFixed(2), x.decoder.mparams.toFixed(2)]),
  ]));
  console.log('');
  const f = r.families;
  const rows: string[][] = [['', ...f.map((x) => `${x.family} (${x.model})`)]];
  const add = (label: string, cell: (x: FamilyReport) => string) => rows.push([label, ...f.map(cell)]);
  add('encoder, bare session', (x) => ms(x.inProcess.model.encoder.medianMs));
  add('decoder at photo size, bare', (x) => ms(x.inProcess.model.decoderFull.medianMs));
  add('decoder at render size, bare', (x) => `${ms(x.inProcess.model.decoderRender.medianMs)} (${x.inProcess.model.decoderRender.size})`);
  add('segment, library', (x) => ms(x.inProcess.segment.medianMs));
  add('  vs its own onnxruntime time', (x) => `${x.inProcess.segment.sameRun.ratio.toFixed(2)}x (+${ms(x.inProcess.segment.sameRun.overheadMs)})`);
  add('  vs bare enc+dec runs alongside', (x) => `${x.inProcess.segment.ratio.toFixed(2)}x`);
  add('  of which writing the (noise) mask PNG', (x) => ms(x.inProcess.segment.steps.write));
  add('  with a real mask\'s PNG instead', (x) => {
    const p = projectSegment(x, r.builtinMaskWriteMs[BUILTIN_OF_FAMILY[x.family]]);
    return p ? `${ms(p.totalMs)} (${p.ratio.toFixed(2)}x own)` : '-';
  });
  add('segment, CLI process (vs library model time)', (x) => `${ms(x.cli.segmentColdMs)} (${x.cli.ratio.toFixed(2)}x)`);
  add('  of which CLI start-up (--version)', (x) => ms(x.cli.startupMs));
  const grids = [...new Set(f.flatMap((x) => x.inProcess.everything.map((e) => e.grid)))];
  for (const grid of grids) {
    add(`everything ${grid}x${grid}, library`, (x) => {
      const e = x.inProcess.everything.find((y) => y.grid === grid);
      return e ? `${ms(e.totalMs)} (${e.sameRun.ratio.toFixed(2)}x own; ${e.ratio.toFixed(2)}x bare)` : '-';
    });
  }
  add('everything 32x32, real-mask stages', (x) => {
    const e = x.inProcess.everything.find((y) => y.grid === 32);
    const b = r.builtinReference[BUILTIN_OF_FAMILY[x.family]];
    if (!e || !b) return '-';
    const p = projectEverything(e, b);
    return `${ms(p.totalMs)} (${p.ratio.toFixed(2)}x own)`;
  });
  add('2nd prompt, memory cache', (x) => `${ms(x.inProcess.memoryCache.warmMs)} (${pct(x.inProcess.memoryCache.fraction)})`);
  add('  of which the decoder itself', (x) => pct(decoderFloor(x)));
  add('2nd prompt, disk cache, new Segmenter', (x) => `${ms(x.inProcess.diskCache.warmMs)} (${pct(x.inProcess.diskCache.fraction)})`);
  add('2nd CLI run, disk cache', (x) => `${ms(x.cli.segmentWarmDisk.wallMs)} (${pct(x.cli.warmFraction)})`);
  console.log(table(rows));
  console.log('');
  if (r.fastsam.length > 0) {
    console.log(table(fastSamRows(r)));
    console.log('');
  }
  for (const x of r.rss) console.log(`everything ${x.grid}x${x.grid}, ${x.image}, ${x.model}: peak RSS ${x.run.maxRssMB ?? '?'} MB, ${ms(x.run.wallMs)} (CLI process)`);
  const e = r.rssEstimate;
  console.log(`everything 64x64, ${e.model}: peak RSS ${e.directMB !== undefined ? `${e.directMB} MB measured, ` : ''}${e.estimateMB} MB composed (${e.how})`);
  const fm = r.fastMode;
  console.log(`fast mode at ${fm.grid}x${fm.grid}: ${ms(fm.fastMs)} vs ${ms(fm.faithfulMs)} faithful (${fm.speedup}x), recovers ${pct(fm.recovered)} of ${fm.faithfulMasks} faithful masks`);
  printTargets(r.targets);
}

/** The verdicts, one line each. */
export function printTargets(targets: readonly TargetResult[]): void {
  console.log('\ntargets:');
  for (const t of targets) {
    const verdict = t.met === null ? 'N/A   ' : t.met ? 'MET   ' : 'MISSED';
    const v = t.value === null ? 'not measured' : t.unit === '' ? pct(t.value) : `${t.value} ${t.unit}`;
    const lim = t.unit === '' ? pct(t.limit) : `${t.limit} ${t.unit}`;
    console.log(`  ${verdict} ${t.target} [${t.scope}]: ${v} (limit ${lim})`);
  }
}

/** The FastSAM table: one column per stand-in, compared with the grid runs of the families above. */
function fastSamRows(r: PrintableReport): string[][] {
  const rows: string[][] = [['FastSAM (one forward pass)', ...r.fastsam.map((x) => x.model)]];
  const add = (label: string, cell: (x: FastSamBench) => string) => rows.push([label, ...r.fastsam.map(cell)]);
  add('model run, bare session', (x) => ms(x.bare.medianMs));
  add('everything, library', (x) => `${ms(x.everything.totalMs)} (${x.everything.sameRun.ratio.toFixed(2)}x own)`);
  add('  post-processing floor', (x) => `${ms(x.everything.floorMs)} (${x.everything.floorPerMaskMs.toFixed(1)} ms x ${x.everything.counts.kept} masks)`);
  add('  (total - floor) / own model time', (x) => `${x.everything.ratioToOwnPlusFloor.toFixed(2)}x (bare run: ${x.everything.ratioToBarePlusFloor.toFixed(2)}x)`);
  add('  same, JSON write of real masks', (x) => `${x.everything.ratioRealMasks.toFixed(2)}x`);
  for (const f of r.families) {
    for (const e of f.inProcess.everything) {
      add(`  faster than ${f.model} ${e.grid}x${e.grid}`, (x) => `${(e.totalMs / x.everything.totalMs).toFixed(1)}x`);
    }
  }
  add('segment, first prompt (model run)', (x) => ms(x.segment.coldMs));
  add('segment, next prompts from cache', (x) => `${ms(x.segment.perPrompt.medianMs)} median`);
  return rows;
}
