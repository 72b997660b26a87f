/**
 * Prompts on a tiled raster: which window answers each prompt, and the outputs written
 * from their parts. A prompt is answered in the tile whose core holds it (its first point,
 * or its box's centre), so it has at least half the overlap of context around it and
 * prompts in one tile share one encoder run; a box or points reaching past that tile's
 * window get a window of their own around them.
 */
import { InputError, oneLine } from '../util/errors.js';
import type { Prompt } from '../prompts/types.js';
import { partMasks, readPlannedPart, type GeoPlan } from './parts.js';
import type { MapPrompt, PixelPrompt, PromptFrame, PromptRaster } from './prompts.js';
import type { Window } from './raster.js';
import { spanArea } from './spans.js';
import { tileKey, tileOwning } from './tiling.js';
import type { OpenedRaster, WorkUnit } from './work.js';
import type { PropertyColumn, PropertyValue } from './vector.js';
import { GeoOutputs } from './writers.js';

/** A window and the prompts it answers (in window pixels). */
export interface PromptUnit extends WorkUnit {
  readonly prompts: readonly { readonly index: number; readonly prompt: Prompt }[];
}

/** The smallest box around a prompt's points and box, in raster pixels. */
function extent(p: Prompt): Window {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const q of [...(p.points ?? []), ...(p.negPoints ?? [])]) {
    xs.push(q.x);
    ys.push(q.y);
  }
  if (p.box) xs.push(p.box.x1, p.box.x2), ys.push(p.box.y1, p.box.y2);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

/** A prompt moved into a window's frame. */
function shift(p: Prompt, w: Window): Prompt {
  const move = (q: { x: number; y: number }) => ({ x: q.x - w[0], y: q.y - w[1] });
  return {
    points: (p.points ?? []).map(move),
    negPoints: (p.negPoints ?? []).map(move),
    ...(p.box ? { box: { x1: p.box.x1 - w[0], y1: p.box.y1 - w[1], x2: p.box.x2 - w[0], y2: p.box.y2 - w[1] } } : {}),
  };
}

/** A window of at least `side` around `e` plus `margin`, inside a `width` x `height` raster. */
function windowAround(e: Window, margin: number, side: number, width: number, height: number): Window {
  const axis = (lo: number, hi: number, length: number): [number, number] => {
    let a = Math.floor(lo - margin);
    let b = Math.ceil(hi + margin);
    if (b - a < side) {
      const grow = side - (b - a);
      a -= Math.floor(grow / 2);
      b += Math.ceil(grow / 2);
    }
    if (a < 0) (b -= a), (a = 0);
    if (b > length) (a -= b - length), (b = length);
    return [Math.max(0, a), Math.min(length, b)];
  };
  const [x0, x1] = axis(e[0], e[2], width);
  const [y0, y1] = axis(e[1], e[3], height);
  return [x0, y0, x1, y1];
}

/**
 * The windows answering `prompts` on an opened raster: tiles (row-major) then prompts' own
 * windows (in prompt order). Prompts that cannot be placed are problems, one line each.
 */
export function promptUnits(
  opened: OpenedRaster,
  prompts: readonly MapPrompt[],
  frame: PromptFrame,
  place: (p: MapPrompt, frame: PromptFrame, raster: PromptRaster) => PixelPrompt,
): { units: PromptUnit[]; tileSettings: Record<string, unknown>; problems: string[] } {
  const { raster, tiles } = opened;
  const byTile = new Map<number, { key: string; window: Window; prompts: { index: number; prompt: Prompt }[] }>();
  const own: PromptUnit[] = [];
  const problems: string[] = [];
  for (const p of prompts) {
    let placed: PixelPrompt;
    try {
      placed = place(p, frame, raster);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      problems.push(oneLine(err));
      continue;
    }
    const tile = tileOwning(tiles, Math.floor(placed.anchor.x), Math.floor(placed.anchor.y));
    const e = extent(placed.prompt);
    const w = tile.window;
    if (e[0] >= w[0] && e[1] >= w[1] && e[2] <= w[2] && e[3] <= w[3]) {
      const unit = byTile.get(tile.index) ?? { key: tileKey(tile), window: w, prompts: [] };
      unit.prompts.push({ index: p.index, prompt: shift(placed.prompt, w) });
      byTile.set(tile.index, unit);
    } else {
      const window = windowAround(e, Math.max(32, Math.floor(tiles.overlap / 2)), Math.min(tiles.tile, raster.width, raster.height), raster.width, raster.height);
      own.push({ key: `p${String(p.index).padStart(6, '0')}`, window, prompts: [{ index: p.index, prompt: shift(placed.prompt, window) }] });
    }
  }
  const units = [...[...byTile.entries()].sort((a, b) => a[0] - b[0]).map(([, u]) => u), ...own];
  return { units, tileSettings: { prompts: units.map((u) => [u.key, u.window, u.prompts]) }, problems };
}

