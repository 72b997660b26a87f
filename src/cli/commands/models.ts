/**
 * `samlite models …`: list, pull, verify, rm, info, path, default. Flag parsing and printing
 * only; the work is done by src/store. Data (tables, JSON, paths) goes to stdout, progress
 * and messages to stderr.
 */
import { Command, Option } from 'commander';
import { installInterruptHandler, interruptWording } from '../../batch/interrupt.js';
import { EXIT_INPUT_FAILED, InterruptedError, SamliteError, UsageError, oneLine } from '../../util/errors.js';
import { formatDims } from '../../inference/signature.js';
import {
  chooseModel,
  createProgressReporter,
  formatBytes,
  getDefaultModel,
  listModels,
  modelInfo,
  pullModels,
  removeModel,
  setDefaultModel,
  storeDir,
  unsetDefaultModel,
  verifyInstalledModels,
  verifyModel,
  type ModelInfo,
  type ModelVerification,
} from '../../store/index.js';
import { wantsJson } from '../options.js';
import { writeStdout } from '../stdout.js';
import { createUi, emitJsonLine, type Ui } from '../ui.js';

/** JSON lines on stdout: one record per line, as every samlite command prints data. */
function printJsonLines(records: readonly unknown[]): void {
  for (const record of records) emitJsonLine(record);
}

/** The exit code for a set of failures: the most severe one (usage 2 over input 1). */
function exitCodeFor(errors: unknown[]): number {
  return errors.reduce<number>((code, err) => Math.max(code, err instanceof SamliteError ? err.exitCode : EXIT_INPUT_FAILED), 0);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ').trimEnd()).join('\n');
}

function listAction(options: { json?: boolean }): void {
  const models = listModels();
  // Like every command's data: JSON lines off a terminal, the table for people.
  if (wantsJson(options)) {
    printJsonLines(models);
    return;
  }
  const rows = [['NAME', 'FAMILY', 'SIZE', 'INSTALLED', 'DEFAULT', 'LICENSE']];
  for (const model of models) {
    const installed = model.builtin ? (model.installed ? 'built in' : 'missing') : model.installed ? 'yes' : 'no';
    rows.push([model.name, model.family, model.size === null ? '-' : formatBytes(model.size), installed, model.default ? '*' : '', model.license ?? '-']);
  }
  writeStdout(`${table(rows)}\n`);
}

interface PullFlags {
  mirror?: string;
  stallTimeout?: number;
  retries?: number;
  quiet?: boolean;
}

async function pullAction(specs: string[], flags: PullFlags): Promise<void> {
  const ui = createUi({ quiet: flags.quiet });
  const reporter = createProgressReporter({ stream: process.stderr, interactive: ui.interactive, quiet: flags.quiet });
  // The first Ctrl-C stops the download at once (its bytes are kept for the next pull) and
  // releases the model's lock; a second one exits without cleaning up.
  const interrupt = installInterruptHandler();
  let outcomes;
  try {
    outcomes = await pullModels(specs, {
      mirror: flags.mirror,
      stallTimeoutMs: flags.stallTimeout === undefined ? undefined : flags.stallTimeout * 1000,
      retries: flags.retries,
      onEvent: (event) => reporter.onEvent(event),
      signal: interrupt.signal,
    });
  } finally {
    reporter.stop();
    interrupt.dispose();
  }
  const errors: unknown[] = [];
  for (const outcome of outcomes) {
    if (!outcome.ok && outcome.error instanceof InterruptedError) {
      const left = specs.length - outcomes.length;
      process.stderr.write(`${interruptWording(interrupt.received).interrupted}: ${oneLine(outcome.error)}${left ? `; ${left} more model${left === 1 ? '' : 's'} not pulled` : ''}\n`);
      process.exitCode = interrupt.exitCode;
      return;
    }
    if (!outcome.ok) {
      errors.push(outcome.error);
      ui.error(oneLine(outcome.error));
      continue;
    }
    const { result } = outcome;
    if (result.status === 'builtin') ui.info(`${result.name} is built in; nothing to do`);
    else if (result.status === 'local') ui.info(`${result.name}: every file is a local path; nothing to download`);
    else if (result.status === 'already-installed') ui.info(`${result.name} is already installed (sha256 verified)`);
    else ui.info(`${result.name} installed${result.downloadedBytes ? ` (${formatBytes(result.downloadedBytes)} fetched)` : ''}`);
  }
  if (errors.length > 0) {
    if (specs.length > 1) ui.error(`${errors.length} of ${specs.length} models failed to pull`);
    process.exitCode = exitCodeFor(errors);
  }
}

