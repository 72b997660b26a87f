/**
 * `samlite merge`: join the per-image parts that runs leave under `<out>/samlite-parts/`
 * (shards, or several machines' output folders) into one dataset (jobs/merge-run.ts).
 */
import { Option, type Command } from 'commander';
import type { DatasetFormat } from '../../datasets/types.js';
import { mergeDatasets } from '../../jobs/merge-run.js';
import { datasetOptions, datasetOptionsFromFlags, wantsJson, type DatasetFlags } from '../options.js';
import { createUi, jobReport } from '../ui.js';

interface MergeFlags extends DatasetFlags {
  out?: string;
  format?: DatasetFormat[];
  polygonTolerance?: number;
  overwrite?: boolean;
  json?: boolean;
  quiet?: boolean;
}


async function runMerge(folders: string[], flags: MergeFlags): Promise<void> {
  const ui = createUi({ quiet: flags.quiet });
  const json = wantsJson(flags);
  const { problems } = await mergeDatasets(
    { folders, outDir: flags.out, formats: flags.format, options: datasetOptionsFromFlags(flags), overwrite: flags.overwrite },
    jobReport(ui, json),
  );
  if (problems > 0) process.exitCode = 1;
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
