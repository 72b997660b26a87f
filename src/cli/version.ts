/**
 * `samlite --version` (`-v`, `-V`): `samlite 0.1.0`, as npm CLIs print it; with `--verbose`
 * also the versions of the native parts a bug report needs: onnxruntime, sharp and libvips,
 * Node.
 */
import { readFileSync } from 'node:fs';

/** samlite's own version, from its package.json. */
export const SAMLITE_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The flags that ask for the version. */
export const VERSION_FLAGS: ReadonlySet<string> = new Set(['-v', '-V', '--version']);

/** The flag that adds the native libraries' versions to `--version`. */
export const VERBOSE_FLAG = '--verbose';

/**
 * True when the command line asks for the version and nothing else: a version flag, and
 * only version flags and `--verbose` besides.
 */
export function asksForVersion(args: readonly string[]): boolean {
  return args.some((a) => VERSION_FLAGS.has(a)) && args.every((a) => VERSION_FLAGS.has(a) || a === VERBOSE_FLAG);
}

/** The version text, one `name version` per line, ending with a newline. */
export async function versionText(verbose: boolean): Promise<string> {
  const lines = [`samlite ${SAMLITE_VERSION}`];
  if (verbose) {
    // Loaded only here: the native runtime costs every start of the CLI.
    const [{ env }, { default: sharp }] = await Promise.all([import('onnxruntime-node'), import('sharp')]);
    lines.push(`onnxruntime ${env.versions.node ?? env.versions.common}`, `sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips})`, `node ${process.versions.node}`);
  }
  return `${lines.join('\n')}\n`;
}
