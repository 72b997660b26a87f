/**
 * A streaming writer of tiled TIFF and BigTIFF files: tiles are compressed and appended as
 * they come (in any order), and the image file directory is written last, so memory holds
 * one tile and the tile offsets, never the image. samlite writes label rasters with it,
 * and its tests make GeoTIFF inputs with it (no GDAL needed).
 *
 * Layout: little-endian; the header's first-IFD offset is patched once the IFD, at the end
 * of the file, is written. Chunky (pixel-interleaved) samples, one TIFF tile per
 * `tileSize` x `tileSize` block, edge tiles padded with zeros as the TIFF spec asks.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { deflate } from 'node:zlib';

const deflateAsync = promisify(deflate);

/** TIFF field types used here. */
const TYPE = { ascii: 2, short: 3, long: 4, double: 12, long8: 16 } as const;
type FieldType = keyof typeof TYPE;
const TYPE_SIZE: Record<FieldType, number> = { ascii: 1, short: 2, long: 4, double: 8, long8: 8 };

/** One TIFF tag to write: its number, field type and values. */
export interface TiffTag {
  readonly tag: number;
  readonly type: FieldType;
  /** Numbers, or the text of an ASCII tag (a terminating NUL is added). */
  readonly values: readonly number[] | string;
}

/** Sample types the writer stores. */
export type TiffSampleType = 'uint8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

const SAMPLE: Record<TiffSampleType, { bits: number; format: 1 | 2 | 3 }> = {
  uint8: { bits: 8, format: 1 },
  uint16: { bits: 16, format: 1 },
  int16: { bits: 16, format: 2 },
  uint32: { bits: 32, format: 1 },
  int32: { bits: 32, format: 2 },
  float32: { bits: 32, format: 3 },
  float64: { bits: 64, format: 3 },
};

/** Typed array of a sample type, as tiles are handed to {@link TiledTiffWriter.writeTile}. */
export type TiffSamples = Uint8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** What the file holds. */
export interface TiffLayout {
  readonly width: number;
  readonly height: number;
  /** Samples per pixel (bands). */
  readonly samples: number;
  readonly sampleType: TiffSampleType;
  /** Side of a square tile: a multiple of 16 (TIFF's rule). Default 256. */
  readonly tileSize?: number;
  /** `rgb` needs 3 samples or more; default `minisblack`. */
  readonly photometric?: 'minisblack' | 'rgb';
  /** ExtraSamples values for the samples past the colour ones (2 = unassociated alpha). */
  readonly extraSamples?: readonly number[];
  /** Default `deflate`. */
  readonly compression?: 'deflate' | 'none';
  /** BigTIFF (64-bit offsets). Default `auto`: when the uncompressed pixels reach 4 GB. */
  readonly bigTiff?: boolean | 'auto';
  /** More tags: the georeferencing, GDAL_NODATA, GDAL_METADATA. */
  readonly tags?: readonly TiffTag[];
}

/** Bytes past which `bigTiff: 'auto'` writes BigTIFF: deflate never grows data by more than 0.1 %. */
const BIGTIFF_AUTO_BYTES = 0xf000_0000;

/**
 * Writes one tiled TIFF to an open file. Create with {@link TiledTiffWriter.create}, write
 * every tile with {@link writeTile} (tiles never written are stored as zeros), then
 * {@link close}.
 */
