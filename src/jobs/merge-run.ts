/**
 * `samlite merge` as a library job: the per-image parts that runs leave under
 * `<out>/samlite-parts/` (shards, several machines' output folders) joined into one
 * dataset's run-wide files (coco.json, labelstudio.json, data.yaml).
 */
import { join, resolve } from 'node:path';
import { MERGE_FORMATS, PARTS_DIR, datasetRunFiles } from '../datasets/paths.js';
import { listPartFiles } from '../datasets/part.js';
import { DATASET_OPTION_DEFAULTS, type DatasetFormat, type DatasetOptions } from '../datasets/types.js';
import { assertClassesAgree, readPartsDataset, writeDatasetFiles } from '../datasets/writer.js';
import { UsageError } from '../util/errors.js';
import { assertOutputsWritable, pathExists } from '../writers/files.js';
import { assertNoExistingOutputs } from '../writers/naming.js';
import { DATASET_OPTION_FLAGS, type JobReport } from './dataset-run.js';
import { mergeGeoFolders } from '../geo/merge-run.js';

/** What to merge, and into what. */
export interface MergeRequest {
  /** Output folders of samlite runs, each with a samlite-parts/ folder. */
  readonly folders: readonly string[];
  /** Where the dataset files go; default the first folder. */
  readonly outDir?: string;
  /** Dataset files to write; default what the parts' runs asked for. */
  readonly formats?: readonly DatasetFormat[];
  /** Options that override the runs' own (needed where the parts disagree). */
  readonly options?: DatasetOptions;
  readonly overwrite?: boolean;
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

/**
 * Merge the parts under `request.folders` into the dataset files, reporting problems and
 * what was written through `report`. Throws a UsageError when nothing can be merged as
 * asked (no parts, formats the parts cannot give, parts that disagree on an option the
 * files read); parts that cannot be read are reported one line each and left out.
 */
export async function mergeDatasets(request: MergeRequest, report: JobReport): Promise<{ files: string[]; images: number; problems: number }> {
  const { folders } = request;
  const outDir = request.outDir ?? folders[0];
  const dirs = [...new Set(folders.map((f) => resolve(f)))];
  const parts: string[] = [];
  for (const dir of dirs) parts.push(...(await listPartFiles(dir)));
  // Tiled runs over GeoTIFFs (shards of one raster, or several machines' folders) merge first.
  const geo = await mergeGeoRasters(dirs, outDir, request.overwrite ?? false, report);
  if (parts.length === 0 && geo.rasters > 0) return { files: geo.files, images: 0, problems: geo.problems };
  if (parts.length === 0) {
    const missing = [];
    for (const f of folders) if (!(await pathExists(f))) missing.push(f);
    if (missing.length > 0) throw new UsageError(`${missing.join(', ')}: no such folder`);
    throw new UsageError(`no parts under ${folders.map((f) => join(f, PARTS_DIR)).join(', ')}: run samlite with --format coco (or another dataset format), or on GeoTIFFs, first`);
  }

  const dataset = await readPartsDataset(parts);
  let formats = request.formats ?? MERGE_FORMATS.filter((f) => dataset.formats.includes(f));
  // data.yaml points at labels/ and images/, which only runs with --format yolo-seg write:
  // without them its dataset would be empty, or lack the images of the runs that had none.
  const noYoloLabels = dataset.notAskedBy['yolo-seg'];
  if (formats.includes('yolo-seg') && noYoloLabels !== undefined) {
    const which = dataset.formats.includes('yolo-seg') ? `the run of ${noYoloLabels} wrote no YOLO-seg labels` : 'the runs wrote no YOLO-seg labels';
    const problem = `--format yolo-seg: ${which} (labels/, images/), which data.yaml points to; rerun with --format yolo-seg`;
    if (request.formats) throw new UsageError(`${problem}, or leave yolo-seg out of --format`);
    formats = formats.filter((f) => f !== 'yolo-seg');
    report.info(`data.yaml not written: ${which}`);
  }
  // data.yaml says train: images beside it, and the labels and image links stay where the
  // runs wrote them: it is only usable in that one folder.
  const yoloSegHere = dirs.length === 1 && resolve(outDir) === dirs[0];
  if (formats.includes('yolo-seg') && !yoloSegHere) {
    const where = `the folder that holds the labels and images (${dirs.join(', ')}); merge ${dirs.length > 1 ? 'each folder' : 'that folder'} alone, without --out, for it`;
    if (request.formats) throw new UsageError(`--format yolo-seg: data.yaml must be written in ${where}, or leave yolo-seg out of --format`);
    // Asked for by the runs, not by this merge: build the other files and say why not this one.
    formats = formats.filter((f) => f !== 'yolo-seg');
    report.info(`data.yaml not written: it belongs in ${where}`);
  }
  if (formats.length === 0) {
    const choices = MERGE_FORMATS.filter((f) => f !== 'yolo-seg' || yoloSegHere);
    throw new UsageError(`the parts' runs asked for no dataset file this merge can write (${dataset.formats.join(', ') || 'none'}); give --format ${choices.join('|')}`);
  }
  assertClassesAgree(dataset, formats);
  // The runs' own options, unless the request says otherwise; parts that disagree need it to.
  const flagged = request.options ?? {};
  const options: DatasetOptions = { ...DATASET_OPTION_DEFAULTS, ...dataset.options, ...flagged };
  // A conflict on an option the files do not read does not matter; one they read is
  // refused, so the default filled in for it above is never used.
  const read = optionsRead(formats, options);
  for (const { option, parts: [a, b] } of dataset.conflicts) {
    const flag = DATASET_OPTION_FLAGS[option];
    if (read.has(option) && !(option in flagged)) throw new UsageError(`parts were made with different ${flag} (${a} and ${b}); give ${flag} to choose`);
  }

  await assertOutputsWritable(outDir, datasetRunFiles(outDir, formats));
  await assertNoExistingOutputs(datasetRunFiles(outDir, formats), request.overwrite ?? false);
  for (const problem of dataset.problems) {
    report.error(problem);
    report.record?.({ error: problem });
  }
  const files = await writeDatasetFiles(outDir, dataset.source, { ...options, formats, overwrite: request.overwrite });
  const images = dataset.source.images.length;
  report.info(`dataset: ${files.join(', ')} (${images} image${images === 1 ? '' : 's'} from ${parts.length - dataset.problems.length} parts)`);
  report.record?.({ dataset: files, images });
  return { files: [...geo.files, ...files], images, problems: dataset.problems.length + geo.problems };
}

/**
 * The tile parts of tiled GeoTIFF runs under `dirs`, each raster merged across its seams
 * (those between shards too) into its georeferenced outputs under `outDir`; one line per
 * raster through `report`, and a raster that cannot be merged counted as a problem.
 */
async function mergeGeoRasters(dirs: readonly string[], outDir: string, overwrite: boolean, report: JobReport): Promise<{ rasters: number; files: string[]; problems: number }> {
  const outcomes = await mergeGeoFolders(dirs, outDir, overwrite);
  const files: string[] = [];
  let problems = 0;
  for (const o of outcomes) {
    if ('error' in o) {
      problems++;
      report.error(o.error);
      report.record?.({ image: o.name, error: o.error });
      continue;
    }
    for (const w of o.warnings) (report.warn ?? ((m: string) => report.info(`warning: ${m}`)))(w);
    report.info(`${o.name}: ${o.objects} objects → ${o.files.join(', ')}`);
    report.record?.({ image: o.name, masks: o.objects, outputs: o.files });
    files.push(...o.files);
  }
  return { rasters: outcomes.length, files, problems };
}
