/**
 * Why an `everything` run kept no mask: its images' filter statistics (the generator's own
 * counts, EverythingStats.counts or FastSamStats.counts) summed stage by stage, and the one
 * line that says which filter removed the last candidates and which flags loosen it.
 */
import type { AreaLimit } from '../everything/area.js';
import type { EverythingRun } from '../segmenter/pipeline.js';

/** One filter stage: what it is called in the line, and how many candidates it let through. */
interface Stage {
  /** `--pred-iou-thresh 0.88`, `non-empty masks`: the flag and its value, or the stage. */
  readonly label: string;
  kept: number;
  /** What loosens it, in words naming flags; undefined when no flag does. */
  readonly loosen?: string;
}

/** An area limit as the user wrote it: pixels, or a percentage of the image. */
function areaText(limit: AreaLimit): string {
  return 'pixels' in limit ? `${limit.pixels}` : `${+(limit.fraction * 100).toPrecision(6)}%`;
}

/** The stages of one image's run, in the order they filter. */
function stagesOf(stats: EverythingRun['stats']): { candidates: number; stages: Stage[] } {
  const { options } = stats;
  const area: Stage = {
    label: [options.minArea && `--min-area ${areaText(options.minArea)}`, options.maxArea && `--max-area ${areaText(options.maxArea)}`].filter(Boolean).join(' and ') || 'the area limits',
    kept: stats.counts.afterArea,
    loosen: [options.minArea && 'lower --min-area', options.maxArea && 'raise --max-area'].filter(Boolean).join(' or '),
  };
  const cleanup: Stage = {
    label: `--min-region-area ${options.minRegionArea}`,
    kept: stats.counts.afterRegionCleanup,
    loosen: 'lower --min-region-area (0 = off)',
  };
  if ('family' in stats) {
    const { counts, settings } = stats;
    return {
      // Detections below --conf are not counted: the run starts from those above it.
      candidates: counts.aboveConf,
      stages: [
        { label: `--iou ${settings.iou} and --max-det ${settings.maxDet}`, kept: counts.kept, loosen: 'raise --iou or --max-det' },
        { label: 'masks with a pixel inside their box', kept: counts.masks },
        cleanup,
        area,
      ],
    };
  }
  const { counts, options: o } = stats;
  return {
    candidates: counts.candidates,
    stages: [
      { label: `--pred-iou-thresh ${o.predIouThresh}`, kept: counts.afterPredIou, loosen: 'lower --pred-iou-thresh' },
      { label: `--stability-thresh ${o.stabilityThresh}`, kept: counts.afterStability, loosen: 'lower --stability-thresh (or --stability-offset)' },
      { label: 'masks away from crop edges', kept: counts.afterCropEdge, loosen: 'fewer --crop-layers' },
      { label: `--nms-thresh ${o.boxNmsThresh}`, kept: counts.afterBoxNms, loosen: 'raise --nms-thresh' },
      { label: `--crop-nms-thresh ${o.cropNmsThresh}`, kept: counts.afterCropNms, loosen: 'raise --crop-nms-thresh' },
      cleanup,
      area,
    ],
  };
}

/** Filter counts of a run's images, summed; {@link EverythingFunnel.hint} explains an empty run. */
export class EverythingFunnel {
  private total: { candidates: number; stages: Stage[]; conf?: number } | undefined;
  private images = 0;

  /** Add one image's statistics. Every image of a run uses the same model and options. */
  add(stats: EverythingRun['stats']): void {
    this.images++;
    const next = stagesOf(stats);
    if (!this.total) {
      this.total = { ...next, ...('family' in stats ? { conf: stats.settings.conf } : {}) };
      return;
    }
    this.total.candidates += next.candidates;
    next.stages.forEach((stage, i) => (this.total!.stages[i].kept += stage.kept));
  }

  /**
   * One line for a run that kept no mask: how many candidates there were, how many each
   * filter that removed some let through, up to the one that left none, and what loosens
   * that one. Undefined
   * when some mask was kept or no image was done.
   */
  hint(): string | undefined {
    const total = this.total;
    if (!total || total.stages[total.stages.length - 1].kept > 0) return undefined;
    const of = `${this.images} image${this.images === 1 ? '' : 's'}`;
    if (total.candidates === 0) {
      return total.conf !== undefined
        ? `no masks kept: no detection scored above --conf ${total.conf} in ${of}; lower --conf to keep some`
        : `no masks kept: the decoder gave no candidate in ${of}`;
    }
    const last = total.stages.findIndex((s) => s.kept === 0);
    // Only the filters that removed something: the others would bury the one that matters.
    const through = total.stages
      .slice(0, last + 1)
      .filter((s, i) => s.kept < (i === 0 ? total.candidates : total.stages[i - 1].kept))
      .map((s) => `${s.label} kept ${s.kept}`);
    const first = total.conf !== undefined ? `${total.candidates} detections above --conf ${total.conf}` : `${total.candidates} candidates`;
    const loosen = total.stages[last].loosen;
    return `no masks kept: ${first} in ${of}; ${through.join(', ')}${loosen ? `; ${loosen} to keep some` : ''}`;
  }
}
