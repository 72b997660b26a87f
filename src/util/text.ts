/**
 * Text inputs (prompts and detection files, label and class-name files, stdin) as people's
 * tools write them: UTF-8, sometimes led by a byte-order mark. Windows editors and
 * PowerShell's `Out-File -Encoding utf8` write one; JSON.parse refuses it, so every text
 * input is read through here.
 */
import { readFile } from 'node:fs/promises';
import { UsageError, oneLine } from './errors.js';

const BYTE_ORDER_MARK = '\uFEFF';

/** `text` without a leading UTF-8 byte-order mark. */
export function stripBom(text: string): string {
  return text.startsWith(BYTE_ORDER_MARK) ? text.slice(1) : text;
}

/** A file's text, decoded as UTF-8, without a leading byte-order mark (errors are fs errors, as readFile's). */
export async function readTextFile(path: string): Promise<string> {
  return stripBom(await readFile(path, 'utf8'));
}

/**
 * A text file the user named (`what`: `prompts file`, `COCO file`), as {@link readTextFile};
 * one that cannot be read is a UsageError naming it: nothing can run without it.
 */
export async function readTextInput(path: string, what: string): Promise<string> {
  try {
    return await readTextFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'ENOENT' ? `no such ${what}` : oneLine(err)}`);
  }
}

/** Everything a stream gives, decoded as UTF-8, without a leading byte-order mark. */
export async function readStreamText(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return stripBom(Buffer.concat(chunks).toString('utf8'));
}
