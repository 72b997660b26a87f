/**
 * TIFF's LZW (compression 5) decoded with flat typed-array tables. geotiff.js's own decoder
 * builds each string as an array and spent most of a window read there (3 s for 1 MP of an
 * LZW GeoTIFF, where a deflate one took 0.3 s); orthophotos often come as LZW.
 *
 * The TIFF variant: codes of 9 to 12 bits, most significant bit first, 256 clears the
 * table, 257 ends the data, and the code width grows one code early (libtiff's rule).
 */
const CLEAR = 256;
const END = 257;
const FIRST = 258;
const MAX_CODES = 4096;

/** Decode one LZW-compressed strip or tile. Throws on a code that cannot occur. */
export function decodeLzw(input: Uint8Array): Uint8Array {
  const prefix = new Uint16Array(MAX_CODES);
  const suffix = new Uint8Array(MAX_CODES);
  const first = new Uint8Array(MAX_CODES);
  const length = new Uint16Array(MAX_CODES);
  for (let i = 0; i < 256; i++) {
    suffix[i] = i;
    first[i] = i;
    length[i] = 1;
  }
  let out = new Uint8Array(Math.max(1024, input.length * 3));
  let pos = 0;
  const ensure = (n: number) => {
    if (pos + n <= out.length) return;
    const grown = new Uint8Array(Math.max(out.length * 2, pos + n));
    grown.set(out.subarray(0, pos));
    out = grown;
  };
  /** Write code's string at `pos`, back to front along its prefixes. */
  const emit = (code: number) => {
    const n = length[code];
    ensure(n);
    let at = pos + n - 1;
    let c = code;
    while (c >= FIRST) {
      out[at--] = suffix[c];
      c = prefix[c];
    }
    out[at] = c;
    pos += n;
  };

  let width = 9;
  let next = FIRST;
  let old = -1;
  let bitBuffer = 0;
  let bits = 0;
  let p = 0;
  for (;;) {
    while (bits < width) {
      if (p >= input.length) return out.slice(0, pos);
      bitBuffer = ((bitBuffer << 8) | input[p++]) >>> 0;
      bits += 8;
    }
    const code = (bitBuffer >>> (bits - width)) & ((1 << width) - 1);
    bits -= width;
    bitBuffer &= (1 << bits) - 1;
    if (code === END) break;
    if (code === CLEAR) {
      width = 9;
      next = FIRST;
      old = -1;
      continue;
    }
    if (old < 0) {
      if (code >= 256) throw new Error(`LZW: code ${code} right after a clear`);
      emit(code);
      old = code;
      continue;
    }
    if (code < next) {
      emit(code);
      if (next < MAX_CODES) {
        prefix[next] = old;
        suffix[next] = first[code];
        first[next] = first[old];
        length[next] = length[old] + 1;
        next++;
      }
    } else if (code === next && next < MAX_CODES) {
      prefix[next] = old;
      suffix[next] = first[old];
      first[next] = first[old];
      length[next] = length[old] + 1;
      next++;
      emit(code);
    } else {
      throw new Error(`LZW: code ${code} beyond the table (${next})`);
    }
    old = code;
    if (next >= (1 << width) - 1 && width < 12) width++;
  }
  return out.slice(0, pos);
}