async function verifyAction(specs: string[], flags: { json?: boolean; quiet?: boolean }): Promise<void> {
  const ui = createUi({ quiet: flags.quiet });
  const errors: unknown[] = [];
  const results: ModelVerification[] = [];
  if (specs.length === 0) {
    results.push(...(await verifyInstalledModels()));
    if (results.length === 0) ui.info('no models installed; nothing to verify');
  } else {
    for (const spec of specs) {
      try {
        results.push(await verifyModel(spec));
      } catch (err) {
        errors.push(err);
        ui.error(oneLine(err));
      }
    }
  }
  if (flags.json) printJsonLines(results);
  for (const result of results) {
    for (const file of result.files) {
      if (!flags.json) writeStdout(`${file.ok ? 'ok      ' : 'FAILED  '}${result.name} ${file.role}  ${file.path}${file.note ? `  (${file.note})` : ''}\n`);
      if (!file.ok) {
        const detail = file.actual ? `: expected ${file.expected}, got ${file.actual}` : '';
        ui.error(`${result.name} ${file.role}: ${file.note}${detail}; run \`samlite models pull ${result.name}\` to fetch it again`);
        errors.push(new SamliteError('mismatch'));
      }
    }
  }
  if (errors.length > 0) process.exitCode = exitCodeFor(errors);
}

async function removeAction(specs: string[], flags: { quiet?: boolean }): Promise<void> {
  const ui = createUi({ quiet: flags.quiet });
  const errors: unknown[] = [];
  for (const spec of specs) {
    try {
      const removed = await removeModel(spec);
      if (!removed) {
        // Nothing to do is not a failure: removing what is absent leaves the state asked for.
        ui.info(`model ${spec} is not installed; nothing to remove`);
        continue;
      }
      ui.info(`removed ${removed.name}${removed.wasInstalled ? '' : ' (an unfinished pull)'}: ${formatBytes(removed.bytes)} freed from ${removed.dir}`);
      if (removed.wasDefault) ui.warn(`${removed.name} was the default model; set another with \`samlite models default <name>\` or clear it with \`samlite models default --unset\``);
    } catch (err) {
      errors.push(err);
      ui.error(oneLine(err));
    }
  }
  if (errors.length > 0) process.exitCode = exitCodeFor(errors);
}

function printInfo(info: ModelInfo): void {
  const lines = [
    `name:         ${info.name}`,
    `family:       ${info.family}`,
    `description:  ${info.description}`,
    `license:      ${info.license ?? '-'}`,
  ];
  if (info.homepage) lines.push(`homepage:     ${info.homepage}`);
  if (info.manifestPath) lines.push(`manifest:     ${info.manifestPath}`);
  lines.push(`installed:    ${info.builtin ? (info.installed ? 'built in' : 'built in, files missing') : info.installed ? 'yes' : 'no'}`);
  for (const file of info.files) {
    lines.push('', `${file.role}:`);
    if (file.url) lines.push(`  url:        ${file.url}`);
    lines.push(`  path:       ${file.path}`);
    if (file.size !== undefined) lines.push(`  size:       ${file.size} bytes (${formatBytes(file.size)})`);
    if (file.sha256) lines.push(`  sha256:     ${file.sha256}`);
    if (file.signatureError) lines.push(`  signature:  unreadable: ${oneLine(file.signatureError)}`);
    if (file.signature) {
      for (const [label, values] of [
        ['inputs', file.signature.inputs],
        ['outputs', file.signature.outputs],
      ] as const) {
        lines.push(`  ${label}:`);
        const nameWidth = Math.max(...values.map((value) => value.name.length));
        const typeWidth = Math.max(...values.map((value) => value.type.length));
        for (const value of values) lines.push(`    ${value.name.padEnd(nameWidth)}  ${value.type.padEnd(typeWidth)}  ${formatDims(value.dims)}`);
      }
    }
  }
  writeStdout(`${lines.join('\n')}\n`);
}

