import { rleToMask, type Rle } from '../masks/rle.js';

/** Bits for a run's length, by size class: Label Studio's brush encoder uses 3, 4, 8 and 16. */
const RUN_BITS = [3, 4, 8, 16] as const;
const WORD_BITS = 8;

/** Most-significant-bit-first writer of a byte list. */
class BitWriter {
  readonly bytes: number[] = [];
  private current = 0;
  private used = 0;

  write(value: number, bits: number): void {
    for (let b = bits - 1; b >= 0; b--) {
      this.current = (this.current << 1) | (Math.floor(value / 2 ** b) & 1);
      if (++this.used === 8) {
        this.bytes.push(this.current);
        this.current = 0;
        this.used = 0;
      }
    }
  }

  /** The bytes written, the last one padded with zero bits. */
  finish(): number[] {
    if (this.used > 0) this.write(0, 8 - this.used);
    return this.bytes;
  }
}

/**
 * A mask as Label Studio's brush `rle` (the `value.rle` of a `brushlabels` result): the
 * image's RGBA bytes row by row, 255 in all four channels on the mask and 0 elsewhere,
 * packed by thi.ng's rle-pack as Label Studio reads it — a 32-bit value count, the word size
 * (8) and the four run-length sizes (3, 4, 8, 16 bits) in the header, then per run a repeat
 * bit, the size class and the run length minus one, and the byte value; bits most
 * significant first, the last byte zero-padded.
 *
 * Exact: holes and separate parts are kept. The mask is decoded once (a byte per pixel) to
 * walk it row by row.
 */
export function maskToLabelStudioRle(rle: Rle): number[] {
  const mask = rleToMask(rle);
  const out = new BitWriter();
  const total = mask.width * mask.height * 4;
  out.write(total, 32);
  out.write(WORD_BITS - 1, 5);
  for (const bits of RUN_BITS) out.write(bits - 1, 4);
  let value = 0;
  let run = 0;
  const flush = () => {
    let left = run * 4;
    while (left > 0) {
      const n = Math.min(left, 2 ** 16);
      const cls = RUN_BITS.findIndex((bits) => n <= 2 ** bits);
      out.write(1, 1);
      out.write(cls, 2);
      out.write(n - 1, RUN_BITS[cls]);
      out.write(value, WORD_BITS);
      left -= n;
    }
  };
  for (const pixel of mask.data) {
    const v = pixel ? 255 : 0;
    if (v === value) run++;
    else {
      flush();
      value = v;
      run = 1;
    }
  }
  flush();
  return out.finish();
}
