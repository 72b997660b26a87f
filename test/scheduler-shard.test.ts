/**
 * `--shard auto`: the shard each scheduler's environment gives, in simulated environments
 * (the CLI test runs processes with simulated indices over one folder).
 */
import { describe, expect, it } from 'vitest';
import { parseShardOption, shardFromEnvironment } from '../src/batch/scheduler-shard.js';
import { UsageError } from '../src/util/errors.js';

const auto = { auto: true } as const;
const autoOf = (count: number) => ({ auto: true, count }) as const;

describe('--shard parsing', () => {
  it('takes k/n, auto and auto/n', () => {
    expect(parseShardOption('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShardOption('auto')).toEqual({ auto: true });
    expect(parseShardOption('auto/16')).toEqual({ auto: true, count: 16 });
    for (const bad of ['auto/0', 'auto/', 'auto/x', 'automatic', '5/4']) expect(() => parseShardOption(bad), bad).toThrow(UsageError);
  });

  it('takes decimal digits only in k/n and auto/n', () => {
    for (const bad of ['0x1/4', '1/0x4', '2e0/4', '0b1/4', '+1/4', '1/+4', '1.0/4', '1/4.0', 'auto/0x2', 'auto/2e0', 'auto/+2']) {
      expect(() => parseShardOption(bad), bad).toThrow(UsageError);
    }
  });
});

// Every variable a shard is read from takes decimal digits only: Number() alone would read
// AWS_BATCH_JOB_ARRAY_INDEX=0x1 as 1 and run shard 2/4.
describe.each([
  ['JOB_COMPLETION_INDEX', autoOf(4), { SAMLITE_SHARD_COUNT: '4' }],
  ['SAMLITE_SHARD_COUNT', auto, { JOB_COMPLETION_INDEX: '1' }],
  ['SLURM_ARRAY_TASK_ID', auto, { SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '4' }],
  ['SLURM_ARRAY_TASK_MIN', auto, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '4' }],
  ['SLURM_ARRAY_TASK_COUNT', auto, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '0' }],
  ['SLURM_ARRAY_TASK_STEP', auto, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '4' }],
  ['SLURM_ARRAY_TASK_MAX', auto, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '4' }],
  ['AWS_BATCH_JOB_ARRAY_INDEX', auto, { AWS_BATCH_JOB_ARRAY_SIZE: '4' }],
  ['AWS_BATCH_JOB_ARRAY_SIZE', auto, { AWS_BATCH_JOB_ARRAY_INDEX: '1' }],
  ['PARALLEL_SEQ', autoOf(4), {}],
] as const)('%s', (variable, spec, others) => {
  it.each(['0x1', '2e0', '0b1', '+1', '1.0', ' 1', '1 '])('refuses %j', (raw) => {
    let error: unknown;
    try {
      shardFromEnvironment(spec, { ...others, [variable]: raw });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(`${variable}=${JSON.stringify(raw)} is not a whole number >= `);
  });
});

describe.each([
  // [scheduler, spec, environment, expected k/n]
  ['Kubernetes, count from auto/N', autoOf(8), { JOB_COMPLETION_INDEX: '0' }, [1, 8]],
  ['Kubernetes, last index', autoOf(8), { JOB_COMPLETION_INDEX: '7' }, [8, 8]],
  ['Kubernetes, count from SAMLITE_SHARD_COUNT', auto, { JOB_COMPLETION_INDEX: '2', SAMLITE_SHARD_COUNT: '3' }, [3, 3]],
  ['Slurm, --array=1-4', auto, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '4', SLURM_ARRAY_TASK_COUNT: '4' }, [1, 4]],
  ['Slurm, --array=0-3', auto, { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '3', SLURM_ARRAY_TASK_COUNT: '4' }, [4, 4]],
  ['Slurm, --array=5-7 respects SLURM_ARRAY_TASK_MIN', auto, { SLURM_ARRAY_TASK_ID: '6', SLURM_ARRAY_TASK_MIN: '5', SLURM_ARRAY_TASK_MAX: '7', SLURM_ARRAY_TASK_COUNT: '3' }, [2, 3]],
  ['Slurm, --array=10-40:10 (a step)', auto, { SLURM_ARRAY_TASK_ID: '30', SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_MAX: '40', SLURM_ARRAY_TASK_STEP: '10', SLURM_ARRAY_TASK_COUNT: '4' }, [3, 4]],
  ['Slurm, auto/N agreeing', autoOf(4), { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' }, [2, 4]],
  ['AWS Batch', auto, { AWS_BATCH_JOB_ARRAY_INDEX: '0', AWS_BATCH_JOB_ARRAY_SIZE: '10' }, [1, 10]],
  ['AWS Batch, size from auto/N when AWS_BATCH_JOB_ARRAY_SIZE is missing', autoOf(10), { AWS_BATCH_JOB_ARRAY_INDEX: '9' }, [10, 10]],
  ['GNU parallel', autoOf(4), { PARALLEL_SEQ: '3', PARALLEL_JOBSLOT: '1' }, [3, 4]],
  ['GNU parallel, count from SAMLITE_SHARD_COUNT', auto, { PARALLEL_SEQ: '1', SAMLITE_SHARD_COUNT: '2' }, [1, 2]],
] as const)('%s', (_name, spec, env, [index, count]) => {
  it(`is shard ${index}/${count}`, () => {
    const found = shardFromEnvironment(spec, { PATH: '/usr/bin', ...env });
    expect(found.shard).toEqual({ index, count });
    // The log line names every variable k and n came from (MAX only checks; JOBSLOT is unused).
    for (const [key, value] of Object.entries(env)) {
      if (key !== 'PARALLEL_JOBSLOT' && key !== 'SLURM_ARRAY_TASK_MAX') expect(found.source).toContain(`${key}=${value}`);
    }
  });
});

describe.each([
  ['no scheduler at all', auto, {}, /no task index in the environment; expected one of JOB_COMPLETION_INDEX \(Kubernetes Indexed Job\), SLURM_ARRAY_TASK_ID \(Slurm job array\), AWS_BATCH_JOB_ARRAY_INDEX \(AWS Batch array job\), PARALLEL_SEQ \(GNU parallel\)/],
  ['Kubernetes without a count', auto, { JOB_COMPLETION_INDEX: '1' }, /\(Kubernetes Indexed Job\): .* give it as --shard auto\/N or in SAMLITE_SHARD_COUNT/],
  ['Kubernetes index past the count', autoOf(4), { JOB_COMPLETION_INDEX: '4' }, /JOB_COMPLETION_INDEX=4 makes task 5 of only 4/],
  ['Kubernetes, auto/N and SAMLITE_SHARD_COUNT disagreeing', autoOf(4), { JOB_COMPLETION_INDEX: '0', SAMLITE_SHARD_COUNT: '5' }, /auto\/4 and SAMLITE_SHARD_COUNT=5 disagree/],
  ['a malformed index', autoOf(4), { JOB_COMPLETION_INDEX: 'two' }, /JOB_COMPLETION_INDEX="two" is not a whole number >= 0/],
  ['Slurm without MIN and COUNT', auto, { SLURM_ARRAY_TASK_ID: '3' }, /SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT are not/],
  ['Slurm, a list of ids (--array=1,2,9)', auto, { SLURM_ARRAY_TASK_ID: '9', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '9', SLURM_ARRAY_TASK_COUNT: '3' }, /not one of 3 ids from SLURM_ARRAY_TASK_MIN=1 in steps of 1 up to SLURM_ARRAY_TASK_MAX=9: submit the array as a range \(--array=1-3\)/],
  ['Slurm, auto/N disagreeing with the count', autoOf(8), { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' }, /--shard auto\/8 disagrees with SLURM_ARRAY_TASK_COUNT=4/],
  ['AWS Batch without a size', auto, { AWS_BATCH_JOB_ARRAY_INDEX: '0' }, /AWS_BATCH_JOB_ARRAY_SIZE is not set/],
  ['GNU parallel running more jobs than shards', autoOf(4), { PARALLEL_SEQ: '5' }, /PARALLEL_SEQ=5 makes task 5 of only 4/],
  ['two schedulers at once (parallel inside a Slurm array task)', autoOf(4), { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4', PARALLEL_SEQ: '2' }, /task indices of 2 schedulers are set .*; give --shard k\/n/],
] as const)('%s', (_name, spec, env, message) => {
  it('is a usage error naming what was expected', () => {
    let error: unknown;
    try {
      shardFromEnvironment(spec, env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/^--shard auto/);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });
});
