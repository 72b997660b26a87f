/**
 * A reader for the NumPy `.npz` files the conformance kit's reference.py writes: a zip of
 * `.npy` arrays (stored or deflated). Just enough for bool, integer and float arrays in C
 * order; anything else is a clear error naming the file.
 *
 * numpy writes each member with `force_zip64`, so the local headers carry 0xFFFFFFFF sizes
 * and a zip64 extra field: sizes and offsets are read from the central directory instead.
 */
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

/** One array: its dtype as numpy writes it (`|b1`, `<f4`, `<i8`, …), shape, and values. */
export interface NpyArray {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: Uint8Array | Float32Array | Float64Array | Int32Array | BigInt64Array;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

/** Every member of an `.npz` file, by name without the `.npy` suffix. */
export function readNpz(path: string): Record<string, NpyArray> {
  const buf = readFileSync(path);
  const fail = (what: string): never => {
    throw new Error(`${path}: ${what}`);
  };
  // The end-of-central-directory record sits in the last 22 + 65535 bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD_SIGNATURE) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail('not a zip file (no end of central directory)');
  const entries = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const out: Record<string, NpyArray> = {};
  for (let n = 0; n < entries; n++) {
    if (buf.readUInt32LE(at) !== CENTRAL_SIGNATURE) fail(`corrupt central directory at byte ${at}`);
    const method = buf.readUInt16LE(at + 10);
    const compressedSize = buf.readUInt32LE(at + 20);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    const localOffset = buf.readUInt32LE(at + 42);
    const name = buf.toString('utf8', at + 46, at + 46 + nameLength);
    if (compressedSize === 0xffffffff || localOffset === 0xffffffff) fail(`${name}: members over 4 GB are not supported`);
    at += 46 + nameLength + extraLength + commentLength;

    if (buf.readUInt32LE(localOffset) !== LOCAL_SIGNATURE) fail(`${name}: corrupt local header`);
    const start = localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28);
    const raw = buf.subarray(start, start + compressedSize);
    const bytes = method === 0 ? raw : method === 8 ? inflateRawSync(raw) : fail(`${name}: compression method ${method} is not supported`);
    out[name.replace(/\.npy$/, '')] = parseNpy(bytes, `${path}:${name}`);
  }
  return out;
}

/** Parse one `.npy` payload. */
export function parseNpy(bytes: Uint8Array, label: string): NpyArray {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${label}: not an .npy array`);
  const major = b[6];
  const headerLength = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = b.toString('latin1', headerStart, headerStart + headerLength);
  const dtype = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!dtype || shapeText === undefined) throw new Error(`${label}: unreadable .npy header ${header.trim()}`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${label}: Fortran-order arrays are not supported`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const count = shape.reduce((a, c) => a * c, 1);
  // Copy into an aligned buffer: the payload follows a header of arbitrary length.
  const body = new Uint8Array(b.subarray(headerStart + headerLength));
  const view = <T>(Ctor: { new (buffer: ArrayBuffer, offset: number, length: number): T; BYTES_PER_ELEMENT: number }): T => {
    if (body.byteLength < count * Ctor.BYTES_PER_ELEMENT) throw new Error(`${label}: ${body.byteLength} bytes for ${count} ${dtype} values`);
    return new Ctor(body.buffer, 0, count);
  };
  switch (dtype) {
    case '|b1':
    case '|u1':
      return { dtype, shape, data: body.subarray(0, count) };
    case '<f4':
      return { dtype, shape, data: view(Float32Array) };
    case '<f8':
      return { dtype, shape, data: view(Float64Array) };
    case '<i4':
      return { dtype, shape, data: view(Int32Array) };
    case '<i8':
      return { dtype, shape, data: view(BigInt64Array) };
    default:
      // A unicode scalar or array ('<U<n>': n UTF-32 code units each): kept as its bytes, see npyText.
      if (/^<U\d+$/.test(dtype)) return { dtype, shape, data: body.subarray(0, count * 4 * Number(dtype.slice(2))) };
      throw new Error(`${label}: dtype ${dtype} is not supported`);
  }
}

/** The text of a unicode ('<U') array, its elements joined; trailing NULs dropped. */
export function npyText(a: NpyArray): string {
  if (!a.dtype.startsWith('<U')) throw new Error(`not a unicode array (dtype ${a.dtype})`);
  const bytes = a.data as Uint8Array;
  let out = '';
  for (let i = 0; i + 4 <= bytes.length; i += 4) {
    const code = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    if (code !== 0) out += String.fromCodePoint(code);
  }
  return out;
}

/** The numbers of an array as plain numbers (int64 converted; fine below 2^53). */
export function npyNumbers(a: NpyArray): number[] {
  return Array.from(a.data as ArrayLike<number | bigint>, Number);
}
