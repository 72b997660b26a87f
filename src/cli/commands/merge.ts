/**
 * `samlite merge`: join the per-image parts that runs leave under `<out>/samlite-parts/`
 * (shards, or several machines' output folders) into one dataset.
 */
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { MERGE_FORMATS, PARTS_DIR, datasetRunFiles } from '../../datasets/paths.js';
import { listPartFiles } from '../../datasets/part.js';
import { DATASET_OPTION_DEFAULTS, type DatasetFormat, type DatasetOptions } from '../../datasets/types.js';
import { assertClassesAgree, readPartsDataset, writeDatasetFiles } from '../../datasets/writer.js';
import { UsageError } from '../../errors.js';
import { assertNoExistingOutputs } from '../../writers/naming.js';
import { mergeGeoFolders } from '../../geo/merge-run.js';
import { DATASET_OPTION_FLAGS, datasetOptions, datasetOptionsFromFlags, wantsJson, type DatasetFlags } from '../options.js';
import { createUi, emitJsonLine } from '../ui.js';

interface MergeFlags extends DatasetFlags {
  out?: string;
  format?: DatasetFormat[];
  polygonTolerance?: number;
  overwrite?: boolean;
  json?: boolean;
  quiet?: boolean;
}


/**
 * The options the files of `formats` depend on, so parts may disagree on the others:
 * COCO reads its segmentation kind (and the polygon tolerance for polygons), Label Studio
 * its image URL prefix and mask kind (and the tolerance for polygons), data.yaml none.
 * `options` are the values the merge will use.
 */
function optionsRead(formats: readonly DatasetFormat[], options: DatasetOptions): Set<keyof DatasetOptions> {
  const read = new Set<keyof DatasetOptions>();
  if (formats.includes('coco')) {
    read.add('cocoSegmentation');
    if (options.cocoSegmentation === 'polygon') read.add('polygonTolerance');
  }
  if (formats.includes('labelstudio')) {
    read.add('imageUrlPrefix');
    read.add('labelStudioMasks');
    if (options.labelStudioMasks === 'polygon') read.add('polygonTolerance');
  }
  return read;
}

