/**
 * The store's settings file, `<store>/config.json`. It holds the default model set with
 * `samlite models default`; living in the store keeps one SAMLITE_HOME self-contained.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UsageError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { configPath, storeDir } from './paths.js';
import type { StoreOptions } from './types.js';

const configSchema = z
  .object({
    /** A model name or an absolute manifest path. */
    defaultModel: z.string().min(1).optional(),
  })
  .loose();

/** Contents of config.json. */
export type StoreConfig = z.infer<typeof configSchema>;

/** Read config.json; a missing file is an empty config, a broken one a usage error naming it. */
export function readConfig(options: StoreOptions = {}): StoreConfig {
  const path = configPath(storeDir(options));
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`config ${path} cannot be read: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UsageError(`config ${path} is not valid JSON; fix or delete it`);
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) throw new UsageError(`config ${path} is invalid: "defaultModel" must be a non-empty string; fix or delete it`);
  return parsed.data;
}

/** Replace config.json atomically, keeping keys this version does not know. */
export async function writeConfig(config: StoreConfig, options: StoreOptions = {}): Promise<void> {
  await writeFileAtomic(configPath(storeDir(options)), `${JSON.stringify(config, null, 2)}\n`);
}
