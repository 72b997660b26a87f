/**
 * Starting a worker thread from one of samlite's own modules. Built, the module is a .js
 * file next to its caller. Run from the TypeScript sources (tests, tsx scripts) there is
 * only the .ts file, which Node 20 cannot load in a worker by itself: a small bootstrap
 * registers tsx in the worker first (loader hooks are per thread in Node 20).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * A worker running the module `built` (a `.js` URL, resolved beside the caller with
 * `new URL('./x.js', import.meta.url)`), or its `.ts` source through tsx when it is not built.
 */
export function startModuleWorker(built: URL, name: string): Worker {
  const options = { name, execArgv: [] };
  if (existsSync(fileURLToPath(built))) return new Worker(built, options);
  const source = new URL(built.href.replace(/\.js$/, '.ts'));
  const tsxApi = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs'));
  const bootstrap = `const { register } = await import(${JSON.stringify(tsxApi.href)}); register(); await import(${JSON.stringify(source.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), options);
}
