// Preloaded (node --import) into bin/samlite by tests of writes that fail mid-run: after the
// first $FAIL_WRITES_AFTER (default 0) whole-file writes of temporary output files (samlite's
// `.<name>.<pid>.<random>.partial`) whose path contains $FAIL_WRITES_MATCH (default: any),
// every such write fails with the errno $FAIL_WRITES_CODE (default ENOSPC, as a full disk
// fails it). A whole file is written either by writeFile or, in pieces, through a handle
// from fs.promises.open (the SA-1B JSON): both count, and both fail. Streams (coco.json)
// and every other file operation are untouched.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const allowed = Number(process.env.FAIL_WRITES_AFTER ?? '0');
const match = process.env.FAIL_WRITES_MATCH ?? '';
const code = process.env.FAIL_WRITES_CODE ?? 'ENOSPC';
const writeFile = fs.promises.writeFile;
const open = fs.promises.open;
let writes = 0;
const failing = (path) => String(path).endsWith('.partial') && String(path).includes(match) && ++writes > allowed;
const failure = () => Object.assign(new Error(`${code}: simulated failure, write`), { code, syscall: 'write' });
fs.promises.writeFile = async (path, ...rest) => {
  if (failing(path)) throw failure();
  return writeFile(path, ...rest);
};
fs.promises.open = async (path, ...rest) => {
  const handle = await open(path, ...rest);
  if (failing(path)) {
    handle.write = async () => {
      throw failure();
    };
    handle.writev = async () => {
      throw failure();
    };
  }
  return handle;
};
// Let `import { writeFile } from 'node:fs/promises'` see the replacement too.
syncBuiltinESMExports();