async function infoAction(spec: string, flags: { json?: boolean }): Promise<void> {
  const info = await modelInfo(spec);
  if (flags.json) printJsonLines([info]);
  else printInfo(info);
  if (!info.installed && !info.builtin) {
    createUi().info(`${info.name} is not installed; \`samlite models pull ${info.manifestPath ?? info.name}\` fetches it and \`info\` then shows its inputs and outputs`);
  }
}

async function defaultAction(spec: string | undefined, flags: { unset?: boolean; quiet?: boolean }, ui: Ui): Promise<void> {
  if (flags.unset) {
    if (spec !== undefined) throw new UsageError('give either a model or --unset, not both');
    const previous = await unsetDefaultModel();
    ui.info(previous === undefined ? 'no default model was set' : `cleared the default model (was ${previous})`);
    return;
  }
  if (spec === undefined) {
    const configured = getDefaultModel();
    if (configured !== undefined) {
      writeStdout(`${configured}\n`);
      return;
    }
    let fallback = '';
    try {
      const choice = chooseModel(undefined);
      fallback = `; samlite uses ${choice.model.name} (${choice.reason === 'env' ? 'from SAMLITE_MODEL' : choice.reason === 'installed' ? 'the first installed of the preferred models' : 'the built-in segmenter, as no model is installed'})`;
    } catch (err) {
      fallback = `; ${oneLine(err)}`;
    }
    ui.info(`no default model set${fallback}`);
    return;
  }
  const set = await setDefaultModel(spec);
  ui.info(`default model: ${set.stored}`);
  if (!set.installed) ui.warn(`${set.entry.name} is not installed yet; run \`samlite models pull ${set.stored}\``);
}

/**
 * Fail as commander does for a mistyped command at the top level: `error: unknown command
 * 'pul'` and `(Did you mean pull?)`. Commander's unknownCommand() is what its own parser
 * calls; it is not in its type declarations.
 */
function refuseUnknownSubcommand(command: Command): never {
  (command as unknown as { unknownCommand(): never }).unknownCommand();
  throw new UsageError(`unknown command '${command.args[0]}'`);
}

const MODEL_ARG_HELP = 'a catalog name (see `samlite models list`) or the path of a model manifest .json';

