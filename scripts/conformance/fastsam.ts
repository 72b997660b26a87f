/**
 * The FastSAM rows of `npm run conformance`: samlite against current ultralytics running the
 * same ONNX file (its AutoBackend), on the kit's rebuilt FastSAM-s graphs (static and dynamic,
 * 640 and 1024) and on photos and generated images of odd sizes. The references are written
 * beforehand by scripts/conformance/fastsam_reference_ultralytics.py (Python); this reads
 * them, so it runs without Python, and says which cases it skipped for want of one.
 *
 * `--fastsam <cases.json>`: { "cases": [{ "name", "model" (ONNX path), "imgsz", "images"
 * (folder), "prompts" (the kit's prompts.json), "reference" (folder of <stem>.npz),
 * "fastsamRepo"?: folder of the FastSAM repository's npz on the same file, for its row }] },
 * paths relative to the file.
 *
 * Per image: the input tensor must be bit-identical, masks matched by index (Hungarian on
 * mask IoU when the counts differ or a pair falls below the bound) must reach IoU 0.999 with
 * median 1, every prompt's answer IoU 0.999.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { letterboxGeometry, letterboxPlanes } from '../../src/fastsam/letterbox.js';
import { openFastSamModel } from '../../src/families/fastsam.js';
import type { FastSamEverythingResult } from '../../src/fastsam/everything.js';
import { loadImage } from '../../src/image/load.js';
import { pixelIou } from '../../src/masks/iou.js';
import { rleToMask } from '../../src/masks/rle.js';
import type { Prompt } from '../../src/prompts/types.js';
import { Segmenter } from '../../src/segmenter/segmenter.js';
import { resolveModel } from '../../src/store/resolve.js';
import * as ort from 'onnxruntime-node';
import { FASTSAM_GRAPHS } from '../onnx/real-graphs.js';
import { readNpz, npyNumbers, type NpyArray } from './npz.js';

/** The bounds the rows are held to. */
export const FASTSAM_BOUNDS = { maskIou: 0.999, medianIou: 1, promptIou: 0.999 } as const;

interface KitCase {
  readonly name: string;
  readonly model: string;
  readonly imgsz: number;
  readonly images: string;
  readonly prompts: string;
  readonly reference: string;
  readonly fastsamRepo?: string;
  /** Confidence threshold for both sides (default 0.4). */
  readonly conf?: number;
  /** The FASTSAM_GRAPHS signature the file must have, checked against what onnxruntime reports. */
  readonly graph?: keyof typeof FASTSAM_GRAPHS;
}

/** The kit's prompts for one image: boxes, and point sets with labels (1 foreground, 0 background). */
interface KitPrompts {
  readonly boxes: number[][];
  readonly points: number[][][];
  readonly labels: number[][];
}

/** One image of one case. */
export interface FastSamRow {
  readonly kase: string;
  readonly image: string;
  readonly size: string;
  readonly input: string;
  readonly inputIdentical: boolean;
  readonly masks: string;
  readonly minIou: number;
  readonly medianIou: number;
  readonly matching: 'index' | 'hungarian';
  readonly minPromptIou: number;
  readonly fastsamRepo?: { readonly medianIou: number; readonly minIou: number; readonly minPromptIou: number };
  readonly ok: boolean;
  readonly note: string;
}

/** The kit's prompts as samlite prompts: each box alone, then each point set (foreground first). */
export function kitPrompts(p: KitPrompts): Prompt[] {
  const out: Prompt[] = p.boxes.map((b) => ({ box: { x1: b[0], y1: b[1], x2: b[2], y2: b[3] } }));
  p.points.forEach((pts, k) => {
    const pick = (label: number) => pts.filter((_, i) => p.labels[k][i] === label).map(([x, y]) => ({ x, y }));
    const neg = pick(0);
    out.push({ points: pick(1), ...(neg.length > 0 ? { negPoints: neg } : {}) });
  });
  return out;
}

/** Row `r` of an [n, h, ceil(w/8)] packbits array as a row-major 0/1 mask of `w` columns. */
function unpack(a: NpyArray, index: number, width: number): Uint8Array {
  const [, h, wb] = a.shape;
  const bits = (a.data as Uint8Array).subarray(index * h * wb, (index + 1) * h * wb);
  const out = new Uint8Array(h * width);
  for (let y = 0; y < h; y++) for (let x = 0; x < width; x++) out[y * width + x] = (bits[y * wb + (x >> 3)] >> (7 - (x & 7))) & 1;
  return out;
}

/** A plane of an [n, h, w] bool array. */
function plane(a: NpyArray, index: number): Uint8Array {
  const [, h, w] = a.shape;
  return (a.data as Uint8Array).subarray(index * h * w, (index + 1) * h * w);
}

