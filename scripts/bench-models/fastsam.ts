/**
 * The FastSAM benchmark stand-ins: a YOLOv8s-seg-shaped network with random weights
 * (yolo-seg.ts) exported at 640 and at 1024 like `yolo export imgsz=…`, one ONNX file and
 * a manifest per size in `<cache>/<name>/`, built on first use and rebuilt when the spec
 * or the builder changes (the same cache rules as the encoder/decoder pairs, models.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_MODELS_VERSION, DEFAULT_BENCH_CACHE, specHash, writeAtomic } from './models.js';
import { Net, type CostReport } from './net.js';
import { YOLOV8S_SEG, buildYoloSeg, type YoloSegConfig } from './yolo-seg.js';

/** What the real FastSAM-s publishes (../shared/docs/fastsam.md, sections 5 and 6). */
export interface FastSamPublished {
  readonly model: string;
  readonly params: number;
  /** GFLOPs at 640 as ultralytics counts them (2 x MACs). */
  readonly gflops640: number;
  readonly fileBytes: number;
  readonly note: string;
}

/** One FastSAM stand-in: the network and the input size it is exported at. */
export interface BenchFastSamSpec {
  readonly name: string;
  readonly family: 'fastsam';
  readonly seed: number;
  readonly network: YoloSegConfig;
  readonly side: 640 | 1024;
  readonly published?: FastSamPublished;
}

const FASTSAM_S: FastSamPublished = {
  model: 'fastsam-s',
  params: 11.8e6,
  gflops640: 42.6,
  fileBytes: 47284757,
  note: 'FastSAM-s = YOLOv8s-seg: 11.8M params, 42.6 GFLOPs at 640 (ultralytics docs); Qualcomm FastSam-S.onnx 47,284,757 bytes',
};

/** FastSAM-s at the two sizes `npm run bench` compares (same weights). */
export const FASTSAM_BENCH_MODELS: readonly BenchFastSamSpec[] = [
  { name: 'bench-fastsam-s-640', family: 'fastsam', seed: 201, network: YOLOV8S_SEG, side: 640, published: FASTSAM_S },
  { name: 'bench-fastsam-s-1024', family: 'fastsam', seed: 201, network: YOLOV8S_SEG, side: 1024, published: FASTSAM_S },
];

/** A tiny network of the same shape, for tests and `npm run bench -- --mini`. */
const MINI_YOLO: YoloSegConfig = { channels: [8, 8, 16, 16, 32], depths: [1, 1, 1, 1], neckDepth: 1, protoChannels: 16, regMax: 16 };
export const MINI_FASTSAM_BENCH_MODELS: readonly BenchFastSamSpec[] = [
  { name: 'bench-mini-fastsam-640', family: 'fastsam', seed: 9, network: MINI_YOLO, side: 640 },
  { name: 'bench-mini-fastsam-1024', family: 'fastsam', seed: 9, network: MINI_YOLO, side: 1024 },
];

/** What `build.json` holds, and what {@link ensureFastSamBenchModels} returns per model. */
export interface BenchFastSamInfo {
  readonly name: string;
  readonly family: 'fastsam';
  readonly version: number;
  readonly specHash: string;
  readonly spec: BenchFastSamSpec;
  readonly dir: string;
  readonly manifest: string;
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly cost: CostReport;
  readonly buildSeconds?: number;
}

const SOURCES = ['net.ts', 'yolo-seg.ts', 'fastsam.ts', '../onnx/builder.ts', '../onnx/nn.ts', '../onnx/proto.ts', '../onnx/real-graphs.ts'];

/** Builds one stand-in in memory (deterministic: same spec, same bytes). */
export function buildFastSamBench(spec: BenchFastSamSpec): { bytes: Uint8Array; cost: CostReport } {
  const net = new Net(spec.name.replace(/-/g, '_'), spec.seed);
  buildYoloSeg(net, spec.network, spec.side);
  const bytes = net.g.toBytes({
    producerName: 'samlite scripts/bench-models',
    producerVersion: String(BENCH_MODELS_VERSION),
    docString: `${spec.name}: YOLOv8-seg-shaped, random weights (seed ${spec.seed}), for timing only; its masks are noise.`,
  });
  return { bytes, cost: net.report() };
}

/** Makes sure every requested stand-in exists in the cache, building missing or stale ones. */
export function ensureFastSamBenchModels(options: { dir?: string; models?: readonly BenchFastSamSpec[]; log?: (line: string) => void } = {}): BenchFastSamInfo[] {
  const root = options.dir ?? DEFAULT_BENCH_CACHE;
  return (options.models ?? FASTSAM_BENCH_MODELS).map((spec) => {
    const dir = join(root, spec.name);
    const hash = specHash(spec, SOURCES);
    const record = join(dir, 'build.json');
    if (existsSync(record)) {
      try {
        const info = JSON.parse(readFileSync(record, 'utf8')) as BenchFastSamInfo;
        if (info.version === BENCH_MODELS_VERSION && info.specHash === hash && info.dir === dir && existsSync(info.file) && existsSync(info.manifest)) return info;
      } catch {
        // rebuilt below
      }
    }
    options.log?.(`building ${spec.name} (builder v${BENCH_MODELS_VERSION}) in ${dir}`);
    const t0 = performance.now();
    const built = buildFastSamBench(spec);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'model.onnx');
    writeAtomic(file, built.bytes);
    const manifest = join(dir, 'manifest.json');
    const description = `benchmark stand-in${spec.published ? ` for ${spec.published.model}` : ''} at ${spec.side}: YOLOv8-seg-shaped, random weights; for timing only, its masks are noise`;
    writeAtomic(manifest, `${JSON.stringify({ name: spec.name, family: 'fastsam', description, files: { model: { path: 'model.onnx' } } }, null, 2)}\n`);
    const info: BenchFastSamInfo = {
      name: spec.name,
      family: 'fastsam',
      version: BENCH_MODELS_VERSION,
      specHash: hash,
      spec,
      dir,
      manifest,
      file,
      bytes: built.bytes.length,
      sha256: createHash('sha256').update(built.bytes).digest('hex'),
      cost: built.cost,
      buildSeconds: Math.round((performance.now() - t0) / 100) / 10,
    };
    writeAtomic(record, `${JSON.stringify(info, null, 2)}\n`);
    options.log?.(`built ${spec.name} in ${info.buildSeconds} s (${(info.bytes / 1e6).toFixed(1)} MB)`);
    return info;
  });
}
