/**
 * The accepted range of every option that takes a value, as one table.
 *
 * buildProgram() calls {@link applyOptionRanges} once every command is registered. For
 * each option with a value it finds the option's entry in {@link OPTION_RANGES}, installs
 * the entry's parser (so a value outside the range stops the run with exit 2 and one line
 * naming the option, the value and the range, while commander parses the command line:
 * before any input is read or model loaded) and adds the range to the option's `--help`
 * line. test/cli-option-ranges.test.ts checks every option of every command against the
 * table: an option with a value and no entry fails it.
 *
 * To give a new option its range, add ONE entry below, keyed by its long flag
 * (`'--foo'`), or by command and flag (`'everything --foo'`, `'models pull --foo'`) when
 * the same flag means different things in two commands; the command-specific key wins.
 * Use a builder: `wholeNumber(1, 64)`, `decimal(0, 1)`, `text('a folder')`,
 * `choices()` (for commander `.choices()`), `list(VALUES)` for comma-separated lists, or
 * `custom(...)` with its own parser and examples. The option's own `.argParser()` is then
 * replaced by the entry's, except for `text` and `choices` entries, which keep it. The
 * table of ranges in docs/option-ranges.md lists the numeric ones for readers, in
 * its own words; the table test checks each row's bounds against the entry here, so a
 * changed bound fails it until the row is changed too.
 */
import type { Command, Option } from 'commander';
import { UsageError } from '../util/errors.js';
import { DEFAULT_DISK_CACHE_BYTES } from '../cache/disk-embedding-cache.js';
import { AREA_LIMIT_RANGE, parseAreaLimit } from '../everything/area.js';
import { EVERYTHING_LIMITS } from '../everything/options.js';
import { MAX_PIXELS_RANGE, parseMaxPixels } from '../image/limits.js';
import { MAX_THREADS } from '../inference/ort-session.js';
import { SHARD_OPTION_RANGE, parseShardOption } from '../batch/scheduler-shard.js';
import { parseBoxFlag, parsePointFlag } from '../prompts/flags.js';
import { parseByteSize } from '../util/byte-size.js';
import { MERGE_FORMATS } from '../datasets/paths.js';
import { DATASET_FORMATS } from '../datasets/types.js';
import { FASTSAM_LIMITS, FASTSAM_RANGES, imgszProblem } from '../fastsam/settings.js';
import { EVERYTHING_FORMATS, SEGMENT_FORMATS } from '../writers/naming.js';
import { GEO_FORMATS } from '../geo/outputs.js';
import { BANDS_RANGE, STRETCH_RANGE, parseBands, parseStretch } from '../geo/stretch.js';
import { parseNodata } from './geo-options.js';
import { PROMPT_CRS_RANGE, parsePromptCrs } from '../geo/prompts.js';

/** One option's accepted values. */
export interface OptionRange {
  /** The accepted values in words, as `--help` and error messages state them. */
  readonly range: string;
  /**
   * Parse a value (commander's `previous` is passed on for repeatable options), throwing
   * a UsageError for one outside the range. Undefined: the option keeps its own parser
   * (commander's choices, a collector) and the entry only refuses an empty value.
   */
  readonly parse?: (text: string, flag: string, previous: unknown) => unknown;
  /** Only check a value, for entries that keep the option's own parser. */
  readonly check?: (text: string, flag: string) => void;
  /** The range comes from commander's `.choices()`; its help already lists them. */
  readonly choices?: true;
  /** Values the entry accepts and refuses: documentation, and the table test's probes. */
  readonly examples: { readonly inside: readonly string[]; readonly outside: readonly string[] };
}

/** The one wording of an out-of-range value: option, value, range. */
function outOfRange(flag: string, text: string, range: string): UsageError {
  return new UsageError(`${flag} ${JSON.stringify(text)}: expected ${range}`);
}

function numberRange(kind: string, min: number, max: number, words: readonly string[]): string {
  const span = Number.isFinite(max) ? `${kind} from ${min} to ${max}` : `${kind} >= ${min}`;
  return words.length ? `${span}, or ${words.join(' or ')}` : span;
}