/**
 * Minimum-cost assignment of rows to columns (rows <= columns) on `cost` (row-major, `rows` x
 * `cols`): the Hungarian method with potentials. Returns the column of each row.
 */
export function hungarian(cost: Float64Array, rows: number, cols: number): number[] {
  const INF = Number.POSITIVE_INFINITY;
  const u = new Float64Array(rows + 1);
  const v = new Float64Array(cols + 1);
  const p = new Int32Array(cols + 1); // row matched to column j (1-based), 0 = none
  const way = new Int32Array(cols + 1);
  for (let i = 1; i <= rows; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(cols + 1).fill(INF);
    const used = new Uint8Array(cols + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = INF;
      let j1 = 0;
      for (let j = 1; j <= cols; j++) {
        if (used[j]) continue;
        const cur = cost[(i0 - 1) * cols + j - 1] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= cols; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const match = new Array<number>(rows).fill(-1);
  for (let j = 1; j <= cols; j++) if (p[j] > 0) match[p[j] - 1] = j - 1;
  return match;
}

const median = (xs: number[]) => {
  if (xs.length === 0) return 1;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** IoUs of samlite's masks with a reference's, matched (see the module comment). */
function matchMasks(ref: NpyArray, width: number, mine: Uint8Array[]): { ious: number[]; matching: 'index' | 'hungarian'; refCount: number } {
  const n = ref.shape[0];
  const diag: number[] = [];
  for (let i = 0; i < Math.min(n, mine.length); i++) diag.push(pixelIou(unpack(ref, i, width), mine[i]));
  if (n === mine.length && diag.every((v) => v >= FASTSAM_BOUNDS.maskIou)) return { ious: diag, matching: 'index', refCount: n };
  // Hungarian on 1 - IoU over every pair (unmatched masks count as IoU 0).
  const size = Math.max(n, mine.length);
  const cost = new Float64Array(size * size).fill(1);
  for (let i = 0; i < n; i++) {
    const r = unpack(ref, i, width);
    for (let j = 0; j < mine.length; j++) cost[i * size + j] = 1 - pixelIou(r, mine[j]);
  }
  const match = hungarian(cost, size, size);
  return { ious: match.map((j, i) => 1 - cost[i * size + j]), matching: 'hungarian', refCount: n };
}

/** Run every case of `casesFile`; `note` reports progress. */
export async function runFastSamCases(casesFile: string, tmp: string, note: (line: string) => void): Promise<FastSamRow[]> {
  const base = dirname(resolve(casesFile));
  const cases = (JSON.parse(readFileSync(casesFile, 'utf8')) as { cases: KitCase[] }).cases;
  const rows: FastSamRow[] = [];
  for (const c of cases) {
    const at = (p: string) => resolve(base, p);
    const manifest = join(tmp, `kit-${c.name}.json`);
    writeFileSync(manifest, JSON.stringify({ name: `kit-${c.name}`, family: 'fastsam', imgsz: c.imgsz, license: 'AGPL-3.0', files: { model: { path: at(c.model) } } }));
    const model = await resolveModel(manifest);
    const net = await openFastSamModel(at(c.model));
    const rect = net.minimumRectangle;
    const frame = net.fixedInput ?? { width: c.imgsz, height: c.imgsz };
    await net.release();
    if (c.graph) {
      const session = await ort.InferenceSession.create(at(c.model));
      const io = (names: readonly string[], meta: readonly ort.InferenceSession.ValueMetadata[]) =>
        names.map((name, i) => ({ name, type: 'float32', dims: [...(meta[i] as unknown as { shape: (number | string)[] }).shape] }));
      const actual = { inputs: io(session.inputNames, session.inputMetadata), outputs: io(session.outputNames, session.outputMetadata) };
      await session.release();
      const same = JSON.stringify(actual) === JSON.stringify(FASTSAM_GRAPHS[c.graph]);
      rows.push({ kase: c.name, image: '(signature)', size: '', input: '', inputIdentical: same, masks: '', minIou: 1, medianIou: 1, matching: 'index', minPromptIou: 1, ok: same, note: `signature ${same ? 'equals' : 'DIFFERS from'} real-graphs.ts ${c.graph}${same ? '' : `: ${JSON.stringify(actual)}`}` });
    }
    const seg = await Segmenter.open(model, { fastsam: { conf: c.conf ?? 0.4, iou: 0.9, maxDet: 300 } });
    const prompts = JSON.parse(readFileSync(at(c.prompts), 'utf8')) as Record<string, KitPrompts>;
    try {
      for (const name of Object.keys(prompts).filter((f) => existsSync(join(at(c.images), f)))) {
        const stem = name.slice(0, -extname(name).length);
        const refFile = join(at(c.reference), `${stem}.npz`);
        if (!existsSync(refFile)) {
          rows.push({ kase: c.name, image: name, size: '', input: '', inputIdentical: false, masks: '', minIou: 0, medianIou: 0, matching: 'index', minPromptIou: 0, ok: true, note: `skipped: no reference ${refFile}` });
          continue;
        }
        note(`fastsam ${c.name}: ${name}`);
        const npz = readNpz(refFile);
        const image = await loadImage(join(at(c.images), name));
        const box = letterboxGeometry(image, frame, rect);
        const planes = letterboxPlanes(image, box);
        const refInput = npz.input.data as Float32Array;
        const inputIdentical = refInput.length === planes.length && npz.input.shape[1] === box.input.height && planes.every((v, i) => v === refInput[i]);
        const result = (await seg.everything(image)) as FastSamEverythingResult;
        const mine = result.records.map((r) => rleToMask(r.rle).data);
        const { ious, matching, refCount } = matchMasks(npz.masks, image.width, mine);
        const kit = kitPrompts(prompts[name]);
        const answers = [...Array.from({ length: npz.box_answers.shape[0] }, (_, k) => plane(npz.box_answers, k)), ...Array.from({ length: npz.point_answers.shape[0] }, (_, k) => plane(npz.point_answers, k))];
        const promptIous: number[] = [];
        for (const [k, prompt] of kit.entries()) {
          const got = await seg.segment(image, prompt);
          promptIous.push(pixelIou(got.best.mask.data, answers[k]));
        }
        let repo: FastSamRow['fastsamRepo'];
        if (c.fastsamRepo && existsSync(join(at(c.fastsamRepo), `${stem}.npz`))) {
          const other = readNpz(join(at(c.fastsamRepo), `${stem}.npz`));
          const m = matchMasks(other.masks, image.width, mine);
          const otherAnswers = [...Array.from({ length: other.box_answers.shape[0] }, (_, k) => plane(other.box_answers, k)), ...Array.from({ length: other.point_answers.shape[0] }, (_, k) => plane(other.point_answers, k))];
          repo = { medianIou: median(m.ious), minIou: Math.min(1, ...m.ious), minPromptIou: Math.min(1, ...otherAnswers.map((a, k) => pixelIou(a, answers[k]))) };
        }
        const minIou = Math.min(1, ...ious);
        const medianIou = median(ious);
        const minPromptIou = Math.min(1, ...promptIous);
        const ok = inputIdentical && refCount === mine.length && minIou >= FASTSAM_BOUNDS.maskIou && medianIou >= FASTSAM_BOUNDS.medianIou && minPromptIou >= FASTSAM_BOUNDS.promptIou;
        rows.push({
          kase: c.name,
          image: name,
          size: `${image.width}x${image.height}`,
          input: `${box.input.width}x${box.input.height}`,
          inputIdentical,
          masks: `${mine.length} / ${refCount} (${npyNumbers(npz.shape)[0]})`,
          minIou,
          medianIou,
          matching,
          minPromptIou,
          fastsamRepo: repo,
          ok,
          note: '',
        });
      }
    } finally {
      await seg.close();
    }
  }
  return rows;
}

/** The rows as a markdown table (stdout) and whether every row passed. */
export function printFastSamRows(rows: readonly FastSamRow[]): number {
  const f = (v: number) => v.toFixed(4);
  console.log('\nFastSAM: samlite against current ultralytics on the same ONNX file (bounds: input identical, masks matched IoU >= 0.999 with median 1, every prompt >= 0.999); the FastSAM repository (8.0.120) on the same file beside it.\n');
  console.log('| case | image | size | input | input identical | masks samlite / ultralytics | matching | min IoU | median IoU | min prompt IoU | FastSAM repo: median / min mask IoU, min prompt IoU vs ultralytics | verdict |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  let failed = 0;
  for (const r of rows) {
    if (!r.ok) failed++;
    if (r.note) {
      console.log(`| ${r.kase} | ${r.image} | | | | | | | | | | ${r.note} |`);
      continue;
    }
    const repo = r.fastsamRepo ? `${f(r.fastsamRepo.medianIou)} / ${f(r.fastsamRepo.minIou)}, ${f(r.fastsamRepo.minPromptIou)}` : '—';
    console.log(`| ${r.kase} | ${r.image} | ${r.size} | ${r.input} | ${r.inputIdentical ? 'yes' : 'NO'} | ${r.masks} | ${r.matching} | ${f(r.minIou)} | ${f(r.medianIou)} | ${f(r.minPromptIou)} | ${repo} | ${r.ok ? 'ok' : 'FAIL'} |`);
  }
  return failed;
}
