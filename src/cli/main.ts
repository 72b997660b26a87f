import { Command, CommanderError } from 'commander';
import { EXIT_USAGE, SamliteError, oneLine } from '../util/errors.js';
import { createUi } from './ui.js';
import { registerModelsCommand } from './commands/models.js';
import { registerSegmentCommand } from './commands/segment.js';
import { registerEverythingCommand } from './commands/everything.js';
import { registerMergeCommand } from './commands/merge.js';
import { registerServeCommand } from './commands/serve.js';
import { applyOptionRanges } from './ranges.js';
import { exitCodeAfterStdout, watchStdout, writeStdout } from './stdout.js';
import { SAMLITE_VERSION, VERBOSE_FLAG, asksForVersion, versionText } from './version.js';

/** Build the commander program (exported for tests and for embedding). */
export function buildProgram(): Command {
  const program = new Command('samlite')
    .description('Segment Anything on the command line: EfficientSAM, MobileSAM, SAM ViT-B and FastSAM on onnxruntime')
    // main() answers the version flags itself (for --verbose); this lists them in --help.
    .version(`samlite ${SAMLITE_VERSION}`, '-v, --version', 'print the samlite version (-V too)')
    .option(VERBOSE_FLAG, 'with --version: also the versions of onnxruntime, sharp and Node')
    .showSuggestionAfterError()
    // Help and version text go through writeStdout, so a reader that closes the pipe ends
    // the run quietly instead of crashing it.
    .configureOutput({ writeOut: (str) => writeStdout(str), outputError: (str, write) => write(str) })
    .addHelpText(
      'after',
      `
Examples:
  $ samlite segment photo.jpg --point 120,80            mask for the object under (120,80)
  $ samlite everything photos/ --grid 32 --out masks/   every mask of every image in a folder
  $ samlite models pull efficientsam-s                  download and verify a model
  $ find shots -name '*.jpg' | samlite everything - --json | jq .masks

Exit codes: 0 success, 1 some inputs failed, 2 usage or configuration error,
130 interrupted (143 by SIGTERM), 141 stdout closed by its reader.`,
    );
  program.exitOverride();
  registerSegmentCommand(program);
  registerEverythingCommand(program);
  registerMergeCommand(program);
  registerServeCommand(program);
  registerModelsCommand(program);
  applyOptionRanges(program);
  return program;
}

/** Run the CLI with `argv` (as process.argv); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  watchStdout((message) => createUi().error(message));
  return exitCodeAfterStdout(await run(argv));
}

/** The command's own exit code, before stdout's fate is taken into account. */
async function run(argv: string[]): Promise<number> {
  const args = argv.slice(2);
  if (asksForVersion(args)) {
    writeStdout(await versionText(args.includes(VERBOSE_FLAG)));
    return 0;
  }
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; commander has already printed its one-line usage error.
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    const ui = createUi();
    ui.error(oneLine(err));
    return err instanceof SamliteError ? err.exitCode : EXIT_USAGE;
  }
}
