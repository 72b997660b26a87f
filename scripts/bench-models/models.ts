/**
 * The benchmark model pairs: what each mimics, how it is built, and the on-disk cache that
 * builds them on demand.
 *
 * A pair is an encoder and a decoder ONNX file plus a manifest, in
 * `<cache>/<name>/`, so `samlite segment img.jpg --model <cache>/<name>/manifest.json`
 * runs it through the normal pipeline. `build.json` records the builder version, the
 * spec and the measured costs; a folder whose record does not match the current version
 * and spec is rebuilt. Files are written under temporary names and renamed, and
 * `build.json` last, so an interrupted build is simply rebuilt next time.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildEfficientSamIoDecoder, buildSamIoDecoder, type MaskDecoderConfig } from './decoder.js';
import { buildTinyVitEncoder, buildVitEncoder, type TinyVitEncoderConfig, type VitEncoderConfig } from './encoders.js';
import { Net, type CostReport } from './net.js';

/**
 * Bump when any graph the builder emits changes (ops, shapes, weight draws): cached
 * folders built by another version are rebuilt.
 */
export const BENCH_MODELS_VERSION = 2;

/** Default cache folder: `.cache/bench-models/` at the repository root (git-ignored). */
export const DEFAULT_BENCH_CACHE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.cache', 'bench-models');

/** Which encoder graph a pair uses. */
export type BenchEncoderSpec =
  | { readonly kind: 'vit'; readonly config: VitEncoderConfig }
  | { readonly kind: 'tinyvit'; readonly config: TinyVitEncoderConfig };

/** Figures of the real model a pair stands in for (docs/model-contracts.md, "Published figures" and the download table). */
export interface PublishedFigures {
  /** The real model's name in samlite's catalog. */
  readonly model: string;
  /** Published parameter counts, where the publisher gave them. */
  readonly params: { readonly total?: number; readonly encoder?: number; readonly decoder?: number };
  /** Byte sizes of the published float32 ONNX files (bytes / 4 bounds the parameter count from above). */
  readonly fileBytes: { readonly encoder: number; readonly decoder: number };
  /** Where the figures come from and what they are measured on. */
  readonly note: string;
}

/** One benchmark pair. */
export interface BenchPairSpec {
  /** Folder and model name (`bench-…`, never a catalog name). */
  readonly name: string;
  readonly family: 'efficientsam' | 'sam';
  /** Seed of every weight; the same spec gives byte-identical files. */
  readonly seed: number;
  readonly encoder: BenchEncoderSpec;
  readonly decoder: MaskDecoderConfig;
  readonly published?: PublishedFigures;
}

/** SAM's mask decoder: two-way transformer depth 2, 8 heads, MLP 2048 (width 256 is fixed by the embedding). */
export const SAM_MASK_DECODER: MaskDecoderConfig = { depth: 2, heads: 8, mlpDim: 2048 };

/** EfficientSAM-Ti's ViT: width 192, 12 layers, 3 heads. */
export const VIT_TI: VitEncoderConfig = { width: 192, depth: 12, heads: 3, mlpRatio: 4 };
/** EfficientSAM-S's ViT: width 384, 12 layers, 6 heads. */
export const VIT_S: VitEncoderConfig = { width: 384, depth: 12, heads: 6, mlpRatio: 4 };
/** MobileSAM's TinyViT-5M as configured in `tiny_vit_sam.py`. */
export const TINYVIT_5M: TinyVitEncoderConfig = {
  dims: [64, 128, 160, 320],
  depths: [2, 2, 6, 2],
  heads: [4, 5, 10],
  windows: [7, 14, 7],
  mlpRatio: 4,
  mbconvExpand: 4,
};

