/**
 * Run the real bin/samlite in a child process, as a user's shell would. Needs `npm run
 * build` first (npm test does it); fails loudly when dist/ is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'samlite');

/** What a finished run printed and returned. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Working directory of the child. */
  cwd: string;
  /** Extra environment; PATH is always passed, nothing else from this process is. */
  env?: Record<string, string>;
  /** Bytes for the child's stdin (closed right after); stdin is empty otherwise. */
  stdin?: string;
}

/** Children started here that have not exited yet. */
const running = new Set<ChildProcess>();

/** Remember `child` until it exits, for {@link killLeftoverRuns}. */
function track(child: ChildProcess): void {
  running.add(child);
  child.on('close', () => running.delete(child));
}

/**
 * Kill (SIGKILL) every child still running: call it after each test, so a run that hangs
 * fails its test at the test's timeout and does not outlive it. No deadline of its own, which
 * a busy machine could pass.
 */
export function killLeftoverRuns(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Throw a clear error when the CLI has not been built. */
export function assertBuilt(): void {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` before these tests');
}

/** `node --import` arguments for preload modules. */
function importArgs(preloads: readonly string[]): string[] {
  return preloads.flatMap((preload) => ['--import', pathToFileURL(preload).href]);
}

/** Start bin/samlite; `done` resolves when it exits. */
export function startSamlite(args: readonly string[], options: CliOptions): { child: ChildProcess; done: Promise<CliRun> } {
  return startDirect(args, options, []);
}

/** {@link startSamlite} with `preloads` given to node and, when `fd3`, a pipe on the child's fd 3. */
function startDirect(args: readonly string[], options: CliOptions, preloads: readonly string[], fd3 = false): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [...importArgs(preloads), BIN, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe', ...(fd3 ? ['pipe' as const] : [])],
  });
  child.stdin!.end(options.stdin ?? '');
  track(child);
  const done = new Promise<CliRun>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

/** Run bin/samlite to completion (asynchronously, so servers in this process keep serving). */
export function runSamlite(args: readonly string[], options: CliOptions): Promise<CliRun> {
  return startSamlite(args, options).done;
}

export interface TtyOptions extends CliOptions {
  /**
   * Width the pseudo-terminal reports (default 120). 0 leaves it at 0 x 0, what `script`
   * gives when started from a non-terminal, as containers and CI consoles report.
   */
  columns?: number;
}

/**
 * Start bin/samlite under a pseudo-terminal (util-linux `script`), where stdout and stderr
 * merge into `stdout`. Bytes written to the child's stdin reach the terminal, so "\x03" is
 * a Ctrl-C typed at it; end stdin when done.
 */
export function startSamliteOnTty(args: readonly string[], options: TtyOptions): { child: ChildProcess; done: Promise<CliRun> } {
  return startOnTty(args, options, []);
}

/** {@link startSamliteOnTty} with `preloads` given to node and, when `fd3`, a pipe on the child's fd 3 (script passes it on). */
function startOnTty(args: readonly string[], options: TtyOptions, preloads: readonly string[], fd3 = false): { child: ChildProcess; done: Promise<CliRun> } {
  const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
  const columns = options.columns ?? 120;
  const size = columns > 0 ? `stty cols ${columns} rows 40; ` : '';
  const command = [process.execPath, ...importArgs(preloads), BIN, ...args];
  const child = spawn('script', ['-qec', `${size}exec ${command.map(quote).join(' ')}`, '/dev/null'], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', TERM: 'xterm', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe', ...(fd3 ? ['pipe' as const] : [])],
  });
  track(child);
  const done = new Promise<CliRun>((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
  });
  return { child, done };
}

/** Run under a pseudo-terminal (see {@link startSamliteOnTty}) with nothing typed at it. */
export function runSamliteOnTty(args: readonly string[], options: TtyOptions): Promise<CliRun> {
  const { child, done } = startSamliteOnTty(args, options);
  child.stdin!.end();
  return done;
}

/** Preload that holds one image read until a signal (see the file). */
const HOLD_IMAGE_READ = join(import.meta.dirname, 'hold-image-read.mjs');

/** Where {@link startSamliteHeld} holds a run. */
export interface HoldOptions {
  /** Which of the run's image reads to hold, from 1 (with one image in flight at a time, the n-th image). */
  holdImageRead: number;
}

/** A run held at one image read until it gets SIGINT or SIGTERM. */
export interface HeldRun {
  child: ChildProcess;
  done: Promise<CliRun>;
  /** Settles with the path of the image whose read is held; rejects if the run ends before. */
  held: Promise<string>;
}

/**
 * Start bin/samlite with its n-th image read held (hold-image-read.mjs) until the process
 * gets SIGINT or SIGTERM. Send the signal once `held` settles: it then lands, however busy
 * the machine, with the images before done, that one in flight and the rest not started.
 */
export function startSamliteHeld(args: readonly string[], options: CliOptions & HoldOptions): HeldRun {
  return heldRun(startDirect(args, holdEnv(options), [HOLD_IMAGE_READ], true));
}

/** {@link startSamliteHeld} under a pseudo-terminal (see {@link startSamliteOnTty}): type the Ctrl-C once `held` settles. */
export function startSamliteOnTtyHeld(args: readonly string[], options: TtyOptions & HoldOptions): HeldRun {
  return heldRun(startOnTty(args, holdEnv(options), [HOLD_IMAGE_READ], true));
}

function holdEnv<O extends CliOptions & HoldOptions>(options: O): O {
  return { ...options, env: { ...options.env, HOLD_IMAGE_READ: String(options.holdImageRead) } };
}

/** Watch fd 3 of a run started with the hold preload for its "holding <path>" line. */
function heldRun({ child, done }: { child: ChildProcess; done: Promise<CliRun> }): HeldRun {
  const held = new Promise<string>((resolve, reject) => {
    let said = '';
    child.stdio[3]!.on('data', (chunk: Buffer) => {
      // What has come so far, not this chunk alone: a line may arrive in pieces.
      said += chunk.toString();
      const line = /^holding (.*)\n/m.exec(said);
      if (line) resolve(line[1]);
    });
    // After a resolve this changes nothing.
    void done.then((run) => reject(new Error(`samlite exited (${run.code}) before its held image read:\n${run.stderr}${run.stdout}`)));
  });
  return { child, done, held };
}

/** Parse stdout as JSON lines. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * Start bin/samlite with the reader of its stdout already gone: the child waits (see
 * stdin-gate.mjs) until this end of its stdout pipe is closed, so its first write to stdout
 * fails with EPIPE, deterministically. stdin is used for the gate: samlite reads it empty.
 */
export function startSamliteWithClosedStdout(args: readonly string[], options: Omit<CliOptions, 'stdin'>): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [...importArgs([join(import.meta.dirname, 'stdin-gate.mjs')]), BIN, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdout!.on('close', () => child.stdin!.end());
  child.stdout!.destroy();
  track(child);
  const done = new Promise<CliRun>((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: '', stderr }));
  });
  return { child, done };
}
