/**
 * Opening a model that fails part-way leaves nothing open: every session the pipeline
 * opened before the failure is released (in worker mode, with its worker thread).
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ModelSession } from '../src/families/session.js';
import { Segmenter, type ModelToOpen } from '../src/segmenter/segmenter.js';
import { resolveModel } from '../src/store/resolve.js';

// stat() of a model file fails for the paths in failStat: a file removed or unreadable
// between the caller's check and the pipeline's cache identity.
const { failStat } = vi.hoisted(() => ({ failStat: new Set<string>() }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    stat: async (path: string, ...rest: []) => {
      if (failStat.has(String(path))) throw Object.assign(new Error(`EACCES: simulated failure, stat '${path}'`), { code: 'EACCES' });
      return real.stat(path, ...rest);
    },
  };
});

/** Counts the sessions opened and released while `body` runs. */
async function sessionsLeftOpen(body: () => Promise<unknown>): Promise<number> {
  const realOpen = ModelSession.open.bind(ModelSession);
  let open = 0;
  const spy = vi.spyOn(ModelSession, 'open').mockImplementation(async (...args) => {
    const session = await realOpen(...args);
    open++;
    const release = session.release.bind(session);
    session.release = async () => {
      open--;
      await release();
    };
    return session;
  });
  try {
    await body();
  } finally {
    spy.mockRestore();
  }
  return open;
}

let builtin: ModelToOpen;
let builtinFastSam: ModelToOpen;
beforeAll(async () => {
  [builtin, builtinFastSam] = await Promise.all([resolveModel('builtin'), resolveModel('builtin-fastsam')]);
});
afterEach(() => failStat.clear());

describe('a model file whose stat fails at open', () => {
  it.each(['main', 'worker'] as const)('prompt family (%s): the error, and no session left open', async (inference) => {
    failStat.add(builtin.files.encoder!);
    const left = await sessionsLeftOpen(async () => {
      await expect(Segmenter.open(builtin, { inference })).rejects.toMatchObject({ code: 'EACCES' });
    });
    expect(left).toBe(0);
  });

  it.each(['main', 'worker'] as const)('FastSAM (%s): the error, and no session left open', async (inference) => {
    failStat.add(builtinFastSam.files.model!);
    const left = await sessionsLeftOpen(async () => {
      await expect(Segmenter.open(builtinFastSam, { inference })).rejects.toMatchObject({ code: 'EACCES' });
    });
    expect(left).toBe(0);
  });
});
