import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // onnxruntime sessions and child-process CLI runs are CPU-heavy on 2 cores. The timeouts
    // only turn a hang into a failure: they are set for a machine loaded by other work (a
    // 60 s limit failed heavy tests at load 20), not as speed targets (npm run bench).
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
