/**
 * Independent reader of Label Studio's brush `rle`, for tests only: written from the
 * decoder Label Studio documents (thi.ng rle-pack, as label-studio-converter's
 * `decode_rle` reads it), not from src/datasets/labelstudio-rle.ts.
 *
 * Layout, bits most significant first: value count (32), word size - 1 (5), four run-length
 * sizes - 1 (4 each); then chunks of: repeat flag (1), size class (2), length - 1 (that
 * class's size); a repeat chunk has one word for all its values, a literal chunk one word
 * per value.
 */
export function refDecodeLabelStudioRle(bytes: readonly number[]): Uint8Array {
  let bit = 0;
  const read = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++, bit++) {
      if (bit >> 3 >= bytes.length) throw new Error('rle ends inside a chunk');
      v = v * 2 + ((bytes[bit >> 3] >> (7 - (bit & 7))) & 1);
    }
    return v;
  };
  const count = read(32);
  const word = read(5) + 1;
  const sizes = [0, 1, 2, 3].map(() => read(4) + 1);
  const out = new Uint8Array(count);
  let i = 0;
  while (i < count) {
    const repeat = read(1);
    const end = i + 1 + read(sizes[read(2)]);
    if (end > count) throw new Error(`chunk runs to ${end}, past ${count} values`);
    if (repeat) out.fill(read(word), i, end);
    else for (; i < end; i++) out[i] = read(word);
    i = end;
  }
  return out;
}
