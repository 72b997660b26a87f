/**
 * `--shard auto`: this process's shard read from the task index a batch scheduler puts in
 * the environment, so one command line serves every task of an array job.
 *
 * | scheduler | index (becomes k = index + 1 - first) | count (n) |
 * | --- | --- | --- |
 * | Kubernetes Indexed Job | JOB_COMPLETION_INDEX, from 0 | `auto/N` or SAMLITE_SHARD_COUNT (Kubernetes does not export `completions`) |
 * | Slurm job array | SLURM_ARRAY_TASK_ID, from SLURM_ARRAY_TASK_MIN in steps of SLURM_ARRAY_TASK_STEP | SLURM_ARRAY_TASK_COUNT |
 * | AWS Batch array job | AWS_BATCH_JOB_ARRAY_INDEX, from 0 | AWS_BATCH_JOB_ARRAY_SIZE |
 * | GNU parallel | PARALLEL_SEQ, from 1 | `auto/N` or SAMLITE_SHARD_COUNT (parallel does not export the number of jobs) |
 *
 * GNU parallel's PARALLEL_JOBSLOT is not used: a slot is reused by the next job once one
 * finishes, so two jobs of one run can share it; only PARALLEL_SEQ names a job.
 */
import { UsageError } from '../util/errors.js';
import { MAX_SHARDS, SHARD_RANGE, parseShard, type Shard } from './shard.js';

/** What `--shard auto` or `--shard auto/N` asked for. */
export interface AutoShard {
  readonly auto: true;
  /** N of `auto/N`, when given. */
  readonly count?: number;
}

/** What `--shard` accepts, in words. */
export const SHARD_OPTION_RANGE = `${SHARD_RANGE}; or auto (from the scheduler's environment), or auto/n`;

/** Parse `--shard`: `k/n`, `auto` or `auto/n`. */
export function parseShardOption(text: string, flag = '--shard'): Shard | AutoShard {
  const wrong = () => new UsageError(`${flag} ${JSON.stringify(text)}: expected ${SHARD_OPTION_RANGE}`);
  const m = /^auto(?:\/(\d+))?$/.exec(text.trim());
  if (!m) {
    try {
      return parseShard(text);
    } catch {
      // parseShard's message names only k/n: restate the whole range, under this flag.
      throw wrong();
    }
  }
  if (m[1] === undefined) return { auto: true };
  const count = Number(m[1]);
  if (count < 1 || count > MAX_SHARDS) throw wrong();
  return { auto: true, count };
}

/** A resolved shard and where it came from, for the log line. */
export interface SchedulerShard {
  readonly shard: Shard;
  /** `Slurm job array (SLURM_ARRAY_TASK_ID=7, SLURM_ARRAY_TASK_MIN=5, SLURM_ARRAY_TASK_COUNT=3)` */
  readonly source: string;
}

/** The variable naming the shard count for schedulers that do not export it. */
const SHARD_COUNT_VARIABLE = 'SAMLITE_SHARD_COUNT';

interface Scheduler {
  readonly name: string;
  /** The variable whose presence means "running as one task of this scheduler". */
  readonly indexVariable: string;
  /** k and n from the environment (and `auto/N`), or a UsageError naming what is wrong. */
  resolve(env: NodeJS.ProcessEnv, given: number | undefined, fail: (message: string) => never): { index: number; count: number; used: string[] };
}

/**
 * A whole number read from `env[name]` in decimal digits, at least `min`; undefined when
 * unset. Number() alone would take `0x1`, `2e0`, `0b1` or `+1`: schedulers write plain
 * digits, so anything else is a mistake to refuse, not a shard to guess.
 */
function integerVariable(env: NodeJS.ProcessEnv, name: string, min: number, fail: (message: string) => never): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min) fail(`${name}=${JSON.stringify(raw)} is not a whole number >= ${min} in decimal digits`);
  return value;
}

/**
 * The count for schedulers that do not export it: `auto/N`, else SAMLITE_SHARD_COUNT; both
 * given must agree.
 */
function countFromUser(env: NodeJS.ProcessEnv, given: number | undefined, scheduler: string, fail: (message: string) => never): { count: number; used: string[] } {
  const fromEnv = integerVariable(env, SHARD_COUNT_VARIABLE, 1, fail);
  if (given !== undefined && fromEnv !== undefined && given !== fromEnv) {
    fail(`auto/${given} and ${SHARD_COUNT_VARIABLE}=${fromEnv} disagree on the number of shards`);
  }
  const count = given ?? fromEnv;
  if (count === undefined) {
    fail(`${scheduler} does not tell the number of tasks: give it as --shard auto/N or in ${SHARD_COUNT_VARIABLE}`);
  }
  return { count, used: fromEnv !== undefined ? [`${SHARD_COUNT_VARIABLE}=${fromEnv}`] : [] };
}

/** A count from the scheduler, checked against `auto/N` when that was given too. */
function agree(count: number, variable: string, given: number | undefined, fail: (message: string) => never): void {
  if (given !== undefined && given !== count) fail(`--shard auto/${given} disagrees with ${variable}=${count}`);
}