/** A whole number in [min, max] (max may be Infinity), or one of `words` (`full`, ...). */
function wholeNumber(min: number, max = Infinity, words: readonly string[] = []): OptionRange {
  const range = numberRange('a whole number', min, max, words);
  return {
    range,
    parse: (text, flag) => {
      if (words.includes(text.trim())) return text.trim();
      const n = Number(text);
      if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw outOfRange(flag, text, range);
      return n;
    },
    examples: {
      inside: [String(min), ...(Number.isFinite(max) ? [String(max)] : []), ...words],
      outside: [String(min - 1), ...(Number.isFinite(max) ? [String(max + 1)] : []), `${min}.5`, 'x', ''],
    },
  };
}

/** A finite number in [min, max] (max may be Infinity). */
function decimal(min: number, max = Infinity): OptionRange {
  const range = numberRange('a number', min, max, []);
  const step = Number.isFinite(max) ? Math.min(0.001, (max - min) / 10) : 0.001;
  return {
    range,
    parse: (text, flag) => {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw outOfRange(flag, text, range);
      return n;
    },
    examples: {
      inside: [String(min), String(Number.isFinite(max) ? max : min + 1)],
      outside: [String(min - step), ...(Number.isFinite(max) ? [String(max + step)] : []), 'Infinity', 'NaN', 'x', ''],
    },
  };
}

/**
 * Free text such as a path or a name (`what`): anything but empty, optionally `check`ed
 * (then `inside` gives values the check accepts).
 */
function text(what: string, check?: (text: string, flag: string) => unknown, inside: readonly string[] = ['x']): OptionRange {
  return { range: what, check: check && ((t, flag) => void check(t, flag)), examples: { inside, outside: ['', ' '] } };
}

/** The values of commander's `.choices()` on the option. */
function choices(): OptionRange {
  return { range: 'one of the listed choices', choices: true, examples: { inside: [], outside: ['', 'no-such-choice'] } };
}

/** A comma-separated, repeatable list of `allowed` values, at least one (`--format a,b --format c`). */
function list<T extends string>(allowed: readonly T[]): OptionRange {
  const range = `one or more of ${allowed.join(', ')}`;
  return {
    range,
    parse: (t, flag, previous) => {
      const items = t.split(',').map((s) => s.trim()).filter(Boolean);
      if (items.length === 0) throw outOfRange(flag, t, range);
      for (const item of items) if (!allowed.includes(item as T)) throw outOfRange(flag, item, range);
      return [...new Set([...((previous as T[] | undefined) ?? []), ...(items as T[])])];
    },
    examples: { inside: [...allowed, allowed.join(',')], outside: ['', ',', 'no-such-value', `${allowed[0]},no-such-value`] },
  };
}

/** Anything else: a range in words, a parser and examples either side of the range. */
function custom(range: string, parse: (text: string, flag: string) => unknown, examples: OptionRange['examples']): OptionRange {
  return { range, parse, examples };
}

/** Byte sizes from 1 MB: less cannot hold one embedding. */
const CACHE_SIZE_RANGE = 'a size >= 1M such as 500M, 2G or 1Gi';
const L = EVERYTHING_LIMITS;
const F = FASTSAM_LIMITS;

/**
 * Every option that takes a value, with its range. Keys: `--flag`, or `<command> --flag`
 * to give one command's option its own range (see the module comment).
 */