/** The three pairs `npm run bench` uses (EfficientSAM-S is built for its encoder figure). */
export const BENCH_PAIRS: readonly BenchPairSpec[] = [
  {
    name: 'bench-efficientsam-ti',
    family: 'efficientsam',
    seed: 101,
    encoder: { kind: 'vit', config: VIT_TI },
    decoder: SAM_MASK_DECODER,
    published: {
      model: 'efficientsam-ti',
      params: { total: 10e6 },
      fileBytes: { encoder: 24799761, decoder: 16565728 },
      note: 'EfficientSAM-Ti ≈ 10M params; one report: 966 ms encode, 42 ms per box decode, ONNX Runtime on an 8-core desktop CPU',
    },
  },
  {
    name: 'bench-efficientsam-s',
    family: 'efficientsam',
    seed: 102,
    encoder: { kind: 'vit', config: VIT_S },
    decoder: SAM_MASK_DECODER,
    published: {
      model: 'efficientsam-s',
      params: { total: 26e6 },
      fileBytes: { encoder: 89558337, decoder: 16565728 },
      note: 'EfficientSAM-S ≈ 26M params',
    },
  },
  {
    name: 'bench-mobilesam',
    family: 'sam',
    seed: 103,
    encoder: { kind: 'tinyvit', config: TINYVIT_5M },
    decoder: SAM_MASK_DECODER,
    published: {
      model: 'mobilesam',
      params: { encoder: 5e6, decoder: 3.9e6 },
      fileBytes: { encoder: 28157093, decoder: 16496559 },
      note: 'MobileSAM: encoder 5M params (8 ms), decoder 3.9M params (4 ms) on one GPU',
    },
  },
];

/**
 * Tiny pairs with the same contracts, for tests: the same graphs at a fraction of the
 * width and depth (the embedding stays [1, 256, 64, 64], so the decoder keeps width 256).
 */
export const MINI_BENCH_PAIRS: readonly BenchPairSpec[] = [
  {
    name: 'bench-mini-efficientsam',
    family: 'efficientsam',
    seed: 7,
    encoder: { kind: 'vit', config: { width: 24, depth: 1, heads: 2, mlpRatio: 2 } },
    decoder: { depth: 1, heads: 8, mlpDim: 64 },
  },
  {
    name: 'bench-mini-mobilesam',
    family: 'sam',
    seed: 8,
    encoder: {
      kind: 'tinyvit',
      config: { dims: [8, 16, 16, 32], depths: [1, 1, 1, 1], heads: [2, 2, 2], windows: [7, 14, 7], mlpRatio: 2, mbconvExpand: 2 },
    },
    decoder: { depth: 1, heads: 8, mlpDim: 64 },
  },
];

/** The bytes and costs of one pair. */
export interface BuiltPair {
  readonly encoder: Uint8Array;
  readonly decoder: Uint8Array;
  readonly cost: { readonly encoder: CostReport; readonly decoder: CostReport };
}

function modelOptions(spec: BenchPairSpec, role: string) {
  return {
    producerName: 'samlite scripts/bench-models',
    producerVersion: String(BENCH_MODELS_VERSION),
    docString: `${spec.name} ${role}: architecture-shaped, random weights (seed ${spec.seed}), for timing only; its masks are noise.`,
  };
}

/** Builds one pair in memory (deterministic: same spec, same bytes). */
export function buildBenchPair(spec: BenchPairSpec): BuiltPair {
  // Separate seeds per file, so changing one graph never shifts the other's weights.
  const enc = new Net(`${spec.name}_encoder`, spec.seed * 2);
  if (spec.encoder.kind === 'vit') {
    if (spec.family !== 'efficientsam') throw new Error(`${spec.name}: the ViT encoder has EfficientSAM's input contract`);
    buildVitEncoder(enc, spec.encoder.config);
  } else {
    if (spec.family !== 'sam') throw new Error(`${spec.name}: the TinyViT encoder has MobileSAM's input contract`);
    buildTinyVitEncoder(enc, spec.encoder.config);
  }
  const dec = new Net(`${spec.name}_decoder`, spec.seed * 2 + 1);
  if (spec.family === 'efficientsam') buildEfficientSamIoDecoder(dec, spec.decoder);
  else buildSamIoDecoder(dec, spec.decoder);
  return {
    encoder: enc.g.toBytes(modelOptions(spec, 'encoder')),
    decoder: dec.g.toBytes(modelOptions(spec, 'decoder')),
    cost: { encoder: enc.report(), decoder: dec.report() },
  };
}

/** What `build.json` holds, and what `ensureBenchModels` returns per pair. */
export interface BenchModelInfo {
  readonly name: string;
  readonly family: 'efficientsam' | 'sam';
  readonly version: number;
  /** Hash of the spec (configs and seed) and of the builder's source files. */
  readonly specHash: string;
  readonly spec: BenchPairSpec;
  /** Absolute paths. */
  readonly dir: string;
  readonly manifest: string;
  readonly files: { readonly encoder: string; readonly decoder: string };
  readonly bytes: { readonly encoder: number; readonly decoder: number };
  readonly sha256: { readonly encoder: string; readonly decoder: string };
  readonly cost: { readonly encoder: CostReport; readonly decoder: CostReport };
  /** Seconds the build took (when this call built it). */
  readonly buildSeconds?: number;
}

