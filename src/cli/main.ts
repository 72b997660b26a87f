import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT_USAGE, SamliteError, oneLine } from '../errors.js';
import { createUi } from './ui.js';
import { registerModelsCommand } from './commands/models.js';
import { registerSegmentCommand } from './commands/segment.js';
import { registerEverythingCommand } from './commands/everything.js';
import { registerMergeCommand } from './commands/merge.js';
import { registerServeCommand } from './commands/serve.js';
import { applyOptionRanges } from './ranges.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Build the commander program (exported for tests and for embedding). */
export function buildProgram(): Command {
  const program = new Command('samlite')
    .description('Segment Anything on the command line: EfficientSAM, MobileSAM and SAM ViT-B on onnxruntime')
    .version(pkg.version, '-V, --version', 'print the samlite version')
    .showSuggestionAfterError()
    .configureOutput({ outputError: (str, write) => write(str) })
    .addHelpText(
      'after',
      `
Examples:
  $ samlite segment photo.jpg --point 120,80            mask for the object under (120,80)
  $ samlite everything photos/ --grid 32 --out masks/   every mask of every image in a folder
  $ samlite models pull efficientsam-s                  download and verify a model
  $ find shots -name '*.jpg' | samlite everything - --json | jq .masks

Exit codes: 0 success, 1 some inputs failed, 2 usage or configuration error,
130 interrupted (143 by SIGTERM).`,
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
