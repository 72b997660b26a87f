/**
 * Where a benchmark ran: CPU, cores, memory, Node, onnxruntime-node, OS, and the commit
 * (with whether the checkout had uncommitted changes to the code being measured).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';

/** Machine and code identification for the report. */
export interface MachineInfo {
  readonly cpu: string;
  readonly logicalCores: number;
  readonly ramGB: number;
  readonly node: string;
  readonly onnxruntimeNode: string;
  readonly sharp: string;
  readonly os: string;
  /** 1, 5 and 15-minute load averages when the bench started. */
  readonly loadAtStart: readonly number[];
  readonly commit: string;
  /** Uncommitted changes anywhere in the checkout. */
  readonly dirty: boolean;
  /** Uncommitted or untracked paths under src/ (the measured code), if any. */
  readonly dirtySrc: readonly string[];
}

function git(root: string, args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

function packageVersion(root: string, name: string): string {
  try {
    const require = createRequire(join(root, 'package.json'));
    const main = require.resolve(name);
    // Walk up from the entry point to the package's own package.json.
    for (let dir = dirname(main); dir !== dirname(dir); dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version ?? 'unknown';
      } catch {
        // no package.json at this level
      }
    }
  } catch {
    // not installed
  }
  return 'unknown';
}

/** Reads the machine and the checkout at `root`. */
export function machineInfo(root: string): MachineInfo {
  const status = git(root, ['status', '--porcelain']);
  const lines = status ? status.split('\n') : [];
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    logicalCores: cpus().length,
    ramGB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    onnxruntimeNode: packageVersion(root, 'onnxruntime-node'),
    sharp: packageVersion(root, 'sharp'),
    os: `${platform()} ${release()} ${arch()}`,
    loadAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    commit: git(root, ['rev-parse', 'HEAD']) || 'unknown',
    dirty: lines.length > 0,
    dirtySrc: lines.map((l) => l.slice(3)).filter((p) => p.startsWith('src/')),
  };
}
