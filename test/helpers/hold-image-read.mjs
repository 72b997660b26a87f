// Preloaded (node --import) into bin/samlite by interrupt tests (startSamliteHeld): holds
// samlite's read of its $HOLD_IMAGE_READ-th image file until the process receives SIGINT or
// SIGTERM, having said "holding <path>" on file descriptor 3, a pipe the test reads. The test
// sends its signal on that line, so the signal always lands while that image is being read:
// the images before it are done, that one is in flight, the rest are not started. Ordered
// by events, not by how fast the machine is.
//
// Image files are the only whole files samlite reads through a FileHandle
// (src/image/source.ts); fs.promises.readFile(path) does not go through
// FileHandle.prototype.readFile, so nothing else is counted. The announced path lets the
// test check that the read held is the image it expects.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const heldRead = Number(process.env.HOLD_IMAGE_READ);
if (!Number.isInteger(heldRead) || heldRead < 1) throw new Error(`hold-image-read.mjs: HOLD_IMAGE_READ must be a read number from 1, got ${process.env.HOLD_IMAGE_READ}`);

const open = fs.promises.open;
/** The path each handle was opened with, for the announcement. */
const paths = new WeakMap();
fs.promises.open = async (path, ...rest) => {
  const handle = await open(path, ...rest);
  paths.set(handle, String(path));
  return handle;
};
// Let `import { open } from 'node:fs/promises'` see the replacement too.
syncBuiltinESMExports();

const probe = await open(new URL(import.meta.url));
const fileHandle = Object.getPrototypeOf(probe);
await probe.close();

/** Settles at the next SIGINT or SIGTERM; listens only meanwhile, beside samlite's own handler. */
function nextSignal() {
  return new Promise((resolve) => {
    // Signal listeners do not keep the event loop alive, and while the read is held nothing
    // else may: without this idle timer (never meant to fire) node would just exit.
    const alive = setInterval(() => undefined, 2 ** 30);
    const release = () => {
      clearInterval(alive);
      process.off('SIGINT', release);
      process.off('SIGTERM', release);
      resolve();
    };
    process.on('SIGINT', release);
    process.on('SIGTERM', release);
  });
}

const readFile = fileHandle.readFile;
let reads = 0;
fileHandle.readFile = async function (...args) {
  if (++reads === heldRead) {
    const signalled = nextSignal();
    fs.writeSync(3, `holding ${paths.get(this) ?? '(unknown path)'}\n`);
    // Both listeners run in one emit, samlite's included; this continues after, as a
    // microtask, so samlite has taken the signal by the time the read goes on.
    await signalled;
  }
  return readFile.apply(this, args);
};
