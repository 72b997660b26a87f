import type { Command } from 'commander';
import { UsageError } from '../../errors.js';

export function registerSegmentCommand(program: Command): void {
  program
    .command('segment')
    .description('mask the object under point or box prompts (not implemented yet)')
    .argument('<image...>', 'image files')
    .action(() => {
      throw new UsageError('segment is not implemented yet');
    });
}
