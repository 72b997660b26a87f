import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../src/util/errors.js';
import { loadManifest, looksLikeManifestPath } from '../src/store/manifest.js';

const HASH = 'a'.repeat(64);
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'samlite-manifest-'));
  writeFileSync(join(dir, 'encoder.onnx'), 'x');
  writeFileSync(join(dir, 'decoder.onnx'), 'y');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(content: unknown, name = 'my.json'): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const good = {
  name: 'my-sam',
  family: 'sam',
  files: { encoder: { path: 'encoder.onnx' }, decoder: { url: 'https://example.org/decoder.onnx', sha256: HASH.toUpperCase(), size: 16496559 } },
};

describe('loadManifest', () => {
  it('reads the documented shape: local paths against the manifest folder, url files with size and hash', () => {
    const path = write(good);
    const entry = loadManifest(path);
    expect(entry).toMatchObject({ name: 'my-sam', family: 'sam', builtin: false, source: 'manifest', manifestPath: path });
    expect(entry.files.encoder).toEqual({ kind: 'local', path: join(dir, 'encoder.onnx'), size: undefined, sha256: undefined });
    expect(entry.files.decoder).toEqual({ kind: 'remote', url: 'https://example.org/decoder.onnx', size: 16496559, sha256: HASH });
  });

  it('reads a one-file fastsam manifest with its imgsz', () => {
    const path = write({ name: 'my-fastsam', family: 'fastsam', imgsz: 640, files: { model: { path: 'encoder.onnx' } } });
    const entry = loadManifest(path);
    expect(entry).toMatchObject({ name: 'my-fastsam', family: 'fastsam', imgsz: 640 });
    expect(entry.files).toEqual({ model: { kind: 'local', path: join(dir, 'encoder.onnx'), size: undefined, sha256: undefined } });
  });

  it('resolves a relative manifest path against cwd', () => {
    write(good);
    expect(loadManifest('my.json', dir).files.encoder).toMatchObject({ path: join(dir, 'encoder.onnx') });
  });

  it('takes the name from the file name when none is given', () => {
    const path = write({ ...good, name: undefined }, 'tiny-export.json');
    expect(loadManifest(path).name).toBe('tiny-export');
  });

  const bad: [string, unknown, RegExp][] = [
    ['unknown family', { ...good, family: 'yolo' }, /^manifest .*my\.json: family: unknown family "yolo" \(expected "sam", "efficientsam", "sam2" or "fastsam"\)$/],
    ['missing family', { ...good, family: undefined }, /family is missing/],
    ['missing role', { ...good, files: { encoder: good.files.encoder } }, /^manifest .*: files\.decoder is missing \(a sam model has "encoder" and "decoder"\)$/],
    ['fastsam without its model file', { ...good, family: 'fastsam' }, /files\.model is missing \(a fastsam model has "model"\); files\.encoder is not a file of a fastsam model/],
    ['model file on a sam model', { ...good, files: { ...good.files, model: { path: 'encoder.onnx' } } }, /files\.model is not a file of a sam model \(it has "encoder" and "decoder"\)/],
    ['imgsz on a sam model', { ...good, imgsz: 1024 }, /imgsz is only for fastsam models$/],
    ['imgsz not a multiple of 32', { name: 'f', family: 'fastsam', imgsz: 1000, files: { model: { path: 'encoder.onnx' } } }, /imgsz must be a multiple of 32 from 32 to 4096 \(got 1000\)/],
    ['unknown role', { ...good, files: { ...good.files, prompt: { path: 'x' } } }, /files\.prompt is not a file of a sam model \(it has "encoder" and "decoder"\)/],
    ['missing file', { ...good, files: { ...good.files, encoder: { path: 'nope.onnx' } } }, /^manifest .*: encoder file .*nope\.onnx not found$/],
    ['malformed hash', { ...good, files: { ...good.files, decoder: { ...good.files.decoder, sha256: 'abc' } } }, /files\.decoder\.sha256 must be 64 hexadecimal characters, got "abc"/],
    ['url without hash', { ...good, files: { ...good.files, decoder: { url: 'https://example.org/d.onnx', size: 3 } } }, /files\.decoder\.sha256 is missing \(a url file needs its sha256\)/],
    ['url without size', { ...good, files: { ...good.files, decoder: { url: 'https://example.org/d.onnx', sha256: HASH } } }, /files\.decoder\.size is missing/],
    ['bad size', { ...good, files: { ...good.files, decoder: { ...good.files.decoder, size: -4 } } }, /files\.decoder\.size must be a positive number of bytes/],
    ['both path and url', { ...good, files: { ...good.files, encoder: { path: 'encoder.onnx', url: 'https://example.org/e.onnx' } } }, /files\.encoder needs exactly one of "path" or "url"/],
    ['non-http url', { ...good, files: { ...good.files, decoder: { ...good.files.decoder, url: 'ftp://example.org/d.onnx' } } }, /files\.decoder\.url must be an http or https URL/],
    ['catalog name', { ...good, name: 'mobilesam' }, /name "mobilesam" is taken by a catalog model/],
    ['bad name', { ...good, name: '../evil' }, /^manifest .*: name must be/],
    ['not JSON', '{"family": ', /^manifest .*: not valid JSON \(/],
    ['not an object', '[1,2]', /must be a JSON object with "family" and "files"/],
  ];
  for (const [label, content, message] of bad) {
    it(`rejects a manifest with ${label} in one line`, () => {
      const path = write(content);
      let error: unknown;
      try {
        loadManifest(path);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain(path);
      expect((error as Error).message).not.toContain('\n');
    });
  }

  it('names a manifest that does not exist', () => {
    expect(() => loadManifest(join(dir, 'absent.json'))).toThrow(/manifest .*absent\.json: file not found/);
  });
});

describe('looksLikeManifestPath', () => {
  it('tells catalog names from paths', () => {
    expect(looksLikeManifestPath('mobilesam')).toBe(false);
    expect(looksLikeManifestPath('my-sam')).toBe(false);
    expect(looksLikeManifestPath('my.json')).toBe(true);
    expect(looksLikeManifestPath('./models/x')).toBe(true);
    expect(looksLikeManifestPath(write(good, 'plain'))).toBe(true);
  });
});
