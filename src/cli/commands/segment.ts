import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { InputError, UsageError, oneLine } from '../../errors.js';
import { loadImage } from '../../image/load.js';
import type { PromptSet } from '../../prompts/prompts-file.js';
import { promptFromFlags, readPromptsFile } from '../../prompts/index.js';
import { DEFAULT_DISK_CACHE_BYTES, DiskEmbeddingCache } from '../../disk-embedding-cache.js';
import { MemoryEmbeddingCache, TieredEmbeddingCache } from '../../embedding-cache.js';
import { Segmenter } from '../../segmenter.js';
import { embeddingCacheDir, storeDir } from '../../store/paths.js';
import { chooseModel } from '../../store/resolve.js';
import {
  SEGMENT_FORMATS,
  assertNoExistingOutputs,
  assertNoOutputCollisions,
  segmentOutputFiles,
  type OutputTarget,
  type SegmentFormat,
} from '../../writers/naming.js';
import { assertFolderUsable } from '../../writers/files.js';
import { writeSegmentOutputs } from '../../writers/segment.js';
import { commonRunOptions, sessionOptions, wantsJson, type CommonRunOptions } from '../options.js';
import { createUi, emitJsonLine } from '../ui.js';

interface SegmentFlags extends CommonRunOptions {
  point?: string[];
  negPoint?: string[];
  box?: string;
  prompts?: string;
  format?: SegmentFormat[];
  multimask?: boolean;
  /** commander's --no-cache sets this to false. */
  cache: boolean;
  cacheDir?: string;
  /** Bytes, parsed by the --cache-size entry of ranges.ts. */
  cacheSize: number;
}

