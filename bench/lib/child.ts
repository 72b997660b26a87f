/**
 * The command line as a user runs it: `bin/samlite` in a child process, timed from spawn
 * to exit (Node start-up, imports, model load, work, writes), with its peak resident
 * memory read by GNU time (`%M`, the child's max RSS) when /usr/bin/time exists, else by
 * polling /proc while it runs.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { round1, round2 } from './util.js';

/** One CLI run. */
export interface CliRun {
  readonly args: readonly string[];
  readonly code: number | null;
  readonly wallMs: number;
  /** Peak resident set size of the node process, MB. */
  readonly maxRssMB: number | undefined;
  /** How max RSS was read. */
  readonly rssSource: 'gnu-time' | 'proc-poll' | 'none';
  readonly load: readonly number[];
  /** Last lines of stderr (errors, the summary line). */
  readonly stderrTail: string;
}

const GNU_TIME = '/usr/bin/time';

/**
 * Peak resident set size of the running process `pid` so far (VmHWM), in KiB; undefined
 * when it cannot be read (the process is gone, or no /proc). Also the soak's memory probe.
 */
export function procRssKB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `bin/samlite <args>` with a private store (`SAMLITE_HOME=<tmp>/home`) so nothing of
 * the user's store, config or cache is read or written.
 */
export async function runSamlite(root: string, tmp: string, args: readonly string[]): Promise<CliRun> {
  const home = join(tmp, 'home');
  mkdirSync(home, { recursive: true });
  const timeFile = join(tmp, `time-${process.pid}.txt`);
  rmSync(timeFile, { force: true });
  const useTime = existsSync(GNU_TIME);
  const node = [process.execPath, join(root, 'bin', 'samlite'), ...args];
  const [cmd, ...cmdArgs] = useTime ? [GNU_TIME, '-f', '%M', '-o', timeFile, ...node] : node;
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmp, SAMLITE_HOME: home };
  const before = loadavg()[0];
  const t = performance.now();
  const child = spawn(cmd, cmdArgs, { cwd: tmp, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let polledKB: number | undefined;
  const poll = useTime
    ? undefined
    : setInterval(() => {
        const kb = child.pid ? procRssKB(child.pid) : undefined;
        if (kb !== undefined) polledKB = Math.max(polledKB ?? 0, kb);
      }, 50);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const wallMs = performance.now() - t;
  if (poll) clearInterval(poll);
  let maxRssMB: number | undefined;
  if (useTime && existsSync(timeFile)) {
    const kb = Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop());
    if (Number.isFinite(kb)) maxRssMB = round1(kb / 1024);
  } else if (polledKB !== undefined) {
    maxRssMB = round1(polledKB / 1024);
  }
  return {
    args,
    code,
    wallMs: round1(wallMs),
    maxRssMB,
    rssSource: maxRssMB === undefined ? 'none' : useTime ? 'gnu-time' : 'proc-poll',
    load: [round2(before), round2(loadavg()[0])],
    stderrTail: stderr.trim().split('\n').slice(-3).join('\n'),
  };
}
