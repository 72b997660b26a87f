import type { Command } from 'commander';
import { UsageError } from '../../errors.js';

export function registerEverythingCommand(program: Command): void {
  program
    .command('everything')
    .description('every mask of every image, by the automatic mask generator (not implemented yet)')
    .argument('<input...>', 'images, folders, globs, or - for paths on stdin')
    .action(() => {
      throw new UsageError('everything is not implemented yet');
    });
}