async function runMerge(folders: string[], flags: MergeFlags): Promise<void> {
  const ui = createUi({ quiet: flags.quiet });
  const json = wantsJson(flags);
  const outDir = flags.out ?? folders[0];
  const dirs = [...new Set(folders.map((f) => resolve(f)))];
  const parts: string[] = [];
  for (const dir of dirs) parts.push(...(await listPartFiles(dir)));
  // Tiled runs over GeoTIFFs (shards of one raster, or several machines') merge first.
  const geo = await mergeGeoFolders(dirs, outDir, flags.overwrite ?? false);
  for (const o of geo) {
    if ('error' in o) {
      ui.error(o.error);
      if (json) emitJsonLine({ image: o.name, error: o.error });
      process.exitCode = 1;
      continue;
    }
    for (const w of o.warnings) ui.warn(w);
    ui.info(`${o.name}: ${o.objects} objects → ${o.files.join(', ')}`);
    if (json) emitJsonLine({ image: o.name, masks: o.objects, outputs: o.files });
  }
  if (parts.length === 0 && geo.length > 0) return;
  if (parts.length === 0) throw new UsageError(`no parts under ${folders.map((f) => `${f}/${PARTS_DIR}`).join(', ')}: run samlite with --format coco (or another dataset format), or on GeoTIFFs, first`);

  const dataset = await readPartsDataset(parts);
  let formats = flags.format ?? MERGE_FORMATS.filter((f) => dataset.formats.includes(f));
  // data.yaml says train: images beside it, and the labels and image links stay where the
  // runs wrote them: it is only usable in that one folder.
  const yoloSegHere = dirs.length === 1 && resolve(outDir) === dirs[0];
  if (formats.includes('yolo-seg') && !yoloSegHere) {
    const where = `the folder that holds the labels and images (${dirs.join(', ')}); merge ${dirs.length > 1 ? 'each folder' : 'that folder'} alone, without --out, for it`;
    if (flags.format) throw new UsageError(`--format yolo-seg: data.yaml must be written in ${where}, or leave yolo-seg out of --format`);
    // Asked for by the runs, not by this merge: build the other files and say why not this one.
    formats = formats.filter((f) => f !== 'yolo-seg');
    ui.info(`data.yaml not written: it belongs in ${where}`);
  }
  if (formats.length === 0) {
    const choices = MERGE_FORMATS.filter((f) => f !== 'yolo-seg' || yoloSegHere);
    throw new UsageError(`the parts' runs asked for no dataset file this merge can write (${dataset.formats.join(', ') || 'none'}); give --format ${choices.join('|')}`);
  }
  assertClassesAgree(dataset, formats);
  // The runs' own options, unless a flag says otherwise; parts that disagree need the flag.
  const flagged = datasetOptionsFromFlags(flags);
  const options: DatasetOptions = { ...DATASET_OPTION_DEFAULTS, ...dataset.options, ...flagged };
  // A conflict on an option the files do not read does not matter; one they read is
  // refused, so the default filled in for it above is never used.
  const read = optionsRead(formats, options);
  for (const { option, parts: [a, b] } of dataset.conflicts) {
    const flag = DATASET_OPTION_FLAGS[option];
    if (read.has(option) && !(option in flagged)) throw new UsageError(`parts were made with different ${flag} (${a} and ${b}); give ${flag} to choose`);
  }

  await assertNoExistingOutputs(datasetRunFiles(outDir, formats), flags.overwrite ?? false);
  for (const problem of dataset.problems) {
    ui.error(problem);
    if (json) emitJsonLine({ error: problem });
  }
  const files = await writeDatasetFiles(outDir, dataset.source, { ...options, formats, overwrite: flags.overwrite });
  const n = dataset.source.images.length;
  ui.info(`dataset: ${files.join(', ')} (${n} image${n === 1 ? '' : 's'} from ${parts.length - dataset.problems.length} parts)`);
  if (json) emitJsonLine({ dataset: files, images: n });
  if (dataset.problems.length > 0) process.exitCode = 1;
}

export function registerMergeCommand(program: Command): void {
  const cmd = program
    .command('merge')
    .description('join the per-image parts of runs (shards, several output folders) into one dataset')
    .argument('<folder...>', 'output folders of samlite runs (each with a samlite-parts/ folder)')
    .option('-o, --out <dir>', 'where to write the dataset files (default: the first folder)')
    // Values are parsed and range-checked by the option range table (cli/ranges.ts).
    .addOption(new Option('-f, --format <list>', 'dataset files to write (default: what the runs asked for)'))
    .addOption(new Option('--polygon-tolerance <px>', "Douglas-Peucker tolerance of polygon outlines (default: the runs')"));
  for (const option of datasetOptions()) cmd.addOption(option);
  cmd
    .option('--overwrite', 'replace existing dataset files')
    .option('--json', 'a JSON line on stdout (the default when stdout is not a terminal)')
    .option('-q, --quiet', 'no summary on stderr (errors still shown)')
    .addHelpText(
      'after',
      `
Parts are what runs with a dataset --format leave under <out>/samlite-parts/, one per image,
and runs over GeoTIFFs, one per tile. A run builds its dataset files (or georeferenced
outputs) itself; a run with --shard k/n leaves that to merge, which joins a raster's tiles
across the seams between shards.
labelme files and YOLO-seg labels are written per image by the runs themselves.

Examples:
  $ for k in 1 2 3 4; do samlite everything big/ -r --shard $k/4 --format coco --out out/ & done; wait
  $ samlite merge out/                         # out/coco.json
  $ samlite merge a/ b/ --out all/ --format coco,labelstudio
  $ for k in 1 2 3; do samlite everything ortho.tif --tile 1024 --shard $k/3 --format geojson,label-tif --out out/ & done; wait
  $ samlite merge out/                         # out/ortho.geojson, out/ortho.labels.tif`,
    )
    .action((folders: string[], flags: MergeFlags) => runMerge(folders, flags));
}
