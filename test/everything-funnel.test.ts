/**
 * The line an `everything` run that kept no mask prints: which filter removed the last
 * candidates, from the generator's counts summed over the images, and what loosens it.
 * The CLI test (cli-io) checks the counts against a real run; these check the wording.
 */
import { describe, expect, it } from 'vitest';
import { EverythingFunnel } from '../src/cli/everything-funnel.js';
import { EVERYTHING_DEFAULTS } from '../src/everything/options.js';
import type { EverythingRun } from '../src/segmenter/pipeline.js';

type Counts = { candidates: number; afterPredIou: number; afterStability: number; afterCropEdge: number; afterBoxNms: number; afterCropNms: number; afterRegionCleanup: number; afterArea: number };

/** Grid-run statistics with these counts (only what the funnel reads is filled in). */
function gridStats(counts: Counts, options: Partial<typeof EVERYTHING_DEFAULTS> = {}): EverythingRun['stats'] {
  return { options: { ...EVERYTHING_DEFAULTS, minArea: null, maxArea: null, ...options }, counts } as unknown as EverythingRun['stats'];
}

describe('EverythingFunnel', () => {
  it('names the filter that left none, with only the filters that removed something, summed over images', () => {
    const funnel = new EverythingFunnel();
    funnel.add(gridStats({ candidates: 192, afterPredIou: 40, afterStability: 0, afterCropEdge: 0, afterBoxNms: 0, afterCropNms: 0, afterRegionCleanup: 0, afterArea: 0 }));
    funnel.add(gridStats({ candidates: 192, afterPredIou: 21, afterStability: 0, afterCropEdge: 0, afterBoxNms: 0, afterCropNms: 0, afterRegionCleanup: 0, afterArea: 0 }));
    expect(funnel.hint()).toBe(
      'no masks kept: 384 candidates in 2 images; --pred-iou-thresh 0.88 kept 61, --stability-thresh 0.95 kept 0; lower --stability-thresh (or --stability-offset) to keep some',
    );
  });

  it('says nothing when a mask was kept, or no image was done', () => {
    const funnel = new EverythingFunnel();
    expect(funnel.hint()).toBeUndefined();
    funnel.add(gridStats({ candidates: 10, afterPredIou: 0, afterStability: 0, afterCropEdge: 0, afterBoxNms: 0, afterCropNms: 0, afterRegionCleanup: 0, afterArea: 0 }));
    funnel.add(gridStats({ candidates: 10, afterPredIou: 5, afterStability: 5, afterCropEdge: 5, afterBoxNms: 2, afterCropNms: 2, afterRegionCleanup: 2, afterArea: 1 }));
    expect(funnel.hint()).toBeUndefined();
  });

  it('names the area limits as given and the way to loosen each', () => {
    const funnel = new EverythingFunnel();
    funnel.add(gridStats({ candidates: 8, afterPredIou: 8, afterStability: 8, afterCropEdge: 8, afterBoxNms: 3, afterCropNms: 3, afterRegionCleanup: 3, afterArea: 0 }, { minArea: { fraction: 0.02 }, maxArea: { pixels: 500 } }));
    expect(funnel.hint()).toBe('no masks kept: 8 candidates in 1 image; --nms-thresh 0.7 kept 3, --min-area 2% and --max-area 500 kept 0; lower --min-area or raise --max-area to keep some');
  });
});
