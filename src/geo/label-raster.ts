/**
 * The label raster: a GeoTIFF on the input's grid (same size, same georeferencing tags, so
 * the same geotransform and CRS) whose pixels hold the id of the object there, 0 elsewhere
 * (also declared as no data, so GIS shows only the objects).
 *
 * A 40 000 x 40 000 label raster is 6.4 GB of 32-bit ids: it is never held. Objects come
 * one by one as the merge finishes them, and their runs are spilled to a file beside the
 * output, grouped by band of TIFF tile rows. At the end each band is painted (larger
 * objects first, so where objects overlap the smaller one wins, ties to the lower id, as in
 * the label PNG), cut into tiles, compressed and written. Memory: one band of tiles.
 */
import { open, rm, type FileHandle } from 'node:fs/promises';
import { tempPathFor, withTempFile } from '../util/atomic-write.js';
import type { GeoTagValues } from './georef.js';
import { geoTagsToWrite } from './georef.js';
import type { SpanMask } from './spans.js';
import { TiledTiffWriter } from './tiff-writer.js';

/** Side of the label raster's TIFF tiles (and height of the painted bands). */
export const LABEL_TILE = 256;
/** How much of the objects' runs is buffered in memory before going to the spill file. */
export interface SpillLimits {
  /** Bytes one band may buffer. Default 64 KiB. */
  readonly band: number;
  /** Bytes all bands together may buffer. Default 32 MiB. */
  readonly total: number;
}

const SPILL_DEFAULTS: SpillLimits = { band: 64 * 1024, total: 32 * 1024 * 1024 };

/** Writes one label raster; see the module comment. */
export class LabelRasterWriter {
  private readonly bands: number;
  /** Per band: records not yet spilled. */
  private readonly pending: Buffer[][];
  private readonly pendingBytes: number[];
  /** Per band: [offset, length] of its chunks in the spill file. */
  private readonly chunks: [number, number][][];
  private spill: FileHandle | undefined;
  private readonly spillPath: string;
  private spillSize = 0;
  private buffered = 0;

  constructor(
    readonly path: string,
    readonly width: number,
    readonly height: number,
    readonly geoTags: GeoTagValues,
    private readonly limits: SpillLimits = SPILL_DEFAULTS,
  ) {
    this.bands = Math.ceil(height / LABEL_TILE);
    this.pending = Array.from({ length: this.bands }, () => []);
    this.pendingBytes = new Array<number>(this.bands).fill(0);
    this.chunks = Array.from({ length: this.bands }, () => []);
    this.spillPath = `${tempPathFor(path)}.runs`;
  }

  /** Bytes of runs written to the spill file so far, and bytes still held in memory. */
  get usage(): { spilled: number; buffered: number } {
    return { spilled: this.spillSize, buffered: this.buffered };
  }

  /** Record object `id` (`area` pixels, for the paint order) with its mask. */
  async add(id: number, area: number, mask: SpanMask): Promise<void> {
    const first = Math.floor(mask.y0 / LABEL_TILE);
    const last = Math.floor((mask.y0 + mask.rows - 1) / LABEL_TILE);
    for (let band = first; band <= last; band++) {
      const y0 = Math.max(mask.y0, band * LABEL_TILE);
      const y1 = Math.min(mask.y0 + mask.rows, (band + 1) * LABEL_TILE);
      const from = mask.starts[y0 - mask.y0];
      const to = mask.starts[y1 - mask.y0];
      if (from === to) continue;
      // Record: id, area, first row, rows, then per row its run count and the runs.
      const rows = y1 - y0;
      const record = Buffer.alloc(4 * (4 + rows + (to - from)));
      let p = 0;
      const put = (v: number) => {
        record.writeUInt32LE(v, p);
        p += 4;
      };
      put(id);
      put(area > 0xffffffff ? 0xffffffff : area);
      put(y0);
      put(rows);
      for (let y = y0; y < y1; y++) {
        const a = mask.starts[y - mask.y0];
        const b = mask.starts[y - mask.y0 + 1];
        put(b - a);
        for (let i = a; i < b; i++) put(mask.xs[i]);
      }
      this.pending[band].push(record);
      this.pendingBytes[band] += record.length;
      this.buffered += record.length;
      if (this.pendingBytes[band] >= this.limits.band) await this.flush(band);
    }
    if (this.buffered >= this.limits.total) for (let band = 0; band < this.bands; band++) await this.flush(band);
  }

