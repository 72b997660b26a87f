// Preloaded (node --import) into bin/samlite by startSamliteWithClosedStdout: holds the
// process here, before samlite's first line runs, until the test ends stdin, which it does
// only once it has closed its end of stdout. Every write samlite makes then meets a closed
// pipe: ordered by events, not by timing.
import { readFileSync } from 'node:fs';

readFileSync(0);
