/**
 * `npm run bench`: samlite's speed and memory against the model's own cost, on
 * architecture-shaped random-weight stand-ins for the real models (scripts/bench-models),
 * which are built on first use into .cache/bench-models/.
 *
 *   npm run bench                      the default plan (sized for about 10 minutes on 2 idle cores)
 *   npm run bench -- --quick           fewer repetitions
 *   npm run bench -- --rss-full        also run the 64x64 memory case on the EfficientSAM-Ti stand-in
 *                                      itself (4096 decoder runs: 5-20 minutes on its own)
 *   npm run bench -- --out file.json   where the JSON report goes (default bench/results.json)
 *   npm run bench -- --families sam    only some families (efficientsam, sam, fastsam, sam2)
 *   npm run bench -- --mini --grids 4,8   the tiny test pairs and small grids: checks the harness in a
 *                                      few minutes (figures meaningless)
 *   SAMLITE_BENCH_FASTSAM_KIT=<dir>   the FastSAM floor rows on the FastSAM kit's rebuilt graph, with the
 *                                      ultralytics-on-ONNX peer (Python); without it, the stand-in and
 *                                      one line saying the peer was not run
 *   npm run bench -- --floor-only       only the FastSAM floor table (bare model, samlite, peer side by side)
 *   npm run bench -- --no-peer          the floor table without the ultralytics peer (minutes per row on a loaded machine)
 *   SAMLITE_SHARED=<dir>               the shared folder (photos/, conformance/) when it is not ../shared
 *   npm run bench -- --serve-only       only the serve rows (API, page with the decoder on the server
 *                                      and in the browser, 8 clients x 200 requests)
 *   npm run bench -- --real-graphs <dir>  also the published exports' graphs rebuilt by the conformance
 *                                      kit (<dir> as its build_models.py wrote it; random weights):
 *                                      EfficientSAM-Ti and MobileSAM through the whole pipeline beside
 *                                      the stand-ins, and every catalog model's bare encoder and decoder
 *   SAMLITE_BENCH_SAM2_KIT=<dir>       the SAM 2.1 rows (bench/lib/sam2.ts): sam2.1-tiny and -small as the
 *                                      SAM 2 kit rebuilt them (<dir>/sam2.1-tiny/, <dir>/sam2.1-small/; a
 *                                      --real-graphs <dir> holding them serves too), their bare floors and
 *                                      samlite's segment and everything beside them; one line when absent
 *   npm run bench -- --sam2-only       only the SAM 2.1 rows
 *
 * Prints a table and the targets (met / missed, with the number) on stdout, progress on
 * stderr, and writes a JSON report with the machine, the commit and every raw figure.
 * Definitions of every row are in docs/performance.md.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_PAIRS, FASTSAM_BENCH_MODELS, MINI_BENCH_PAIRS, MINI_FASTSAM_BENCH_MODELS, ensureBenchModels, ensureFastSamBenchModels, type BenchFastSamInfo, type BenchModelInfo } from '../scripts/bench-models/index.js';
import { runSamlite, type CliRun } from './lib/child.js';
import { measureFastMode, type FastModeResult } from './lib/fast.js';
import { measureFastSam, realJsonWritePerMaskMs, type FastSamBench } from './lib/fastsam.js';
import { kitPeer, measureFloor, objectMasksAtCost, printFloor, type FloorRow } from './lib/fastsam-floor.js';
import { benchPhoto, twelveMegapixelImage, warmupImage, type BenchImage } from './lib/images.js';
import { machineInfo } from './lib/machine.js';
import { everythingInProcess, installOrtClock, measureInProcess, measureModelCost, realMaskWriteMs, resolveBenchModel, type EverythingRun, type FamilyInProcess, type ModelCost, type Repeats } from './lib/pipeline.js';
import { evaluateTargets, printReport, printTargets, type FamilyReport, type RssEstimate, type RssReport } from './lib/report.js';
import { measureSam2, printSam2, SAM2_EVERYTHING_GRID, sam2KitDir, sam2Targets, type BesideModel, type Sam2Section } from './lib/sam2.js';
import { measureServe, printServe, serveTargets, type ServeBench } from './lib/serve.js';
import { median, note, round1, round2, round3 } from './lib/util.js';
import { modelFile } from '../src/segmenter/pipeline.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const mini = flag('--mini');
const quick = flag('--quick') || mini;
const outPath = resolve(value('--out') ?? join(ROOT, 'bench', 'results.json'));
const families = (value('--families') ?? 'efficientsam,sam,fastsam,sam2').split(',');

const repeats: Repeats = quick ? { encoder: 2, decoder: 6, segment: 2, cachePairs: 1 } : { encoder: 3, decoder: 10, segment: 3, cachePairs: 2 };
/** Everything grids per family; the 32x32 one carries the target. `--grids` is for checking the harness. */
const GRIDS = (value('--grids') ?? '16,32').split(',').map(Number);
/** The pairs measured per family: EfficientSAM-Ti (the catalog's fastest EfficientSAM) and MobileSAM. */
const FAMILY_PAIRS: Record<string, string> = mini
  ? { efficientsam: 'bench-mini-efficientsam', sam: 'bench-mini-mobilesam' }
  : { efficientsam: 'bench-efficientsam-ti', sam: 'bench-mobilesam' };

