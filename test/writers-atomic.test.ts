import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MaskRecord } from '../src/masks/record.js';
import { maskToRle } from '../src/masks/rle.js';
import { writeEverythingOutputs } from '../src/writers/everything.js';
import { OutputError, UsageError } from '../src/util/errors.js';
import { assertFolderUsable, assertOutputsWritable, writeOutputFile } from '../src/writers/files.js';
import { writeLabelMap } from '../src/writers/labels.js';
import { everythingOutputPaths } from '../src/writers/naming.js';
import { writePng } from '../src/writers/png.js';
import { writeStreamAtomic } from '../src/util/atomic-write.js';
import { linkDatasetImage } from '../src/datasets/yolo-seg.js';

// Simulate a disk error at the rename step for any final path containing "boom": the
// temporary file has been written by then, so this is the case that must clean up. At that
// moment the temporary file must be registered for the interrupt handler: `seen` records
// whether it was.
const seen = vi.hoisted(() => ({ registered: [] as boolean[] }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    rename: async (from: string, to: string) => {
      if (String(to).includes('boom')) {
        const { inFlightTempFiles } = await import('../src/util/atomic-write.js');
        seen.registered.push(inFlightTempFiles().has(String(from)));
        throw Object.assign(new Error(`EIO: simulated failure renaming to ${to}`), { code: 'EIO' });
      }
      return real.rename(from, to);
    },
  };
});

const W = 16;
const H = 12;
const mask = { width: W, height: H, data: new Uint8Array(W * H).map((_, i) => (i % 5 === 0 ? 1 : 0)) };
const rec: MaskRecord = {
  rle: maskToRle(mask),
  area: 0,
  bbox: [0, 0, 0, 0],
  predictedIou: 0.9,
  stabilityScore: 0.97,
  pointCoords: [[1, 1]],
  cropBox: [0, 0, W, H],
};
const image = { width: W, height: H, data: new Uint8Array(W * H * 3).fill(90) };

async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

describe('atomic writes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'samlite-atomic-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a write that fails at the rename leaves neither the final file nor its temporary file', async () => {
    const sub = join(dir, 'a');
    await expect(writeOutputFile(join(sub, 'boom.json'), '{"x":1}')).rejects.toThrow(/simulated/);
    expect(await entries(sub)).toEqual([]);
    await expect(writeLabelMap(join(sub, 'boom.labels.png'), W, H, [rec])).rejects.toThrow(/simulated/);
    expect(await entries(sub)).toEqual([]);
  });

  it('a write that fails before any byte is written creates nothing', async () => {
    const sub = join(dir, 'b');
    const bad = { width: 4, height: 4, channels: 1 as const, data: new Uint8Array(3) };
    await expect(writePng(join(sub, 'x.png'), bad)).rejects.toThrow(/expected 4x4x1/);
    await expect(stat(join(sub, 'x.png'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('creates missing parent folders and leaves only finished files', async () => {
    const path = join(dir, 'c', 'deep', 'er', 'x.json');
    await writeOutputFile(path, '{}');
    expect(await entries(join(dir, 'c'))).toEqual(['deep', join('deep', 'er'), join('deep', 'er', 'x.json')]);
  });

  it('a failing format stops the image: earlier files stay whole, the failed one and later ones do not exist', async () => {
    const target = { input: 'boom.jpg', outDir: join(dir, 'd') };
    // json is written first; its rename fails because the name contains "boom".
    await expect(writeEverythingOutputs(image, [rec], target, ['json', 'labels'])).rejects.toThrow(/simulated/);
    expect(await entries(join(dir, 'd'))).toEqual([]);

    const ok = { input: 'fine.jpg', outDir: join(dir, 'e') };
    const paths = everythingOutputPaths(ok);
    // A non-empty folder where the label map should go makes that rename fail for real.
    await mkdir(paths.labels, { recursive: true });
    await writeFile(join(paths.labels, 'keep'), 'x');
    await expect(writeEverythingOutputs(image, [rec], ok, ['json', 'labels', 'overlay'], { overwrite: true })).rejects.toThrow();
    expect(await entries(join(dir, 'e'))).toEqual(['fine.json', 'fine.labels.png', join('fine.labels.png', 'keep')]);
    expect((await stat(paths.labels)).isDirectory()).toBe(true);
  });
});

describe('streamed atomic writes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'samlite-stream-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a temporary file that cannot be opened rejects the write (no uncaught error) and leaves nothing', async () => {
    // The final name fits the file system's limit; the temporary name beside it does not.
    const sub = join(dir, 'long');
    const final = join(sub, `${'n'.repeat(240)}.json`);
    const write = writeStreamAtomic(final, async (write) => {
      await write('[');
      // produce awaiting its source (as the dataset writers do) while the open fails: it
      // yields a turn of the event loop at a time until the failure has arrived, which
      // the next write then reports (an empty write adds nothing to the file).
      for (;;) {
        await new Promise((r) => setImmediate(r));
        await write('');
      }
    });
    await expect(write).rejects.toMatchObject({ code: 'ENAMETOOLONG' });
    expect(await entries(sub)).toEqual([]);
  });

  it('a large file in small chunks neither piles up listeners nor warns', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const final = join(dir, 'big.json');
      const chunk = 'x'.repeat(1024);
      await writeStreamAtomic(final, async (write) => {
        for (let i = 0; i < 4096; i++) await write(chunk);
      });
      // Warnings are emitted on the next tick: let any that are queued through first.
      await new Promise((r) => setImmediate(r));
      expect((await stat(final)).size).toBe(4096 * 1024);
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a stream write failing at the rename leaves nothing, with its temporary file registered until then', async () => {
    const sub = join(dir, 'boom');
    seen.registered.length = 0;
    await expect(writeStreamAtomic(join(sub, 'boom.json'), async (write) => write('{}'))).rejects.toThrow(/simulated/);
    expect(seen.registered).toEqual([true]);
    expect(await entries(sub)).toEqual([]);
  });

  it("a dataset image link's temporary name is registered for the interrupt handler and removed on failure", async () => {
    const sub = join(dir, 'link');
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, 'p.png'), 'pixels');
    seen.registered.length = 0;
    await expect(linkDatasetImage(join(sub, 'images', 'boom.png'), join(sub, 'p.png'))).rejects.toThrow(/simulated/);
    expect(seen.registered).toEqual([true]);
    expect(await entries(join(sub, 'images'))).toEqual([]);
  });
});