/** Property columns: samlite's, then every carried source property (numbers as doubles, else text). */
function promptColumns(prompts: readonly MapPrompt[]): { columns: PropertyColumn[]; rename: Map<string, string> } {
  const ours: PropertyColumn[] = [
    { name: 'prompt', type: 'int' },
    { name: 'score', type: 'double' },
    { name: 'area', type: 'double' },
    { name: 'area_px', type: 'int' },
    { name: 'tile', type: 'string' },
  ];
  if (prompts.some((p) => p.sourceId !== undefined)) ours.push({ name: 'source_id', type: 'string' });
  const taken = new Set(ours.map((c) => c.name));
  const types = new Map<string, PropertyColumn['type']>();
  for (const p of prompts) {
    for (const [k, v] of Object.entries(p.properties)) {
      const t = typeof v === 'number' ? 'double' : 'string';
      types.set(k, types.get(k) === 'string' ? 'string' : t);
    }
  }
  const rename = new Map<string, string>();
  const carried: PropertyColumn[] = [];
  for (const [k, type] of types) {
    // A source property named like one of samlite's keeps its value under src_<name>.
    const name = taken.has(k) ? `src_${k}` : k;
    rename.set(k, name);
    carried.push({ name, type });
  }
  return { columns: [...ours, ...carried], rename };
}

/**
 * Write the objects of a prompt run from its parts: one per answered prompt, in window
 * order, with the prompt's index, score, area and its source feature's id and properties.
 * Prompts that got no mask (on no data, or nothing found) are named in the warnings.
 */
export async function writePromptObjects(dir: string, plan: GeoPlan, units: readonly PromptUnit[], prompts: readonly MapPrompt[], outDir: string): Promise<{ objects: number; files: string[]; warnings: string[] }> {
  const { columns, rename } = promptColumns(prompts);
  const outputs = await GeoOutputs.open(plan, outDir, columns);
  const byIndex = new Map(prompts.map((p) => [p.index, p]));
  try {
    const answered = new Set<number>();
    for (const unit of units) {
      const part = await readPlannedPart(dir, plan, unit.key);
      for (const { mask, m } of partMasks(part)) {
        const p = byIndex.get(m.prompt ?? -1);
        if (!p) throw new InputError(`${dir}: part ${unit.key} answers prompt ${m.prompt}, which this run does not have`);
        answered.add(p.index);
        const area = spanArea(mask);
        const properties: Record<string, PropertyValue> = {
          prompt: p.index,
          score: Math.round(m.score * 1e6) / 1e6,
          area: area * outputs.pixelArea,
          area_px: area,
          tile: unit.key,
          ...(p.sourceId !== undefined ? { source_id: String(p.sourceId) } : {}),
        };
        for (const [k, v] of Object.entries(p.properties)) properties[rename.get(k) ?? k] = v;
        await outputs.write(mask, area, properties);
      }
    }
    const warnings = units.flatMap((u) => u.prompts.filter((q) => !answered.has(q.index)).map((q) => `${byIndex.get(q.index)?.label ?? `prompt ${q.index}`}: no mask (the prompt falls on no data, or the model found nothing there)`));
    const objects = await outputs.close();
    return { objects, files: outputs.files, warnings: [...outputs.warnings, ...warnings] };
  } finally {
    await outputs.abort();
  }
}