export const OPTION_RANGES: Readonly<Record<string, OptionRange>> = {
  // Shared by segment and everything (cli/options.ts).
  '--model': text('a catalog model name or the path of a model manifest'),
  '--out': text('a folder'),
  '--threads': wholeNumber(1, MAX_THREADS),
  '--device': choices(),
  '--inference': choices(),
  '--max-pixels': custom(MAX_PIXELS_RANGE, (t, flag) => parseMaxPixels(t, flag), {
    inside: ['1', '100M', '5e7', 'unlimited'],
    outside: ['0', '-5', '100Q', ''],
  }),

  // segment
  '--point': text('x,y in pixels of the image (each point must lie inside it), or in --prompt-crs coordinates', parsePointFlag, ['10,20', '0.5,7']),
  '--neg-point': text('x,y in pixels of the image (each point must lie inside it), or in --prompt-crs coordinates', parsePointFlag, ['10,20']),
  '--box': text('x1,y1,x2,y2 in pixels of the image, x1 <= x2 and y1 <= y2, or in --prompt-crs coordinates', (t) => parseBoxFlag(t), ['1,2,30,40']),
  '--prompts': text('a samlite prompts JSON or COCO detection JSON file, a YOLO label folder or file, or - for stdin; for GeoTIFFs a GeoJSON or FlatGeobuf file'),
  '--prompts-format': choices(),
  '--image-root': text('a folder'),
  '--min-score': decimal(0, 1),
  '--coco-images': text('a COCO JSON file (its images and categories)'),
  '--classes': text('a dataset YAML with names:, or a file of one class name per line'),
  'segment --format': list([...SEGMENT_FORMATS, ...DATASET_FORMATS, ...GEO_FORMATS]),
  '--cache-dir': text('a folder'),
  '--cache-size': custom(
    CACHE_SIZE_RANGE,
    (t, flag) => {
      const bytes = parseByteSize(t);
      if (bytes === undefined || bytes < 1e6) throw outOfRange(flag, t, CACHE_SIZE_RANGE);
      return bytes;
    },
    { inside: ['1M', '500MB', '2G', `${DEFAULT_DISK_CACHE_BYTES}`, '1Gi'], outside: ['0', '999999', '10 bananas', '-1G', ''] },
  ),

  // everything
  '--grid': wholeNumber(L.pointsPerSide.min, L.pointsPerSide.max),
  '--mode': choices(),
  '--pred-iou-thresh': decimal(L.predIouThresh.min, L.predIouThresh.max),
  '--stability-thresh': decimal(L.stabilityThresh.min, L.stabilityThresh.max),
  '--stability-offset': decimal(L.stabilityOffset.min, L.stabilityOffset.max),
  '--nms-thresh': decimal(L.boxNmsThresh.min, L.boxNmsThresh.max),
  '--crop-layers': wholeNumber(L.cropLayers.min, L.cropLayers.max),
  '--crop-overlap': decimal(L.cropOverlapRatio.min, L.cropOverlapRatio.max),
  '--crop-points-downscale': wholeNumber(L.cropPointsDownscale.min, L.cropPointsDownscale.max),
  '--crop-nms-thresh': decimal(L.cropNmsThresh.min, L.cropNmsThresh.max),
  '--min-region-area': wholeNumber(L.minRegionArea.min, L.minRegionArea.max),
  '--min-area': custom(AREA_LIMIT_RANGE, (t, flag) => parseAreaLimit(t, flag), { inside: ['0', '500', '0.02', '2%', '100%'], outside: ['-3', '12.5', '101%', 'lots', ''] }),
  '--max-area': custom(AREA_LIMIT_RANGE, (t, flag) => parseAreaLimit(t, flag), { inside: ['1', '0.9', '90%'], outside: ['-1', '1.5', '200%', 'all', ''] }),
  '--low-res': wholeNumber(L.lowResSize.min, L.lowResSize.max, ['full']),
  '--order': choices(),
  'everything --format': list([...EVERYTHING_FORMATS, ...DATASET_FORMATS, ...GEO_FORMATS]),
  '--polygon-tolerance': decimal(0, 100),
  '--concurrency': wholeNumber(1, 64),
  '--shard': custom(SHARD_OPTION_RANGE, (t, flag) => parseShardOption(t, flag), {
    inside: ['1/1', '2/4', '1000000/1000000', 'auto', 'auto/8'],
    outside: ['0/4', '5/4', '1/0', '1/1000001', 'auto/0', 'auto/1000001', 'automatic', 'half', ''],
  }),

  // GeoTIFF inputs (segment and everything; src/geo/)
  '--tile': wholeNumber(16, 16384),
  '--overlap': wholeNumber(0, 8192),
  '--bands': custom(BANDS_RANGE, (t, flag) => parseBands(t, flag), { inside: ['1', '4,3,2', '1,2,3'], outside: ['0', '1,2', '1,2,3,4', 'a', ''] }),
  '--stretch': custom(STRETCH_RANGE, (t, flag) => parseStretch(t, flag), { inside: ['auto', 'none', 'minmax', '2%,98%', '0,3000'], outside: ['2,1', '5%,200%', 'loud', ''] }),
  '--nodata': custom('a number, nan or none', (t, flag) => parseNodata(t, flag), { inside: ['0', '-9999', '255', 'nan', 'none'], outside: ['x', ''] }),
  '--geojson-crs': choices(),
  '--prompt-crs': custom(PROMPT_CRS_RANGE, (t, flag) => parsePromptCrs(t, flag), { inside: ['pixel', 'raster', 'EPSG:4326', 'epsg:32633'], outside: ['EPSG:1', 'wgs', ''] }),

  // FastSAM models (segment and everything)
  '--conf': decimal(F.conf.min, F.conf.max),
  '--iou': decimal(F.iou.min, F.iou.max),
  '--max-det': wholeNumber(F.maxDet.min, F.maxDet.max),
  '--imgsz': custom(
    FASTSAM_RANGES.imgsz,
    (t, flag) => {
      const n = Number(t);
      if (t.trim() === '' || imgszProblem(n)) throw outOfRange(flag, t, FASTSAM_RANGES.imgsz);
      return n;
    },
    { inside: ['32', '640', '1024', '4096'], outside: ['0', '31', '1000', '4128', 'x', ''] },
  ),

  // Dataset formats (segment, everything, merge)
  // serve
  '--host': text('a host name or address to listen on'),
  '--port': wholeNumber(0, 65535),
  '--token': text('a token of at least 16 characters', (t, flag) => {
    if (t.trim().length < 16) throw outOfRange(flag, t, 'a token of at least 16 characters');
  }, ['0123456789abcdef']),
  '--cors': text('an origin such as http://localhost:3000'),
  '--max-body': custom('a size >= 1M such as 64Mi', (t, flag) => {
    const bytes = parseByteSize(t);
    if (bytes === undefined || bytes < 1e6) throw outOfRange(flag, t, 'a size >= 1M such as 64Mi');
    return bytes;
  }, { inside: ['1M', '64Mi', '1G'], outside: ['0', '10k', 'lots', ''] }),
  '--queue': wholeNumber(1, 10_000),
  'serve --format': list([...SEGMENT_FORMATS, ...DATASET_FORMATS]),

  '--coco-segmentation': choices(),
  '--image-url-prefix': text('a URL prefix'),
  '--labelstudio-masks': choices(),
  'merge --format': list(MERGE_FORMATS),

  // models pull
  '--mirror': text('a base URL or a folder'),
  '--stall-timeout': decimal(0.1, 3600),
  '--retries': wholeNumber(0, 100),
};