const rssFull = flag('--rss-full');
const serveOnly = flag('--serve-only');
const sam2Only = flag('--sam2-only');
const floorOnly = flag('--floor-only');
const noPeer = flag('--no-peer');
const realGraphs = value('--real-graphs');
/** The kit's folders measured through the whole pipeline, per family; the others get bare timings. */
const REAL_GRAPH_PIPELINE: Record<string, string> = { efficientsam: 'efficientsam-ti', sam: 'mobilesam' };
/** SAM 2.1's folders are the SAM 2.1 section's (bench/lib/sam2.ts). */
const REAL_GRAPH_CATALOG = ['efficientsam-ti', 'efficientsam-s', 'mobilesam', 'sam-vit-b'];

installOrtClock();
const started = Date.now();
const machine = machineInfo(ROOT);
note(`machine: ${machine.cpu}, ${machine.logicalCores} cores, load ${machine.loadAtStart.join(' ')}`);
const tmp = mkdtempSync(join(tmpdir(), 'samlite-bench-'));
try {
  if (floorOnly) {
    const photo = await benchPhoto(ROOT, tmp);
    const fastsamFloor = await fastSamFloorRows(ensureFastSamBenchModels({ models: mini ? MINI_FASTSAM_BENCH_MODELS : FASTSAM_BENCH_MODELS, log: note }), photo);
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(outPath, `${JSON.stringify({ bench: 'samlite npm run bench -- --floor-only', startedAt: new Date(started).toISOString(), machine, loadAtEnd: loadavg().map(round2), fastsamFloor }, null, 2)}\n`);
    printFloor(fastsamFloor);
    console.log(`\nreport: ${outPath} (${Math.round((Date.now() - started) / 1000)} s)`);
    rmSync(tmp, { recursive: true, force: true });
    process.exit(0);
  }
  const infos = ensureBenchModels({ pairs: mini ? MINI_BENCH_PAIRS : BENCH_PAIRS, log: note });
  const byName = new Map(infos.map((i) => [i.name, i] as const));
  const photo = await benchPhoto(ROOT, tmp);
  const warmup = await warmupImage(tmp);
  note(`photo: ${photo.source} (${photo.width}x${photo.height})`);
  if (sam2Only) {
    const sam2 = await measureSam2(sam2KitDir(realGraphs), photo, warmup, tmp, repeats, SAM2_EVERYTHING_GRID, sam2Beside(byName));
    const targets = sam2Targets(sam2);
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(outPath, `${JSON.stringify({ bench: 'samlite npm run bench -- --sam2-only', startedAt: new Date(started).toISOString(), machine, loadAtEnd: loadavg().map(round2), repeats, images: { photo }, sam2, targets }, null, 2)}\n`);
    printSam2(sam2);
    printTargets(targets);
    console.log(`\nreport: ${outPath} (${Math.round((Date.now() - started) / 1000)} s)`);
    rmSync(tmp, { recursive: true, force: true });
    process.exit(0);
  }
  // samlite serve on the MobileSAM stand-in: the API, the page (decoder on the server and in
  // the browser) and concurrent clients.
  const serveModel = byName.get(mini ? 'bench-mini-mobilesam' : 'bench-mobilesam')!;
  const serve: ServeBench = await measureServe(serveModel.manifest, photo, tmp, quick ? 10 : 30);
  if (serveOnly) {
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(outPath, `${JSON.stringify({ bench: 'samlite npm run bench -- --serve-only', startedAt: new Date(started).toISOString(), machine, loadAtEnd: loadavg().map(round2), serve, targets: serveTargets(serve) }, null, 2)}\n`);
    printServe(serve);
    console.log(`\nreport: ${outPath} (${Math.round((Date.now() - started) / 1000)} s)`);
    rmSync(tmp, { recursive: true, force: true });
    process.exit(0);
  }

  const familyReports: FamilyReport[] = [];
  for (const family of families.filter((f) => f !== 'fastsam' && f !== 'sam2')) {
    const info = byName.get(FAMILY_PAIRS[family]);
    if (!info) throw new Error(`unknown family ${family} (efficientsam, sam, fastsam, sam2)`);
    const inProcess = await measureInProcess(info.manifest, family, photo, warmup, tmp, repeats, GRIDS);
    const cli = await measureCli(info, photo, inProcess);
    familyReports.push({ family, model: info.name, inProcess, cli });
  }
  // The rebuilt published graphs: the same rows, beside the stand-ins (not held to the targets).
  const realReports: FamilyReport[] = [];
  const realModelCost: Record<string, ModelCost> = {};
  if (realGraphs) {
    for (const family of families.filter((f) => REAL_GRAPH_PIPELINE[f])) {
      const folder = REAL_GRAPH_PIPELINE[family];
      const real = { name: `rebuilt-${folder}`, manifest: join(resolve(realGraphs), folder, 'manifest.json') };
      const inProcess = await measureInProcess(real.manifest, real.name, photo, warmup, tmp, repeats, GRIDS);
      const cli = await measureCli(real, photo, inProcess);
      realReports.push({ family, model: real.name, inProcess, cli });
      realModelCost[folder] = inProcess.model;
    }
    for (const folder of REAL_GRAPH_CATALOG.filter((f) => !realModelCost[f] && existsSync(join(resolve(realGraphs), f, 'manifest.json')))) {
      note(`rebuilt-${folder}: bare encoder and decoder`);
      realModelCost[folder] = await measureModelCost(join(resolve(realGraphs), folder, 'manifest.json'), photo, repeats);
    }
  }

  // FastSAM-s at 640 and 1024: one forward pass, against the grids above on the same photo.
  const fastsam: FastSamBench[] = [];
  let fastsamFloor: FloorRow[] = [];
  if (families.includes('fastsam')) {
    const fastInfos = ensureFastSamBenchModels({ models: mini ? MINI_FASTSAM_BENCH_MODELS : FASTSAM_BENCH_MODELS, log: note });
    const realWrite = await realJsonWritePerMaskMs(photo, join(tmp, 'out-builtin-fastsam'), 5);
    for (const info of fastInfos) fastsam.push(await measureFastSam(info, photo, warmup, join(tmp, `out-${info.name}`), quick ? 2 : 3, realWrite));
    fastsamFloor = await fastSamFloorRows(fastInfos, photo);
  }
  // SAM 2.1 on the kit's rebuilt graphs, when they are here.
  const sam2: Sam2Section = families.includes('sam2') ? await measureSam2(sam2KitDir(realGraphs), photo, warmup, tmp, repeats, SAM2_EVERYTHING_GRID, sam2Beside(byName)) : { grid: 0, notRun: 'not asked for (--families)', models: [] };

  // Where samlite's own everything stages land with real masks: the benchmark models'
  // noise masks almost never pass the stability filter, so NMS and rendering are idle there.
  const builtinReference: Record<string, EverythingRun> = {};
  const builtinMaskWriteMs: Record<string, number> = {};
  for (const name of ['builtin-efficientsam', 'builtin']) {
    note(`${name}: segment's mask PNG of a real mask on the photo`);
    builtinMaskWriteMs[name] = await realMaskWriteMs(name, photo, join(tmp, `write-${name}`), 5);
    const grid = mini ? GRIDS[GRIDS.length - 1] : 32;
    note(`${name}: everything ${grid}x${grid} on the photo (real masks: the stages after the decoder at work)`);
    [builtinReference[name]] = await everythingInProcess(name, photo, warmup, [grid], join(tmp, `out-${name}`));
  }

  const rss = await measureRss(byName);
  note('fast everything mode');
  const fastMode: FastModeResult = await measureFastMode(mini ? 8 : 32, quick ? [1, 2] : [1, 2, 3, 4]);

  const report = {
    bench: 'samlite npm run bench',
    startedAt: new Date(started).toISOString(),
    durationS: 0,
    quick,
    mini,
    machine,
    loadAtEnd: loadavg().map(round2),
    repeats,
    images: { photo, twelveMegapixel: rss.image },
    rssEstimate: rss.estimate,
    models: infos.map(modelSummary),
    families: [...familyReports, ...realReports],
    realGraphs: realGraphs ? { dir: resolve(realGraphs), modelCost: realModelCost } : undefined,
    fastsam,
    fastsamFloor,
    builtinReference,
    builtinMaskWriteMs,
    rss: rss.runs,
    fastMode,
    serve,
    sam2,
    targets: [] as ReturnType<typeof evaluateTargets>,
  };
  report.targets = [...evaluateTargets(familyReports, rss.runs, rss.estimate, fastMode, builtinReference, builtinMaskWriteMs, fastsam), ...serveTargets(serve), ...sam2Targets(sam2)];
  report.durationS = Math.round((Date.now() - started) / 1000);
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, `${JSON.stringify(report, null, 2)}\n`);
  printReport(report);
  if (fastsamFloor.length > 0) printFloor(fastsamFloor);
  printServe(serve);
  printSam2(sam2);
  if (realGraphs) {
    console.log('\nrebuilt published graphs (random weights), bare sessions fed what samlite feeds:');
    for (const [folder, c] of Object.entries(realModelCost)) {
      console.log(`  ${folder}: encoder ${c.encoder.medianMs} ms, decoder ${c.decoderFull.medianMs} ms at the photo's size, ${c.decoderRender.medianMs} ms at ${c.decoderRender.size}`);
    }
  }
  console.log(`\nreport: ${outPath} (${report.durationS} s)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

/**
 * The models whose bare floors the SAM 2.1 rows print beside their own, timed in the same
 * run: EfficientSAM-Ti and MobileSAM as the kit rebuilt them when --real-graphs has them,
 * else their stand-ins (whose floors are within a factor of 1.1-1.3 of the rebuilt graphs').
 */
function sam2Beside(byName: Map<string, BenchModelInfo>): BesideModel[] {
  return Object.entries(REAL_GRAPH_PIPELINE).flatMap(([family, folder]) => {
    const rebuilt = realGraphs ? join(resolve(realGraphs), folder, 'manifest.json') : undefined;
    if (rebuilt && existsSync(rebuilt)) return [{ name: `rebuilt ${folder}`, manifest: rebuilt }];
    const standIn = byName.get(FAMILY_PAIRS[family]);
    return standIn ? [{ name: `${standIn.name} (stand-in)`, manifest: standIn.manifest }] : [];
  });
}

/** FastSAM at the floor: samlite beside the bare model (load + one run) and the ultralytics peer, at 2 and 12 MP. */
async function fastSamFloorRows(fastInfos: readonly BenchFastSamInfo[], photo: BenchImage): Promise<FloorRow[]> {
  const kit = kitPeer(tmp);
  if (noPeer) Object.assign(kit, { python: undefined, why: '--no-peer' });
  const standIn = fastInfos[fastInfos.length - 1];
  const builtin = resolveBenchModel('builtin-fastsam');
  const network = kit.graph ?? { name: `${standIn.name} (stand-in, random weights)`, file: standIn.file, manifest: standIn.manifest, side: standIn.spec.side, target: 2, peer: false };
  const builtinFile = modelFile(builtin, 'model');
  return measureFloor(
    [
      network,
      { name: 'builtin-fastsam (object masks)', file: builtinFile, manifest: 'builtin-fastsam', side: 1024, target: 1.2, peer: false },
      objectMasksAtCost(network, builtinFile, tmp),
    ],
    [
      { label: `2 MP (${photo.width}x${photo.height})`, image: photo },
      { label: '12 MP (4000x3000)', image: await twelveMegapixelImage(ROOT, tmp) },
    ],
    quick ? 1 : 3,
    join(tmp, 'out-floor'),
    kit,
  );
}

/** The CLI as a child process: cold runs, a second run served by the disk cache, and bare start-up. */
async function measureCli(info: Pick<BenchModelInfo, 'name' | 'manifest'>, photo: BenchImage, inProcess: FamilyInProcess) {
  const out = join(tmp, `cli-${info.name}`);
  const cache = join(tmp, `cli-cache-${info.name}`);
  const segmentArgs = (p: { x: number; y: number }, extra: string[]) => [
    'segment', photo.path, '--point', `${p.x},${p.y}`, '--model', info.manifest, '--out', out, '--overwrite', '--quiet', ...extra,
  ];
  note(`${info.name}: CLI start-up`);
  const startup: CliRun[] = [];
  for (let i = 0; i < 2; i++) startup.push(await runSamlite(ROOT, tmp, ['--version']));
  note(`${info.name}: CLI segment (cold, then warm disk cache)`);
  const coldCached = await runSamlite(ROOT, tmp, segmentArgs(photo.point, ['--cache-dir', cache]));
  const coldNoCache = await runSamlite(ROOT, tmp, segmentArgs(photo.point, ['--no-cache']));
  const warm = await runSamlite(ROOT, tmp, segmentArgs(photo.point2, ['--cache-dir', cache]));
  for (const r of [...startup, coldCached, coldNoCache, warm]) {
    if (r.code !== 0) throw new Error(`samlite ${r.args.join(' ')} exited with ${r.code}: ${r.stderrTail}`);
  }
  const coldMs = median([coldCached.wallMs, coldNoCache.wallMs]);
  // The model time of the library call (its own onnxruntime time), not the bare runs: it
  // was measured closer in time, and bare runs minutes apart drift with the machine's load.
  const modelMs = inProcess.segment.sameRun.modelMs;
  return {
    startupMs: round1(median(startup.map((r) => r.wallMs))),
    segmentCold: [coldCached, coldNoCache],
    segmentColdMs: round1(coldMs),
    modelMs: round1(modelMs),
    ratio: round2(coldMs / modelMs),
    /** Model-free part of a CLI run: Node start, imports, session creation, image I/O. */
    overheadMs: round1(coldMs - modelMs),
    segmentWarmDisk: warm,
    warmFraction: round3(warm.wallMs / coldMs),
  };
}

/**
 * Peak RSS of `samlite everything` on a 12 MP image, in child processes.
 *
 * A direct 64x64 run of a stand-in costs 4096 decoder runs plus the stability filter on
 * noise masks at 12 MP (22 minutes on the loaded development machine), so by default the
 * 64x64 figure is composed of two cheaper measurements: the stand-in at 8x8 (the model's
 * arenas, the image, the decoder; its noise masks never survive the filters, so a larger
 * grid adds nothing to hold) plus what going from 8x8 to 64x64 adds with real masks, which
 * the built-in model measures (candidates held for NMS, survivors, records). `--rss-full`
 * also runs the stand-in at 64x64 directly.
 */
async function measureRss(byName: Map<string, BenchModelInfo>): Promise<{ image: BenchImage; runs: RssReport[]; estimate: RssEstimate }> {
  const image = await twelveMegapixelImage(ROOT, tmp);
  const stand = byName.get(mini ? 'bench-mini-efficientsam' : 'bench-efficientsam-ti')!;
  const plan: [string, string, number][] = [
    ['builtin-efficientsam', 'builtin-efficientsam', 8],
    ['builtin-efficientsam', 'builtin-efficientsam', 64],
    [stand.name, stand.manifest, 8],
    ...(rssFull ? [[stand.name, stand.manifest, 64] as [string, string, number]] : []),
  ];
  const runs: RssReport[] = [];
  for (const [name, model, grid] of plan) {
    note(`everything ${grid}x${grid} on ${image.width}x${image.height} in a child process (${name})`);
    const run = await runSamlite(ROOT, tmp, ['everything', image.path, '--grid', String(grid), '--model', model, '--out', join(tmp, 'rss'), '--overwrite', '--quiet', '--format', 'json']);
    if (run.code !== 0) throw new Error(`samlite everything exited with ${run.code}: ${run.stderrTail}`);
    runs.push({ model: name, image: `${image.width}x${image.height}`, grid, run });
  }
  const mb = (name: string, grid: number) => runs.find((r) => r.model === name && r.grid === grid)?.run.maxRssMB ?? NaN;
  const estimate: RssEstimate = {
    model: stand.name,
    grid: 64,
    estimateMB: round1(mb(stand.name, 8) + mb('builtin-efficientsam', 64) - mb('builtin-efficientsam', 8)),
    directMB: rssFull ? mb(stand.name, 64) : undefined,
    how: `${stand.name} at 8x8 + (builtin-efficientsam at 64x64 - builtin-efficientsam at 8x8), all on the same 12 MP image`,
  };
  return { image, runs, estimate };
}

/** The cost figures of one pair against the published figures of the model it stands in for. */
function modelSummary(info: BenchModelInfo) {
  const spec = BENCH_PAIRS.find((p) => p.name === info.name);
  const params = info.cost.encoder.params + info.cost.decoder.params;
  const published = spec?.published;
  return {
    name: info.name,
    family: info.family,
    mimics: published?.model,
    encoder: { gmac: round2(info.cost.encoder.macs / 1e9), mparams: round2(info.cost.encoder.params / 1e6), mbytes: round1(info.bytes.encoder / 1e6) },
    decoder: { gmac: round2(info.cost.decoder.macs / 1e9), mparams: round2(info.cost.decoder.params / 1e6), mbytes: round1(info.bytes.decoder / 1e6) },
    totalMparams: round2(params / 1e6),
    published,
  };
}
