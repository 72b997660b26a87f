/**
 * A TIFF LZW encoder for tests (samlite only decodes): codes of 9 to 12 bits, most
 * significant bit first, a clear code first and whenever the table fills, the code width
 * growing as libtiff's encoder grows it.
 */
export function encodeLzw(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let nbits = 0;
  let width = 9;
  const put = (code: number) => {
    acc = (acc << width) | code;
    nbits += width;
    while (nbits >= 8) {
      out.push((acc >>> (nbits - 8)) & 255);
      nbits -= 8;
    }
    acc &= (1 << nbits) - 1;
  };
  let dict = new Map<number, number>();
  let next = 258;
  put(256);
  if (data.length === 0) {
    put(257);
    if (nbits > 0) out.push((acc << (8 - nbits)) & 255);
    return Uint8Array.from(out);
  }
  let w = data[0];
  for (let i = 1; i < data.length; i++) {
    const c = data[i];
    const key = w * 256 + c;
    const found = dict.get(key);
    if (found !== undefined) {
      w = found;
      continue;
    }
    put(w);
    dict.set(key, next++);
    if (next > (1 << width) - 1 && width < 12) width++;
    if (next >= 4093) {
      put(256);
      dict = new Map();
      next = 258;
      width = 9;
    }
    w = c;
  }
  put(w);
  next++;
  if (next > (1 << width) - 1 && width < 12) width++;
  put(257);
  if (nbits > 0) out.push((acc << (8 - nbits)) & 255);
  return Uint8Array.from(out);
}