  private async flush(band: number): Promise<void> {
    if (this.pendingBytes[band] === 0) return;
    // Read back at the end, so opened for reading too.
    this.spill ??= await open(this.spillPath, 'w+');
    const body = Buffer.concat(this.pending[band]);
    await this.spill.write(body, 0, body.length, this.spillSize);
    this.chunks[band].push([this.spillSize, body.length]);
    this.spillSize += body.length;
    this.buffered -= body.length;
    this.pending[band] = [];
    this.pendingBytes[band] = 0;
  }

  /** The records of one band, spilled and pending. */
  private async bandRecords(band: number): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (const [offset, length] of this.chunks[band]) {
      const buf = Buffer.alloc(length);
      await this.spill!.read(buf, 0, length, offset);
      out.push(buf);
    }
    out.push(...this.pending[band]);
    return out;
  }

  /** Paint every band, write the GeoTIFF (atomically) and remove the spill file. */
  async close(): Promise<void> {
    try {
      await withTempFile(this.path, async (tmp) => {
        const tiff = await TiledTiffWriter.create(tmp, {
          width: this.width,
          height: this.height,
          samples: 1,
          sampleType: 'uint32',
          tileSize: LABEL_TILE,
          tags: [...geoTagsToWrite(this.geoTags), { tag: 42113, type: 'ascii', values: '0' }],
        });
        try {
          for (let band = 0; band < this.bands; band++) await this.writeBand(tiff, band);
          await tiff.close();
        } catch (err) {
          await tiff.abort();
          throw err;
        }
      });
    } finally {
      await this.abort();
    }
  }

  private async writeBand(tiff: TiledTiffWriter, band: number): Promise<void> {
    const top = band * LABEL_TILE;
    const stride = tiff.tilesAcross * LABEL_TILE;
    const pixels = new Uint32Array(stride * LABEL_TILE);
    // Parse the band's records, then paint larger objects first (the smaller wins an overlap).
    const objects: { id: number; area: number; buf: Buffer; at: number }[] = [];
    for (const buf of await this.bandRecords(band)) {
      let p = 0;
      while (p < buf.length) {
        const id = buf.readUInt32LE(p);
        const area = buf.readUInt32LE(p + 4);
        const n = buf.readUInt32LE(p + 12);
        objects.push({ id, area, buf, at: p });
        p += 16;
        for (let r = 0; r < n; r++) p += 4 * (1 + buf.readUInt32LE(p));
      }
    }
    objects.sort((a, b) => b.area - a.area || b.id - a.id);
    for (const o of objects) {
      const { buf } = o;
      let p = o.at + 8;
      const y0 = buf.readUInt32LE(p);
      const n = buf.readUInt32LE(p + 4);
      p += 8;
      for (let r = 0; r < n; r++) {
        const count = buf.readUInt32LE(p);
        p += 4;
        const row = (y0 + r - top) * stride;
        for (let k = 0; k < count; k += 2) {
          pixels.fill(o.id, row + buf.readUInt32LE(p + 4 * k), row + buf.readUInt32LE(p + 4 * k + 4));
        }
        p += 4 * count;
      }
    }
    const writes: Promise<void>[] = [];
    for (let col = 0; col < tiff.tilesAcross; col++) {
      const tile = new Uint32Array(LABEL_TILE * LABEL_TILE);
      for (let y = 0; y < LABEL_TILE; y++) tile.set(pixels.subarray(y * stride + col * LABEL_TILE, y * stride + (col + 1) * LABEL_TILE), y * LABEL_TILE);
      writes.push(tiff.writeTile(col, band, tile));
    }
    await Promise.all(writes);
  }

  /** Drop the spill file (the GeoTIFF is not written). */
  async abort(): Promise<void> {
    await this.spill?.close();
    this.spill = undefined;
    await rm(this.spillPath, { force: true });
  }
}