/** Source files whose code emits the graphs: an edit to any of them rebuilds the cache. */
const GRAPH_SOURCES = ['net.ts', 'encoders.ts', 'decoder.ts', 'models.ts', '../onnx/builder.ts', '../onnx/nn.ts', '../onnx/proto.ts'];

/**
 * Hash of the spec (configs and seed) and of the builder's source, so a cached pair is
 * rebuilt when either changes even if nobody bumped BENCH_MODELS_VERSION.
 */
export function specHash(spec: { readonly published?: unknown }, sources: readonly string[] = GRAPH_SOURCES): string {
  const { published: _published, ...graphSpec } = spec;
  const h = createHash('sha256').update(JSON.stringify(graphSpec));
  const here = dirname(fileURLToPath(import.meta.url));
  for (const file of sources) h.update(readFileSync(join(here, file)));
  return h.digest('hex').slice(0, 16);
}

/** Write `path` under a temporary name, then rename: an interrupted build leaves no half file. */
export function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.partial`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Options of {@link ensureBenchModels}. */
export interface EnsureOptions {
  /** Cache folder (default {@link DEFAULT_BENCH_CACHE}). */
  readonly dir?: string;
  /** Pairs to make sure of (default {@link BENCH_PAIRS}). */
  readonly pairs?: readonly BenchPairSpec[];
  /** Rebuild even when the cached folder is current. */
  readonly force?: boolean;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

/** Reads a pair's `build.json` when it matches the current builder and spec. */
function readCurrent(dir: string, spec: BenchPairSpec): BenchModelInfo | undefined {
  const record = join(dir, 'build.json');
  if (!existsSync(record)) return undefined;
  try {
    const info = JSON.parse(readFileSync(record, 'utf8')) as BenchModelInfo;
    const complete = existsSync(info.files.encoder) && existsSync(info.files.decoder) && existsSync(info.manifest);
    return complete && info.version === BENCH_MODELS_VERSION && info.specHash === specHash(spec) && info.dir === dir ? info : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes sure every requested pair exists in the cache, building the missing or stale ones.
 * Returns each pair's record (paths, sizes, hashes, MACs and parameters).
 */
export function ensureBenchModels(options: EnsureOptions = {}): BenchModelInfo[] {
  const root = options.dir ?? DEFAULT_BENCH_CACHE;
  const out: BenchModelInfo[] = [];
  for (const spec of options.pairs ?? BENCH_PAIRS) {
    const dir = join(root, spec.name);
    const current = options.force ? undefined : readCurrent(dir, spec);
    if (current) {
      out.push(current);
      continue;
    }
    options.log?.(`building ${spec.name} (builder v${BENCH_MODELS_VERSION}) in ${dir}`);
    const t0 = performance.now();
    const built = buildBenchPair(spec);
    mkdirSync(dir, { recursive: true });
    const files = { encoder: join(dir, 'encoder.onnx'), decoder: join(dir, 'decoder.onnx') };
    writeAtomic(files.encoder, built.encoder);
    writeAtomic(files.decoder, built.decoder);
    const manifest = join(dir, 'manifest.json');
    writeAtomic(
      manifest,
      `${JSON.stringify(
        {
          name: spec.name,
          family: spec.family,
          description: `benchmark stand-in${spec.published ? ` for ${spec.published.model}` : ''}: architecture-shaped, random weights; for timing only, its masks are noise`,
          files: { encoder: { path: 'encoder.onnx' }, decoder: { path: 'decoder.onnx' } },
        },
        null,
        2,
      )}\n`,
    );
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    const info: BenchModelInfo = {
      name: spec.name,
      family: spec.family,
      version: BENCH_MODELS_VERSION,
      specHash: specHash(spec),
      spec,
      dir,
      manifest,
      files,
      bytes: { encoder: built.encoder.length, decoder: built.decoder.length },
      sha256: { encoder: sha(built.encoder), decoder: sha(built.decoder) },
      cost: built.cost,
      buildSeconds: Math.round((performance.now() - t0) / 100) / 10,
    };
    writeAtomic(join(dir, 'build.json'), `${JSON.stringify(info, null, 2)}\n`);
    options.log?.(`built ${spec.name} in ${info.buildSeconds} s (encoder ${(info.bytes.encoder / 1e6).toFixed(1)} MB, decoder ${(info.bytes.decoder / 1e6).toFixed(1)} MB)`);
    out.push(info);
  }
  return out;
}