/** Register `samlite models` and its subcommands on `program`. */
export function registerModelsCommand(program: Command): void {
  const models = program
    .command('models')
    .description('list, pull, verify and remove models (runs `list` when no subcommand is given)')
    .addHelpText(
      'after',
      `
Models live in the store: $SAMLITE_HOME if set, else the platform cache folder
(~/.cache/samlite on Linux). \`samlite models path\` prints it.

Which model runs when none is named: --model, else $SAMLITE_MODEL, else the default set
with \`samlite models default\`, else the first installed of efficientsam-s,
efficientsam-ti, mobilesam, sam-vit-b, else the built-in classical segmenter.

Examples:
  $ samlite models list
  $ samlite models pull efficientsam-ti
  $ samlite models pull mobilesam --mirror /media/usb/models
  $ samlite models pull ./my-sam.json        a manifest describing your own export
  $ samlite models info mobilesam --json
  $ samlite models verify
  $ samlite models default efficientsam-s`,
    );

  // `samlite models` alone lists, so list is the default subcommand; commander would then
  // hand it a mistyped subcommand (`models pul x`) as arguments: say it is unknown instead.
  models.hook('preSubcommand', (_models, sub) => {
    const typed = models.args[0];
    if (sub.name() === 'list' && typed !== undefined && !typed.startsWith('-') && typed !== 'list' && typed !== 'ls') refuseUnknownSubcommand(models);
  });
  models
    .command('list', { isDefault: true })
    .alias('ls')
    .description('show the catalog and installed models: name, family, size, installed, license')
    .option('--json', 'one JSON line per model instead of a table (the default when stdout is not a terminal)')
    .addHelpText(
      'after',
      `
The DEFAULT column marks the model used when none is named.

Examples:
  $ samlite models list
  $ samlite models list --json | jq -r 'select(.installed) | .name'`,
    )
    .action(listAction);

  models
    .command('pull')
    .description('download models into the store, checking byte size and sha256')
    .argument('<model...>', MODEL_ARG_HELP)
    .option('--mirror <url|dir>', 'fetch files by their file name from this base URL or folder instead of upstream (default: $SAMLITE_MIRROR)')
    .addOption(new Option('--stall-timeout <seconds>', 'cut a connection that sends nothing for this long, then retry (default 30)'))
    .addOption(new Option('--retries <n>', 'retries for transient failures: resets, stalls, HTTP 5xx (default 4)'))
    .option('-q, --quiet', 'no progress output, errors only')
    .addHelpText(
      'after',
      `
A file is downloaded to a temporary name in the store, hashed as it arrives and renamed
into place only when its size and sha256 match; an interrupted download resumes (HTTP
Range) on the next pull. Progress goes to stderr: a bar on a terminal, occasional lines
otherwise. Each model is attempted; the exit code is 1 if any failed (2 for an unknown
model or a bad manifest).

Examples:
  $ samlite models pull efficientsam-ti
  $ samlite models pull efficientsam-ti mobilesam --quiet
  $ samlite models pull sam-vit-b --mirror https://models.example.org/samlite/
  $ SAMLITE_MIRROR=/srv/models samlite models pull mobilesam
  $ samlite models pull ./my-sam.json`,
    )
    .action(pullAction);

  models
    .command('verify')
    .description('re-hash installed model files and report any that no longer match')
    .argument('[model...]', `${MODEL_ARG_HELP}; default: every installed model`)
    .option('--json', 'one JSON line per model instead of the ok/FAILED lines')
    .option('-q, --quiet', 'no informational messages')
    .addHelpText(
      'after',
      `
Prints one line per file on stdout (ok or FAILED); exit code 1 if any file does not match.

Examples:
  $ samlite models verify
  $ samlite models verify mobilesam --json`,
    )
    .action(verifyAction);

  models
    .command('rm')
    .alias('remove')
    .description('remove installed models from the store')
    .argument('<model...>', MODEL_ARG_HELP)
    .option('-q, --quiet', 'no informational messages')
    .addHelpText(
      'after',
      `
Removes the model's folder, unfinished downloads included. Built-in models cannot be removed.
A model that is not installed is reported and skipped (exit 0: there is nothing to remove).

Examples:
  $ samlite models rm sam-vit-b
  $ samlite models rm ./my-sam.json`,
    )
    .action(removeAction);

  models
    .command('info')
    .description("show a model's catalog entry and, when installed, its ONNX inputs and outputs")
    .argument('<model>', MODEL_ARG_HELP)
    .option('--json', 'the result as one JSON line')
    .addHelpText(
      'after',
      `
Examples:
  $ samlite models info efficientsam-ti
  $ samlite models info builtin --json | jq '.files[0].signature.inputs'`,
    )
    .action(infoAction);

  models
    .command('path')
    .description('print the model store folder')
    .addHelpText(
      'after',
      `
The store is $SAMLITE_HOME if set, else the platform cache folder (~/.cache/samlite on Linux).

Examples:
  $ samlite models path
  $ du -sh "$(samlite models path)"`,
    )
    .action(() => {
      writeStdout(`${storeDir()}\n`);
    });

  models
    .command('default')
    .description('print, set or clear the default model')
    .argument('[model]', `${MODEL_ARG_HELP}; omit to print the current default`)
    .option('--unset', 'clear the default')
    .option('-q, --quiet', 'no informational messages')
    .addHelpText(
      'after',
      `
The default is kept in <store>/config.json. --model and $SAMLITE_MODEL override it.
With no default set, samlite uses the first installed of efficientsam-s, efficientsam-ti,
mobilesam, sam-vit-b, and the built-in segmenter when none is installed.

Examples:
  $ samlite models default                    print it
  $ samlite models default efficientsam-s
  $ samlite models default ./my-sam.json      stored as an absolute path
  $ samlite models default --unset`,
    )
    .action((spec: string | undefined, flags: { unset?: boolean; quiet?: boolean }) => defaultAction(spec, flags, createUi({ quiet: flags.quiet })));
}