export class TiledTiffWriter {
  readonly tileSize: number;
  readonly tilesAcross: number;
  readonly tilesDown: number;
  private readonly offsets: Float64Array;
  private readonly counts: Float64Array;
  private position: number;
  private closed = false;
  /** Writes are serialised so tiles land one after another even when callers do not await. */
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: FileHandle,
    readonly layout: TiffLayout,
    readonly bigTiff: boolean,
  ) {
    this.tileSize = layout.tileSize ?? 256;
    this.tilesAcross = Math.ceil(layout.width / this.tileSize);
    this.tilesDown = Math.ceil(layout.height / this.tileSize);
    this.offsets = new Float64Array(this.tilesAcross * this.tilesDown);
    this.counts = new Float64Array(this.tilesAcross * this.tilesDown);
    this.position = bigTiff ? 16 : 8;
  }

  /** Open `path` (created or truncated) for a tiled TIFF of `layout`. */
  static async create(path: string, layout: TiffLayout): Promise<TiledTiffWriter> {
    const tileSize = layout.tileSize ?? 256;
    if (!Number.isInteger(layout.width) || !Number.isInteger(layout.height) || layout.width < 1 || layout.height < 1) {
      throw new RangeError(`TIFF size must be whole numbers >= 1, got ${layout.width}x${layout.height}`);
    }
    if (!Number.isInteger(tileSize) || tileSize < 16 || tileSize % 16 !== 0) throw new RangeError(`TIFF tile size must be a multiple of 16, got ${tileSize}`);
    if (!Number.isInteger(layout.samples) || layout.samples < 1) throw new RangeError(`TIFF samples per pixel must be >= 1, got ${layout.samples}`);
    if (layout.photometric === 'rgb' && layout.samples < 3) throw new RangeError('an RGB TIFF needs at least 3 samples per pixel');
    const colour = layout.photometric === 'rgb' ? 3 : 1;
    if ((layout.extraSamples?.length ?? 0) > layout.samples - colour) throw new RangeError('more ExtraSamples than samples past the colour ones');
    const raw = layout.width * layout.height * layout.samples * (SAMPLE[layout.sampleType].bits / 8);
    const bigTiff = layout.bigTiff === undefined || layout.bigTiff === 'auto' ? raw >= BIGTIFF_AUTO_BYTES : layout.bigTiff;
    const file = await open(path, 'w');
    const writer = new TiledTiffWriter(file, layout, bigTiff);
    const header = Buffer.alloc(bigTiff ? 16 : 8);
    header.write('II', 0, 'latin1');
    if (bigTiff) {
      header.writeUInt16LE(43, 2);
      header.writeUInt16LE(8, 4);
    } else {
      header.writeUInt16LE(42, 2);
    }
    // The first-IFD offset stays 0 until close(): a file cut short is not a readable TIFF.
    await file.write(header, 0, header.length, 0);
    return writer;
  }

  /** Bytes of one (uncompressed) tile. */
  get tileBytes(): number {
    return this.tileSize * this.tileSize * this.layout.samples * (SAMPLE[this.layout.sampleType].bits / 8);
  }

  /**
   * Compress and append tile (`col`, `row`): `tileSize`² pixels x samples, interleaved,
   * row-major, padded past the image's right and bottom edges. A tile written twice keeps
   * the second.
   */
  async writeTile(col: number, row: number, samples: TiffSamples): Promise<void> {
    if (this.closed) throw new Error('TIFF writer: writeTile after close');
    if (!Number.isInteger(col) || !Number.isInteger(row) || col < 0 || row < 0 || col >= this.tilesAcross || row >= this.tilesDown) {
      throw new RangeError(`TIFF tile (${col}, ${row}) is outside the ${this.tilesAcross}x${this.tilesDown} tiles`);
    }
    const bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
    if (bytes.length !== this.tileBytes) throw new RangeError(`TIFF tile holds ${bytes.length} bytes, expected ${this.tileBytes}`);
    // Compress now (in parallel with other tiles), append in call order: the same tiles
    // written in the same order give the same bytes, however the compressions interleave.
    const body = this.layout.compression === 'none' ? Promise.resolve(bytes) : deflateAsync(bytes);
    body.catch(() => undefined);
    await this.append(row * this.tilesAcross + col, body);
  }

  private append(index: number, pending: Promise<Uint8Array>): Promise<void> {
    const run = this.queue.then(async () => {
      const body = await pending;
      const at = this.position;
      await this.file.write(body, 0, body.length, at);
      this.position += body.length;
      this.offsets[index] = at;
      this.counts[index] = body.length;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Write the tiles never written (as zeros) and the directory, and close the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue;
    this.closed = true;
    try {
      let zero: Uint8Array | undefined;
      for (let i = 0; i < this.offsets.length; i++) {
        if (this.counts[i] > 0) continue;
        const empty = new Uint8Array(this.tileBytes);
        zero ??= this.layout.compression === 'none' ? empty : await deflateAsync(empty);
        const at = this.position;
        await this.file.write(zero, 0, zero.length, at);
        this.position += zero.length;
        this.offsets[i] = at;
        this.counts[i] = zero.length;
      }
      await this.writeDirectory();
    } finally {
      await this.file.close();
    }
  }

  /** Close the file without a directory (the caller removes it). */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.file.close();
  }

  private tags(): TiffTag[] {
    const { layout } = this;
    const sample = SAMPLE[layout.sampleType];
    const n = layout.samples;
    const offsetType: FieldType = this.bigTiff ? 'long8' : 'long';
    const tags: TiffTag[] = [
      { tag: 256, type: 'long', values: [layout.width] },
      { tag: 257, type: 'long', values: [layout.height] },
      { tag: 258, type: 'short', values: new Array<number>(n).fill(sample.bits) },
      { tag: 259, type: 'short', values: [layout.compression === 'none' ? 1 : 8] },
      { tag: 262, type: 'short', values: [layout.photometric === 'rgb' ? 2 : 1] },
      { tag: 277, type: 'short', values: [n] },
      { tag: 284, type: 'short', values: [1] },
      { tag: 322, type: 'long', values: [this.tileSize] },
      { tag: 323, type: 'long', values: [this.tileSize] },
      { tag: 324, type: offsetType, values: Array.from(this.offsets) },
      { tag: 325, type: offsetType, values: Array.from(this.counts) },
      { tag: 339, type: 'short', values: new Array<number>(n).fill(sample.format) },
    ];
    if (layout.extraSamples && layout.extraSamples.length > 0) tags.push({ tag: 338, type: 'short', values: [...layout.extraSamples] });
    for (const extra of layout.tags ?? []) {
      if (tags.some((t) => t.tag === extra.tag)) throw new Error(`TIFF writer: tag ${extra.tag} is set by the writer itself`);
      tags.push(extra);
    }
    return tags.sort((a, b) => a.tag - b.tag);
  }

  private async writeDirectory(): Promise<void> {
    const big = this.bigTiff;
    const tags = this.tags();
    const entrySize = big ? 20 : 12;
    const inline = big ? 8 : 4;
    const countSize = big ? 8 : 2;
    const nextSize = big ? 8 : 4;
    // Word-align the directory.
    const ifdAt = this.position + (this.position % 2);
    const ifdSize = countSize + tags.length * entrySize + nextSize;
    const payloads = tags.map((t) => encodeValues(t));
    let extraAt = ifdAt + ifdSize;
    const ifd = Buffer.alloc(ifdSize);
    let p = 0;
    if (big) ifd.writeBigUInt64LE(BigInt(tags.length), p);
    else ifd.writeUInt16LE(tags.length, p);
    p += countSize;
    const extras: Buffer[] = [];
    tags.forEach((t, i) => {
      const data = payloads[i];
      const count = typeof t.values === 'string' ? data.length : t.values.length;
      ifd.writeUInt16LE(t.tag, p);
      ifd.writeUInt16LE(TYPE[t.type], p + 2);
      if (big) ifd.writeBigUInt64LE(BigInt(count), p + 4);
      else ifd.writeUInt32LE(count, p + 4);
      const valueAt = p + (big ? 12 : 8);
      if (data.length <= inline) {
        data.copy(ifd, valueAt);
      } else {
        if (big) ifd.writeBigUInt64LE(BigInt(extraAt), valueAt);
        else ifd.writeUInt32LE(extraAt, valueAt);
        extras.push(data);
        extraAt += data.length + (data.length % 2);
        if (data.length % 2) extras.push(Buffer.alloc(1));
      }
      p += entrySize;
    });
    // Next-IFD offset: 0, already zero.
    if (!big && extraAt > 0xffff_ffff) throw new Error('TIFF writer: the file outgrew 4 GB; write it as BigTIFF');
    const body = Buffer.concat([ifd, ...extras]);
    await this.file.write(body, 0, body.length, ifdAt);
    const pointer = Buffer.alloc(big ? 8 : 4);
    if (big) pointer.writeBigUInt64LE(BigInt(ifdAt));
    else pointer.writeUInt32LE(ifdAt);
    await this.file.write(pointer, 0, pointer.length, big ? 8 : 4);
  }
}

function encodeValues(t: TiffTag): Buffer {
  if (typeof t.values === 'string') {
    if (t.type !== 'ascii') throw new Error(`TIFF tag ${t.tag}: text needs type ascii`);
    return Buffer.from(`${t.values}\0`, 'latin1');
  }
  const size = TYPE_SIZE[t.type];
  const out = Buffer.alloc(t.values.length * size);
  t.values.forEach((v, i) => {
    const at = i * size;
    if (t.type === 'short') out.writeUInt16LE(v, at);
    else if (t.type === 'long') out.writeUInt32LE(v, at);
    else if (t.type === 'double') out.writeDoubleLE(v, at);
    else if (t.type === 'long8') out.writeBigUInt64LE(BigInt(v), at);
    else out.writeUInt8(v, at);
  });
  return out;
}
