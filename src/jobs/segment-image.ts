/**
 * One image of a `segment` job: every prompt set answered and written, and the image's
 * share of the dataset. The CLI runs it per image of a batch; the server runs it when the
 * page saves an image, so the page and `samlite segment` write the same files.
 */
import { InputError, oneLine } from '../util/errors.js';
import { DEFAULT_CATEGORY, type Category, type DatasetAnnotation } from '../datasets/types.js';
import { writeDatasetImage, type DatasetSettings } from '../datasets/writer.js';
import type { RgbImage } from '../image/types.js';
import { promptForImage } from '../prompts/detections.js';
import type { PromptSet } from '../prompts/prompts-file.js';
import type { Segmenter } from '../segmenter/segmenter.js';
import { relativeInputName, type OutputTarget, type SegmentFormat } from '../writers/naming.js';
import { writeSegmentOutputs, type SegmentOutputLine } from '../writers/segment.js';

/** One image and the prompt sets to run on it. */
export interface SegmentImageJob {
  /** The image file (absolute). */
  readonly image: string;
  /** The image as named to the person (the CLI's argument, the served folder's sub-path). */
  readonly display: string;
  readonly sets: readonly PromptSet[];
  /** The folder the image's name is relative to (a walked or served folder, a detection file's root). */
  readonly root?: string;
  /** The image's name in a detection file, kept in the dataset files. */
  readonly fileName?: string;
  /** COCO detection files: the image's id there. */
  readonly sourceId?: number;
}

/** What a segment run writes, the same for every image. */
export interface SegmentImageSettings {
  readonly outDir: string;
  /** samlite's own per-prompt files (mask, overlay, cutout, json). */
  readonly formats: readonly SegmentFormat[];
  /** The dataset writers' settings; `dataset.formats` empty for none. */
  readonly dataset: DatasetSettings;
  /** Write every candidate mask (never with dataset formats). */
  readonly multimask?: boolean;
  readonly overwrite: boolean;
}

/** What the job tells its front end as it goes. */
export interface SegmentImageEvents {
  /** A mask was written: its output line, its prompt set and its category. */
  onMask?(line: SegmentOutputLine, set: PromptSet, category: Category | undefined): void;
  /**
   * One prompt set (`promptIndex`), or the image's dataset files (no index), failed with
   * `error`. Returning true stops this image there (its other prompts and its dataset files
   * are not attempted): the CLI does so when the disk itself cannot be written, since every
   * later file would fail the same way.
   */
  onFailure(message: string, promptIndex: number | undefined, error: InputError): boolean | void;
}

/** Where a job's outputs for one image go. */
export function segmentTarget(job: SegmentImageJob, outDir: string): OutputTarget {
  return { input: job.image, ...(job.root !== undefined ? { root: job.root } : {}), outDir };
}

/**
 * Answer and write every prompt set of `job` on its loaded `image`, then the image's share
 * of the dataset. A prompt the model cannot honour fails alone (reported through `events`);
 * other errors propagate. Returns the masks written and the failures.
 */
export async function segmentImage(
  segmenter: Segmenter,
  image: RgbImage,
  job: SegmentImageJob,
  settings: SegmentImageSettings,
  events: SegmentImageEvents,
): Promise<{ written: number; failed: number }> {
  const { categories } = settings.dataset;
  const datasetWanted = settings.dataset.formats.length > 0;
  const target = segmentTarget(job, settings.outDir);
  const categoryOf = (set: PromptSet) => (set.categoryId === undefined ? undefined : categories.find((c) => c.id === set.categoryId));
  let written = 0;
  let failed = 0;
  const annotations: DatasetAnnotation[] = [];
  let stopped = false;
  for (const set of job.sets) {
    try {
      const prompt = promptForImage(set, image);
      // An interactive prompt replays its clicks; any other is one step.
      const steps = set.steps ?? [{ prompt, ...(set.maskIndex !== undefined ? { maskIndex: set.maskIndex } : {}) }];
      const result = await segmenter.segmentSteps(image, steps, { multimask: settings.multimask });
      const masks = settings.multimask ? result.masks : [result.best];
      const category = categoryOf(set);
      // Carried into both the record and the dataset annotation.
      const detection = {
        ...(set.detectionId !== undefined ? { detectionId: set.detectionId } : {}),
        ...(set.detectionScore !== undefined ? { detectionScore: set.detectionScore } : {}),
      };
      // Candidates are written last to first: --skip-existing counts a prompt done when
      // its answer (candidate 0) exists, so that must be the prompt's last file.
      const outputs: Awaited<ReturnType<typeof writeSegmentOutputs>>[] = [];
      for (let k = masks.length - 1; k >= 0; k--) {
        const m = masks[k];
        outputs[k] = await writeSegmentOutputs(
          image,
          {
            promptIndex: set.index,
            ...(set.id !== undefined ? { promptId: set.id } : {}),
            prompt,
            ...(set.steps ? { steps: set.steps } : {}),
            ...(set.maskIndex !== undefined ? { maskIndex: set.maskIndex } : {}),
            ...(category ? { category } : {}),
            ...detection,
            ...(settings.multimask ? { candidate: k } : {}),
            rle: m.rle,
            // Read only by the PNG formats: a JSON-and-dataset run never makes the bytes.
            get mask() {
              return m.mask;
            },
            predictedIou: m.predictedIou,
          },
          target,
          settings.formats,
          { overwrite: settings.overwrite, imageName: job.display },
        );
      }
      for (const [k, { record, rle }] of outputs.entries()) {
        written++;
        if (datasetWanted) {
          annotations.push({ rle, categoryId: (category ?? DEFAULT_CATEGORY).id, predictedIou: masks[k].predictedIou, ...detection });
        }
        events.onMask?.(record, set, category);
      }
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      failed++;
      stopped = events.onFailure(oneLine(err), set.index, err) === true;
      if (stopped) break;
    }
  }
  if (datasetWanted && !stopped) {
    // An image whose dataset files cannot be written fails alone: the run goes on and
    // still builds the dataset files from the images done.
    try {
      await writeDatasetImage(
        {
          fileName: job.fileName ?? relativeInputName(target),
          path: job.image,
          width: image.width,
          height: image.height,
          ...(job.sourceId !== undefined ? { sourceId: job.sourceId } : {}),
          annotations,
        },
        target,
        settings.dataset,
      );
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      failed++;
      events.onFailure(oneLine(err), undefined, err);
    }
  }
  return { written, failed };
}