const SCHEDULERS: readonly Scheduler[] = [
  {
    name: 'Kubernetes Indexed Job',
    indexVariable: 'JOB_COMPLETION_INDEX',
    resolve(env, given, fail) {
      const index = integerVariable(env, 'JOB_COMPLETION_INDEX', 0, fail)!;
      const { count, used } = countFromUser(env, given, 'a Kubernetes Indexed Job', fail);
      return { index: index + 1, count, used: [`JOB_COMPLETION_INDEX=${index}`, ...used] };
    },
  },
  {
    name: 'Slurm job array',
    indexVariable: 'SLURM_ARRAY_TASK_ID',
    resolve(env, given, fail) {
      const id = integerVariable(env, 'SLURM_ARRAY_TASK_ID', 0, fail)!;
      const min = integerVariable(env, 'SLURM_ARRAY_TASK_MIN', 0, fail);
      const count = integerVariable(env, 'SLURM_ARRAY_TASK_COUNT', 1, fail);
      if (min === undefined || count === undefined) return fail('SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT are not (Slurm sets all three in an array task)');
      const step = integerVariable(env, 'SLURM_ARRAY_TASK_STEP', 1, fail) ?? 1;
      const max = integerVariable(env, 'SLURM_ARRAY_TASK_MAX', 0, fail);
      // Shards are positions in MIN, MIN+STEP, ...: a list such as --array=1,2,9 has none.
      const span = max === undefined ? count : Math.floor((max - min) / step) + 1;
      if (id < min || (id - min) % step !== 0 || span !== count) {
        fail(
          `SLURM_ARRAY_TASK_ID=${id} is not one of ${count} ids from SLURM_ARRAY_TASK_MIN=${min} in steps of ${step}` +
            `${max === undefined ? '' : ` up to SLURM_ARRAY_TASK_MAX=${max}`}: submit the array as a range (--array=${min}-${min + (count - 1) * step}${step > 1 ? `:${step}` : ''})`,
        );
      }
      agree(count, 'SLURM_ARRAY_TASK_COUNT', given, fail);
      const used = [`SLURM_ARRAY_TASK_ID=${id}`, `SLURM_ARRAY_TASK_MIN=${min}`, ...(step > 1 ? [`SLURM_ARRAY_TASK_STEP=${step}`] : []), `SLURM_ARRAY_TASK_COUNT=${count}`];
      return { index: (id - min) / step + 1, count, used };
    },
  },
  {
    name: 'AWS Batch array job',
    indexVariable: 'AWS_BATCH_JOB_ARRAY_INDEX',
    resolve(env, given, fail) {
      const index = integerVariable(env, 'AWS_BATCH_JOB_ARRAY_INDEX', 0, fail)!;
      const size = integerVariable(env, 'AWS_BATCH_JOB_ARRAY_SIZE', 1, fail);
      if (size === undefined) {
        const { count, used } = countFromUser(env, given, 'AWS_BATCH_JOB_ARRAY_SIZE is not set, and so the AWS Batch job', fail);
        return { index: index + 1, count, used: [`AWS_BATCH_JOB_ARRAY_INDEX=${index}`, ...used] };
      }
      agree(size, 'AWS_BATCH_JOB_ARRAY_SIZE', given, fail);
      return { index: index + 1, count: size, used: [`AWS_BATCH_JOB_ARRAY_INDEX=${index}`, `AWS_BATCH_JOB_ARRAY_SIZE=${size}`] };
    },
  },
  {
    name: 'GNU parallel',
    indexVariable: 'PARALLEL_SEQ',
    resolve(env, given, fail) {
      const seq = integerVariable(env, 'PARALLEL_SEQ', 1, fail)!;
      const { count, used } = countFromUser(env, given, 'GNU parallel', fail);
      return { index: seq, count, used: [`PARALLEL_SEQ=${seq}`, ...used] };
    },
  },
];

/**
 * Resolve `--shard auto[/N]` against `env`: exactly one scheduler's task index must be set,
 * and with the count it must give a shard k/n with 1 <= k <= n. Anything missing,
 * malformed, ambiguous or inconsistent is a UsageError naming what was expected.
 */
export function shardFromEnvironment(spec: AutoShard, env: NodeJS.ProcessEnv = process.env): SchedulerShard {
  const present = SCHEDULERS.filter((s) => env[s.indexVariable] !== undefined && env[s.indexVariable] !== '');
  if (present.length === 0) {
    const expected = SCHEDULERS.map((s) => `${s.indexVariable} (${s.name})`).join(', ');
    throw new UsageError(`--shard auto: no task index in the environment; expected one of ${expected}, or give --shard k/n`);
  }
  if (present.length > 1) {
    throw new UsageError(
      `--shard auto: task indices of ${present.length} schedulers are set (${present.map((s) => `${s.indexVariable}, ${s.name}`).join('; ')}); give --shard k/n to say which split is meant`,
    );
  }
  const scheduler = present[0];
  const fail = (message: string): never => {
    throw new UsageError(`--shard auto (${scheduler.name}): ${message}`);
  };
  const { index, count, used } = scheduler.resolve(env, spec.count, fail);
  if (count > MAX_SHARDS) fail(`${count} shards is more than ${MAX_SHARDS}`);
  if (index > count) fail(`${used.join(', ')} makes task ${index} of only ${count}`);
  return { shard: { index, count }, source: `${scheduler.name} (${used.join(', ')})` };
}
