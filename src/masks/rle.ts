import type { BinaryMask } from './types.js';

/**
 * Uncompressed run-length encoding in COCO's layout: runs over the mask in column-major
 * (Fortran) order, alternating background/foreground and starting with background, so
 * `counts[0]` is 0 when the top-left pixel is foreground.
 *
 * It is the compact form masks travel in between the mask generator and the writers: a
 * 12 MP mask is 12 MB as bytes but usually a few thousand runs. An RLE is never changed
 * once made (its area, box and COCO string may be remembered for it: rememberRleFacts).
 */
export interface Rle {
  /** [height, width], as COCO writes it. */
  readonly size: readonly [number, number];
  readonly counts: Uint32Array;
}

/** COCO compressed RLE as written in JSON: `counts` is pycocotools' ASCII string. */
export interface CocoRle {
  size: [number, number];
  counts: string;
}

/** What {@link rleArea}, {@link rleBoundsInclusive} and {@link cocoJsonBytes} give for one RLE. */
export interface RleFacts {
  readonly area: number;
  readonly bounds: readonly [number, number, number, number] | undefined;
  /** The COCO string as it stands inside a JSON string (bytes; backslashes doubled). */
  readonly cocoJson: Uint8Array;
}

/**
 * Facts computed by the thread that made an RLE (FastSAM's render workers), keyed by its
 * counts array: the writers and the finishing steps would otherwise walk a noise mask's
 * hundreds of thousands of runs again on the main thread. RLEs are never changed once made.
 */
const precomputed = new WeakMap<Uint32Array, RleFacts>();

/** The facts of `rle` ({@link rleFacts}), computed elsewhere; later calls return them instead of walking its runs. */
export function rememberRleFacts(rle: Rle, facts: RleFacts): void {
  precomputed.set(rle.counts, facts);
}

/** Area, inclusive box and JSON-ready COCO string of `rle`, computed in one place (a worker's side of {@link rememberRleFacts}). */
export function rleFacts(rle: Rle): RleFacts {
  return { area: rleArea(rle), bounds: rleBoundsInclusive(rle), cocoJson: cocoJsonBytes(rle) };
}

/**
 * `rle`'s COCO string as the bytes between the quotes of a JSON string: the string's codes
 * (48..111, ASCII) with the backslash, the only one JSON escapes, doubled. Writers copy
 * these into a file instead of passing megabytes of RLE strings through JSON.stringify.
 */
export function cocoJsonBytes(rle: Rle): Uint8Array {
  const known = precomputed.get(rle.counts);
  if (known) return known.cocoJson;
  return encodeCounts(rle.counts, true).slice();
}

/** Encode a binary mask (row-major, non-zero = foreground) as uncompressed column-major RLE. */
export function maskToRle(mask: BinaryMask): Rle {
  const { width: w, height: h, data } = mask;
  // Worst case is one run per pixel plus the leading background run.
  let counts: Uint32Array<ArrayBuffer> = new Uint32Array(Math.min(w * h + 1, 1024));
  let n = 0;
  let run = 0;
  let current = 0;
  for (let x = 0; x < w; x++) {
    for (let i = x, end = x + h * w; i < end; i += w) {
      const v = data[i] !== 0 ? 1 : 0;
      if (v !== current) {
        if (n === counts.length) counts = grow(counts);
        counts[n++] = run;
        run = 0;
        current = v;
      }
      run++;
    }
  }
  if (n === counts.length) counts = grow(counts);
  counts[n++] = run;
  return { size: [h, w], counts: counts.slice(0, n) };
}

function grow(a: Uint32Array): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(a.length * 2);
  b.set(a);
  return b;
}

/** Decode uncompressed RLE back to a row-major binary mask (0/1 bytes). */
export function rleToMask(rle: Rle): BinaryMask {
  const [h, w] = rle.size;
  const data = new Uint8Array(w * h);
  let pos = 0;
  for (let i = 0; i < rle.counts.length; i++) {
    const run = rle.counts[i];
    if (i % 2 === 1) {
      for (let k = pos; k < pos + run; k++) {
        // column-major index k → (x = k / h, y = k % h)
        const x = (k / h) | 0;
        data[(k - x * h) * w + x] = 1;
      }
    }
    pos += run;
  }
  if (pos !== w * h) throw new Error(`RLE covers ${pos} pixels, expected ${w * h} (${h}x${w})`);
  return { width: w, height: h, data };
}

/** Foreground pixel count: the sum of the odd-indexed runs. */
export function rleArea(rle: Rle): number {
  const known = precomputed.get(rle.counts);
  if (known) return known.area;
  let area = 0;
  for (let i = 1; i < rle.counts.length; i += 2) area += rle.counts[i];
  return area;
}

/**
 * Tight box around the foreground as inclusive pixel indices [x0, y0, x1, y1];
 * `undefined` for an empty mask.
 */
