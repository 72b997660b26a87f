/**
 * FastSAM's flags (shared by `segment` and `everything`) and the check that a run's flags
 * fit its model's family: a flag the family has no use for is a usage error, not silence.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../util/errors.js';
import type { FamilyName } from '../families/types.js';
import { FASTSAM_DEFAULTS, type FastSamSettingsInput } from '../fastsam/settings.js';

/**
 * The FastSAM flags. They have no commander defaults (FastSAM's own defaults apply in the
 * library), so a run can tell whether the user gave one.
 */
export function fastSamOptions(): Option[] {
  const d = FASTSAM_DEFAULTS;
  // Values are parsed and range-checked by the option range table (cli/ranges.ts).
  return [
    new Option('--conf <x>', `fastsam: keep detections scoring above this (default ${d.conf})`),
    new Option('--iou <x>', `fastsam: box IoU above which NMS drops the lower-scored detection (default ${d.iou})`),
    new Option('--max-det <n>', `fastsam: detections kept after NMS (default ${d.maxDet})`),
    new Option('--imgsz <px>', "fastsam: input side for a model whose file leaves it open (default: the manifest's imgsz, else 1024)"),
  ];
}

/**
 * Flag of each FastSAM setting by commander attribute name (`maxDet: '--max-det'`), which
 * is the setting's name: commands' flags carry the settings as FastSamSettingsInput.
 */
const FASTSAM_FLAGS: Readonly<Record<string, string>> = Object.fromEntries(fastSamOptions().map((o) => [o.attributeName(), o.long!]));

/** Attribute names of the options of `cmd` given on the command line. */
export function givenFlags(cmd: Command): Set<string> {
  return new Set(cmd.options.map((o) => o.attributeName()).filter((k) => cmd.getOptionValueSource(k) === 'cli'));
}

/**
 * The FastSAM settings among a command's flags (which hold every option of the command);
 * unset flags leave FastSAM's defaults.
 */
export function fastSamSettingsFrom(flags: FastSamSettingsInput): FastSamSettingsInput {
  return { conf: flags.conf, iou: flags.iou, maxDet: flags.maxDet, imgsz: flags.imgsz };
}

/**
 * Throw a UsageError when a flag the user gave does not apply to the model's family:
 * FastSAM's flags on another family, or one of `notFastSam` (flag by attribute name) on a
 * FastSAM model. `given` holds the attribute names of the flags given on the command line.
 */
export function checkFlagsFitFamily(model: { name: string; family: FamilyName }, given: ReadonlySet<string>, notFastSam: Readonly<Record<string, string>> = {}): void {
  if (model.family === 'fastsam') {
    const flag = Object.keys(notFastSam).find((k) => given.has(k));
    if (flag) {
      throw new UsageError(`${notFastSam[flag]} does not apply to fastsam model ${model.name} (one forward pass finds every mask; there is no prompt grid)`);
    }
    return;
  }
  const flag = Object.keys(FASTSAM_FLAGS).find((k) => given.has(k));
  if (flag) throw new UsageError(`${FASTSAM_FLAGS[flag]} applies to fastsam models only; ${model.name} is a ${model.family} model`);
}
