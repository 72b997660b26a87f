/**
 * Write a large synthetic RGB GeoTIFF without holding it: a flat background with discs and
 * rectangles of distinct colours scattered over it (some larger than a tile, many across
 * tile seams), generated tile by tile through samlite's streaming TIFF writer. For the
 * memory and speed measurements of tiled runs (docs/_incoming/geo.md).
 *
 *   npx tsx scripts/geo/make-raster.ts --size 40000 --out big.tif [--shapes 400] [--epsg 32633]
 *
 * Prints the shapes as JSON lines on stdout (pixel coordinates), for checking results.
 */
import { parseArgs } from 'node:util';
import { geoTagsFor, geoTagsToWrite } from '../../src/geo/georef.js';
import { TiledTiffWriter } from '../../src/geo/tiff-writer.js';
import { createRng } from '../fixtures/prng.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '40000' },
    height: { type: 'string' },
    out: { type: 'string' },
    shapes: { type: 'string', default: '400' },
    seed: { type: 'string', default: '1' },
    epsg: { type: 'string', default: '32633' },
    pixel: { type: 'string', default: '0.5' },
  },
});
if (!values.out) throw new Error('--out <file.tif> is required');
const width = Number(values.size);
const height = Number(values.height ?? values.size);
const pixel = Number(values.pixel);
const rng = createRng(Number(values.seed));
const background: [number, number, number] = [196, 190, 170];

type Shape = { kind: 'disc'; cx: number; cy: number; r: number; color: [number, number, number] } | { kind: 'rect'; x0: number; y0: number; x1: number; y1: number; color: [number, number, number] };
const shapes: Shape[] = [];
const palette: [number, number, number][] = [
  [200, 40, 40], [40, 160, 60], [40, 60, 200], [230, 200, 40], [140, 40, 160], [30, 170, 180], [250, 120, 30], [90, 90, 90],
];
// Shapes on a jittered grid so they never touch: one per cell of side `cell`.
const count = Number(values.shapes);
const cell = Math.floor(Math.sqrt((width * height) / count));
for (let gy = 0; gy + cell <= height; gy += cell) {
  for (let gx = 0; gx + cell <= width; gx += cell) {
    const color = palette[shapes.length % palette.length];
    const margin = cell * 0.1;
    if (rng.next() < 0.5) {
      const r = cell * (0.1 + rng.next() * 0.25);
      const cx = gx + margin + r + rng.next() * (cell - 2 * (margin + r));
      const cy = gy + margin + r + rng.next() * (cell - 2 * (margin + r));
      shapes.push({ kind: 'disc', cx, cy, r, color });
    } else {
      const w = cell * (0.2 + rng.next() * 0.6);
      const h = cell * (0.1 + rng.next() * 0.3);
      const x0 = Math.round(gx + margin + rng.next() * (cell - 2 * margin - w));
      const y0 = Math.round(gy + margin + rng.next() * (cell - 2 * margin - h));
      shapes.push({ kind: 'rect', x0, y0, x1: Math.round(x0 + w), y1: Math.round(y0 + h), color });
    }
  }
}
for (const s of shapes) process.stdout.write(`${JSON.stringify(s)}\n`);

const tileSize = 512;
const writer = await TiledTiffWriter.create(values.out, {
  width,
  height,
  samples: 3,
  sampleType: 'uint8',
  tileSize,
  photometric: 'rgb',
  tags: geoTagsToWrite(geoTagsFor([500000, pixel, 0, 5200000, 0, -pixel], Number(values.epsg))),
});
const bounds = (s: Shape) => (s.kind === 'disc' ? [s.cx - s.r, s.cy - s.r, s.cx + s.r, s.cy + s.r] : [s.x0, s.y0, s.x1, s.y1]);
const started = Date.now();
for (let ty = 0; ty < writer.tilesDown; ty++) {
  const y0 = ty * tileSize;
  const rowShapes = shapes.filter((s) => {
    const b = bounds(s);
    return b[3] >= y0 && b[1] < y0 + tileSize;
  });
  const writes: Promise<void>[] = [];
  for (let tx = 0; tx < writer.tilesAcross; tx++) {
    const x0 = tx * tileSize;
    const tile = new Uint8Array(tileSize * tileSize * 3);
    for (let i = 0; i < tile.length; i += 3) tile.set(background, i);
    for (const s of rowShapes) {
      const b = bounds(s);
      if (b[2] < x0 || b[0] >= x0 + tileSize) continue;
      for (let y = Math.max(0, Math.floor(b[1]) - y0); y < Math.min(tileSize, Math.ceil(b[3]) + 1 - y0); y++) {
        for (let x = Math.max(0, Math.floor(b[0]) - x0); x < Math.min(tileSize, Math.ceil(b[2]) + 1 - x0); x++) {
          const px = x0 + x + 0.5;
          const py = y0 + y + 0.5;
          const inside = s.kind === 'disc' ? (px - s.cx) ** 2 + (py - s.cy) ** 2 < s.r * s.r : px >= s.x0 && px < s.x1 && py >= s.y0 && py < s.y1;
          if (inside && x0 + x < width && y0 + y < height) tile.set(s.color, (y * tileSize + x) * 3);
        }
      }
    }
    writes.push(writer.writeTile(tx, ty, tile));
    if (writes.length >= 16) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
  if (ty % 10 === 0) process.stderr.write(`\rrow ${ty + 1}/${writer.tilesDown} of tiles (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}
await writer.close();
process.stderr.write(`\n${values.out}: ${width}x${height} RGB, ${shapes.length} shapes, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