/** One image and the prompt sets to run on it. */
interface SegmentJob {
  readonly image: string;
  readonly display: string;
  readonly sets: readonly PromptSet[];
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** The images named, each once: `a.png a.png ./a.png` is one image (first spelling kept). */
function uniqueImages(images: readonly string[]): string[] {
  const seen = new Set<string>();
  return images.filter((image) => !seen.has(resolve(image)) && seen.add(resolve(image)));
}

/**
 * Images × prompt sets, from the flags or a prompts file. Each image appears once: named
 * twice it is the same job, and listed twice in a prompts file its prompt sets are merged
 * (parsePromptsJson), so no two jobs write the same outputs.
 */
async function planJobs(named: string[], flags: SegmentFlags): Promise<SegmentJob[]> {
  const images = uniqueImages(named);
  const fromFlags = promptFromFlags({ point: flags.point, negPoint: flags.negPoint, box: flags.box });
  if (fromFlags && flags.prompts) throw new UsageError('give prompts either as --point/--neg-point/--box or with --prompts, not both');
  if (fromFlags) {
    if (images.length === 0) throw new UsageError('no image given');
    return images.map((image) => ({ image: resolve(image), display: image, sets: [{ index: 0, prompt: fromFlags }] }));
  }
  if (!flags.prompts) {
    throw new UsageError('no prompt: give --point x,y, --box x1,y1,x2,y2 or --prompts file.json (see samlite segment --help)');
  }
  const plan = await readPromptsFile(flags.prompts);
  if (plan.kind === 'shared') {
    if (images.length === 0) throw new UsageError(`${flags.prompts} gives prompts for every image, but no image was named`);
    return images.map((image) => ({ image: resolve(image), display: image, sets: plan.sets }));
  }
  if (images.length === 0) return plan.images.map((e) => ({ image: e.image, display: e.image, sets: e.sets }));
  // Images named on the command line select entries from the file.
  const byPath = new Map(plan.images.map((e) => [e.image, e.sets] as const));
  return images.map((image) => {
    const sets = byPath.get(resolve(image));
    if (!sets) throw new UsageError(`${image}: no prompts for this image in ${flags.prompts}`);
    return { image: resolve(image), display: image, sets };
  });
}

async function runSegment(images: string[], flags: SegmentFlags): Promise<void> {
  const ui = createUi({ quiet: flags.quiet });
  const json = wantsJson(flags);
  const formats = flags.format ?? ['mask'];
  const jobs = await planJobs(images, flags);

  // Output names are checked before any model work: a clash or an existing file stops the
  // run up front rather than after minutes of encoding.
  const targetOf = (job: SegmentJob): OutputTarget => ({ input: job.image, outDir: flags.out });
  const plans = jobs.map((job) => ({
    input: job.display,
    files: segmentOutputFiles(targetOf(job), formats, job.sets.length, flags.multimask ? 3 : undefined),
  }));
  assertNoOutputCollisions(plans);
  await assertNoExistingOutputs(plans.flatMap((p) => p.files), flags.overwrite ?? false);
  await assertFolderUsable(flags.out, '--out');
  if (flags.cache && flags.cacheDir !== undefined) await assertFolderUsable(flags.cacheDir, '--cache-dir');

  const choice = chooseModel(flags.model);
  if (choice.notice) ui.info(choice.notice);
  // Embeddings outlive the process, so prompting the same image again skips the encoder;
  // --no-cache keeps them in memory only, so prompt sets on one image still share a run.
  const embeddingCache = flags.cache
    ? new TieredEmbeddingCache(new MemoryEmbeddingCache(), new DiskEmbeddingCache(flags.cacheDir ?? embeddingCacheDir(storeDir()), flags.cacheSize))
    : new MemoryEmbeddingCache();
  const segmenter = await Segmenter.open(choice.model, { ...sessionOptions(flags, ui), embeddingCache });

  let written = 0;
  let failed = 0;
  const fail = (image: string, message: string, promptIndex?: number) => {
    failed++;
    const where = promptIndex === undefined ? image : `${image} prompt ${promptIndex}`;
    ui.error(`${where}: ${message}`);
    if (json) emitJsonLine({ image, ...(promptIndex === undefined ? {} : { prompt_index: promptIndex }), error: message });
  };
  try {
    for (const job of jobs) {
      let image;
      try {
        image = await loadImage(job.image, { maxPixels: flags.maxPixels, source: job.display });
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        // loadImage's message already starts with the file name.
        failed++;
        ui.error(oneLine(err));
        if (json) emitJsonLine({ image: job.display, error: oneLine(err).replace(`${job.display}: `, '') });
        continue;
      }
      for (const set of job.sets) {
        try {
          const result = await segmenter.segment(image, set.prompt, { multimask: flags.multimask });
          const masks = flags.multimask ? result.masks : [result.best];
          for (const [k, m] of masks.entries()) {
            const { record } = await writeSegmentOutputs(
              image,
              {
                promptIndex: set.index,
                ...(set.id !== undefined ? { promptId: set.id } : {}),
                prompt: set.prompt,
                ...(flags.multimask ? { candidate: k } : {}),
                mask: m.mask,
                predictedIou: m.predictedIou,
              },
              targetOf(job),
              formats,
              { overwrite: flags.overwrite, imageName: job.display },
            );
            written++;
            if (json) emitJsonLine(record);
            const where = Object.values(record.files).join(', ');
            ui.info(`${job.display} prompt ${set.index}${flags.multimask ? ` mask ${k}` : ''}: ${record.area} px, predicted IoU ${record.predicted_iou.toFixed(3)} → ${where}`);
          }
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          fail(job.display, oneLine(err), set.index);
        }
      }
    }
  } finally {
    await segmenter.close();
  }
  ui.info(
    `${written} mask${written === 1 ? '' : 's'} written with ${segmenter.modelName}${failed ? `; ${failed} failed` : ''}`,
  );
  if (failed > 0) process.exitCode = 1;
}

export function registerSegmentCommand(program: Command): void {
  const cmd = program
    .command('segment')
    .description('mask the object under point or box prompts, one mask per prompt set')
    .argument('[image...]', 'image files (optional with a per-image --prompts file)')
    .option('-p, --point <x,y>', 'foreground point in image pixels (repeatable)', collect)
    .option('-n, --neg-point <x,y>', 'background point (repeatable; SAM-family models only)', collect)
    .option('-b, --box <x1,y1,x2,y2>', 'box around the object, top-left and bottom-right corners')
    .option('--prompts <file|->', 'prompt sets from a JSON file, or - for stdin (see README: prompts JSON)')
    .addOption(
      new Option('-f, --format <list>', 'outputs to write, comma-separated')
        .default(undefined, 'mask'),
    )
    .option('--multimask', "write every candidate mask with its score, not only the family's choice")
    .option('--cache-dir <dir>', 'where image embeddings are kept between runs (default: <store>/embeddings)')
    .addOption(new Option('--cache-size <bytes>', 'most disk the embedding cache may use, least recently used dropped first').default(DEFAULT_DISK_CACHE_BYTES, '1Gi'))
    .option('--no-cache', 'keep no embedding on disk (prompt sets on one image still share one encoder run)');
  for (const option of commonRunOptions()) cmd.addOption(option);
  cmd.addHelpText(
    'after',
    `
Coordinates are pixels of the image as displayed (EXIF orientation applied).
Outputs: <out>/<stem>.<i>.mask.png (i = prompt set index from 0), .overlay.png, .cutout.png, .json.

Examples:
  $ samlite segment photo.jpg --point 120,80
  $ samlite segment photo.jpg --point 120,80 --point 140,95 --neg-point 30,40 --format mask,overlay
  $ samlite segment photo.jpg --box 50,40,300,260 --format cutout --out cutouts/
  $ samlite segment *.png --prompts prompts.json --json | jq .predicted_iou
  $ echo '[{"points": [[120, 80]]}]' | samlite segment photo.jpg --prompts -`,
  );
  cmd.action((images: string[], flags: SegmentFlags) => runSegment(images, flags));
}
