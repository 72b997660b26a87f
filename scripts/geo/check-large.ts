/**
 * Check a tiled run on a raster from make-raster.ts against the shapes it drew: for each
 * shape, the object covering most of it in the label raster, and their IoU (the object's
 * whole area, from the GeoJSON, so an object running past the shape counts against it).
 * Reads the label raster by windows; memory stays small whatever its size.
 *
 *   npx tsx scripts/geo/check-large.ts shapes.jsonl out/big.labels.tif out/big.geojson
 */
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { openGeoRaster } from '../../src/geo/raster.js';

const [shapesPath, labelsPath, geojsonPath] = process.argv.slice(2);
if (!geojsonPath) throw new Error('usage: check-large.ts shapes.jsonl labels.tif objects.geojson');

type Shape = { kind: 'disc'; cx: number; cy: number; r: number } | { kind: 'rect'; x0: number; y0: number; x1: number; y1: number };
const shapes: Shape[] = [];
for await (const line of createInterface({ input: createReadStream(shapesPath) })) if (line.trim()) shapes.push(JSON.parse(line) as Shape);

// Object areas in pixels, by id, from the GeoJSON's properties (streamed would be nicer; it is small).
const areas = new Map<number, number>();
for (const f of (JSON.parse(readFileSync(geojsonPath, 'utf8')) as { features: { id: number; properties: { area_px: number } }[] }).features) areas.set(f.id, f.properties.area_px);

const labels = await openGeoRaster(labelsPath);
const ious: number[] = [];
const used = new Set<number>();
for (const s of shapes) {
  const b = s.kind === 'disc' ? [s.cx - s.r, s.cy - s.r, s.cx + s.r, s.cy + s.r] : [s.x0, s.y0, s.x1, s.y1];
  const win = [Math.max(0, Math.floor(b[0]) - 2), Math.max(0, Math.floor(b[1]) - 2), Math.min(labels.width, Math.ceil(b[2]) + 3), Math.min(labels.height, Math.ceil(b[3]) + 3)] as const;
  const [data] = await labels.readWindow(win, [0]);
  const w = win[2] - win[0];
  const counts = new Map<number, number>();
  let shapeArea = 0;
  for (let y = win[1]; y < win[3]; y++) {
    for (let x = win[0]; x < win[2]; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      const inside = s.kind === 'disc' ? (px - s.cx) ** 2 + (py - s.cy) ** 2 < s.r * s.r : px >= s.x0 && px < s.x1 && py >= s.y0 && py < s.y1;
      if (!inside) continue;
      shapeArea++;
      const id = data[(y - win[1]) * w + x - win[0]];
      if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  let best = 0;
  let bestId = 0;
  for (const [id, n] of counts) if (n > best) (best = n), (bestId = id);
  const iou = bestId ? best / (shapeArea + (areas.get(bestId) ?? Infinity) - best) : 0;
  ious.push(iou);
  if (bestId) used.add(bestId);
}
await labels.close();
ious.sort((a, b) => a - b);
const whole = ious.filter((v) => v >= 0.9).length;
console.log(
  JSON.stringify({
    shapes: shapes.length,
    objects: areas.size,
    shapesWhole: `${whole}/${shapes.length}`,
    worstIou: +ious[0].toFixed(4),
    medianIou: +ious[Math.floor(ious.length / 2)].toFixed(4),
    objectsNotOnAShape: areas.size - used.size,
  }),
);
