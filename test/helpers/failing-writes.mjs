// Preloaded (node --import) into bin/samlite by tests of writes that fail mid-run: after the
// first $FAIL_WRITES_AFTER (default 0) whole-file writes of temporary output files (samlite's
// `.<name>.<pid>.<random>.partial`) whose path contains $FAIL_WRITES_MATCH (default: any),
// every such write fails with the errno $FAIL_WRITES_CODE (default ENOSPC, as a full disk
// fails it). Streams (coco.json) and every other file operation are untouched.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const allowed = Number(process.env.FAIL_WRITES_AFTER ?? '0');
const match = process.env.FAIL_WRITES_MATCH ?? '';
const code = process.env.FAIL_WRITES_CODE ?? 'ENOSPC';
const writeFile = fs.promises.writeFile;
let writes = 0;
fs.promises.writeFile = async (path, ...rest) => {
  if (String(path).endsWith('.partial') && String(path).includes(match) && ++writes > allowed) {
    throw Object.assign(new Error(`${code}: simulated failure, write`), { code, syscall: 'write' });
  }
  return writeFile(path, ...rest);
};
// Let `import { writeFile } from 'node:fs/promises'` see the replacement too.
syncBuiltinESMExports();
