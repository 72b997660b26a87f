import type { Command } from 'commander';

export function registerModelsCommand(program: Command): void {
  program.command('models').description('list, pull, verify and remove models');
}