/** `segment`, `everything`, `models pull`: the command's names below the program. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** True for options that take a value (`--grid <n>`), not switches (`--json`, `--no-cache`). */
export function takesValue(option: Option): boolean {
  return option.required || option.optional;
}

/** The entry for `option` of `command`: the command-specific key first, then the flag alone. */
export function rangeFor(command: Command, option: Option): OptionRange | undefined {
  const flag = option.long ?? option.short ?? '';
  return OPTION_RANGES[`${commandPath(command)} ${flag}`] ?? OPTION_RANGES[flag];
}

/** Install `entry` on `option`: its parser, the empty-value check, and the range in --help. */
function install(option: Option, entry: OptionRange): void {
  const flag = option.long ?? option.short ?? option.flags;
  if (entry.choices) {
    if (!option.argChoices) throw new Error(`${flag}: its range entry says choices() but the option has no .choices()`);
    return; // commander refuses anything else with one line naming option, value and choices
  }
  const own = option.parseArg as ((value: string, previous: unknown) => unknown) | undefined;
  option.argParser((value: string, previous: unknown) => {
    if (entry.parse) return entry.parse(value, flag, previous);
    if (value.trim() === '') throw outOfRange(flag, value, entry.range);
    entry.check?.(value, flag);
    return own ? own(value, previous) : value;
  });
  // Text entries say what the value is, which the description already does.
  if (entry.parse && !option.description.includes(entry.range)) option.description = `${option.description}; ${entry.range}`;
}

/**
 * Give every option with a value, in `program` and all its sub-commands, the parser and
 * help text of its {@link OPTION_RANGES} entry. Options without an entry are left alone
 * (the table test reports them).
 */
export function applyOptionRanges(program: Command): void {
  for (const option of program.options) {
    const entry = takesValue(option) ? rangeFor(program, option) : undefined;
    if (entry) install(option, entry);
  }
  for (const sub of program.commands) applyOptionRanges(sub);
}