export function rleBoundsInclusive(rle: Rle): [number, number, number, number] | undefined {
  const known = precomputed.get(rle.counts);
  if (known) return known.bounds && [...known.bounds];
  const h = rle.size[0];
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -1;
  let y1 = -1;
  let pos = 0;
  // Column of `pos` and where it starts, advanced as the runs go (no division per run).
  let col = 0;
  let colStart = 0;
  const counts = rle.counts;
  for (let i = 0; i < counts.length; i++) {
    const run = counts[i];
    if (i % 2 === 1 && run > 0) {
      const last = pos + run - 1;
      if (pos - colStart >= h) {
        const skip = Math.floor((pos - colStart) / h);
        col += skip;
        colStart += skip * h;
      }
      const xa = col;
      const ya = pos - colStart;
      if (last - colStart >= h) {
        const skip = Math.floor((last - colStart) / h);
        col += skip;
        colStart += skip * h;
      }
      if (xa < x0) x0 = xa;
      if (col > x1) x1 = col;
      if (xa === col) {
        if (ya < y0) y0 = ya;
        if (last - colStart > y1) y1 = last - colStart;
      } else {
        // The run wraps from the bottom of column xa to the top of column `col`.
        y0 = 0;
        y1 = h - 1;
      }
    }
    pos += run;
  }
  return x1 < 0 ? undefined : [x0, y0, x1, y1];
}

/**
 * pycocotools' compressed string for uncompressed counts (maskApi.c `rleToString`):
 * from the third run on, each value is stored as the difference to the run two before,
 * then written as 5-bit groups, low bits first, 0x20 marking that more groups follow and
 * 0x10 of the last group carrying the sign, each group offset by 48 into printable ASCII.
 */
export function countsToCocoString(counts: ArrayLike<number>): string {
  const bytes = encodeCounts(counts, false);
  // Every code is printable ASCII (48..111); a decoder avoids String.fromCharCode's argument
  // limit, and TextDecoder (unlike Buffer) also runs in the annotation page.
  return ASCII.decode(bytes);
}

/**
 * `counts` encoded, in {@link cocoScratch} (grown to fit; a mask past its cap gets a buffer
 * of its own): valid until the next call. With `json`, each backslash is written twice, as
 * inside a JSON string.
 */
function encodeCounts(counts: ArrayLike<number>, json: boolean): Uint8Array {
  // Written straight into bytes: a noisy mask has hundreds of thousands of runs, and a
  // growing array of numbers copied into bytes cost more than the decoder run.
  // A difference of two uint32 counts needs at most 33 bits: 7 groups of 5 (14 bytes escaped).
  const need = (json ? 14 : 7) * counts.length;
  let out = cocoScratch;
  if (out.length < need) {
    // Shared up to a cap: one huge noise mask must not pin its buffer for the process's life.
    if (need > COCO_SCRATCH_CAP) out = new Uint8Array(need);
    else out = cocoScratch = new Uint8Array(Math.min(COCO_SCRATCH_CAP, Math.max(need, 2 * out.length)));
  }
  let n = 0;
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    // Most differences fit one or two characters (-16..15, -512..511): written directly.
    // A backslash (92 = 48 + 0x20 + 12) is always a group with more to follow.
    if (x >= -16 && x < 16) {
      out[n++] = (x & 0x1f) + 48;
      continue;
    }
    if (x >= -512 && x < 512) {
      const c = (x & 0x1f) + 80; // 0x20 (more follows) + 48
      out[n++] = c;
      if (json && c === 92) out[n++] = 92;
      out[n++] = ((x >> 5) & 0x1f) + 48;
      continue;
    }
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x >>= 5; // arithmetic shift keeps the sign for negative differences
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      out[n++] = c + 48;
      if (json && c === 44) out[n++] = 92;
    }
  }
  return out.subarray(0, n);
}

/**
 * The bytes countsToCocoString writes into, kept between calls: segment-everything encodes
 * hundreds of masks in a row, and a fresh buffer (or a growing array) per mask cost more
 * than the encoding itself.
 */
let cocoScratch = new Uint8Array(4096);
/** The most bytes the shared buffer grows to (about 600 000 runs); larger masks get their own. */
const COCO_SCRATCH_CAP = 4 * 1024 * 1024;

const ASCII = new TextDecoder('latin1');

/** Inverse of {@link countsToCocoString}: pycocotools' `rleFrString`. */
export function cocoStringToCounts(s: string): Uint32Array {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new Error('truncated COCO RLE string');
      const c = s.charCodeAt(p) - 48;
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x |= -1 << (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return Uint32Array.from(counts);
}

/** COCO compressed RLE object (`{size: [h, w], counts: "..."}`) for JSON output. */
export function toCocoRle(rle: Rle): CocoRle {
  return { size: [rle.size[0], rle.size[1]], counts: countsToCocoString(rle.counts) };
}

/** Parse a COCO compressed RLE object back to uncompressed counts. */
export function fromCocoRle(coco: CocoRle): Rle {
  return { size: [coco.size[0], coco.size[1]], counts: cocoStringToCounts(coco.counts) };
}