describe('output folders', () => {
  it('are checked before any work: a file in the way is named, a missing folder is fine', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'samlite-folder-'));
    await writeFile(join(dir, 'file'), 'x');
    await expect(assertFolderUsable(join(dir, 'new', 'deeper'), '--out')).resolves.toBeUndefined();
    await expect(assertFolderUsable(dir, '--out')).resolves.toBeUndefined();
    await expect(assertFolderUsable(join(dir, 'file'), '--out')).rejects.toThrow(`--out ${join(dir, 'file')}: is a file, not a folder`);
    await expect(assertFolderUsable(join(dir, 'file', 'sub'), '--cache-dir')).rejects.toThrow(
      `--cache-dir ${join(dir, 'file', 'sub')}: ${join(dir, 'file')} is a file, so the folder cannot be created`,
    );
    await expect(assertFolderUsable(join(dir, 'file'), '--out')).rejects.toBeInstanceOf(UsageError);
    await rm(dir, { recursive: true, force: true });
  });

  it('every planned output is checked up front: a folder where a file goes, a file where a folder goes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'samlite-planned-'));
    await mkdir(join(dir, 'coco.json'));
    await writeFile(join(dir, 'samlite-parts'), 'x');
    await expect(assertOutputsWritable(dir, [join(dir, 'a.json'), join(dir, 'new', 'b.json')])).resolves.toBeUndefined();
    await expect(assertOutputsWritable(dir, [join(dir, 'a.json'), join(dir, 'coco.json')])).rejects.toThrow(
      new UsageError(`${join(dir, 'coco.json')} is a folder where samlite writes a file; move it away or choose another --out`),
    );
    await expect(assertOutputsWritable(dir, [join(dir, 'samlite-parts', 'sub', 'x.part.json')])).rejects.toThrow(
      `${join(dir, 'samlite-parts')} is a file where samlite needs a folder (for ${join(dir, 'samlite-parts', 'sub', 'x.part.json')}); move it away or choose another --out`,
    );
    await rm(dir, { recursive: true, force: true });
  });

  it('a write that fails after the checks names the output and says why in words, never the temporary name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'samlite-late-'));
    await mkdir(join(dir, 'coco.json'));
    await writeFile(join(dir, 'samlite-parts'), 'x');
    const folder = writeOutputFile(join(dir, 'coco.json'), '{}', { overwrite: true });
    await expect(folder).rejects.toBeInstanceOf(OutputError);
    await expect(folder).rejects.toMatchObject({ message: `${join(dir, 'coco.json')}: cannot write (it is a folder)`, code: 'EISDIR', exitCode: 1, everyWrite: false });
    await expect(writeOutputFile(join(dir, 'samlite-parts', 'a', 'x.part.json'), '{}')).rejects.toThrow(
      `${join(dir, 'samlite-parts', 'a', 'x.part.json')}: cannot write (${join(dir, 'samlite-parts')} is a file, not a folder)`,
    );
    expect((await readdir(dir)).sort()).toEqual(['coco.json', 'samlite-parts']);
    expect(await readdir(join(dir, 'coco.json'))).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });
});
