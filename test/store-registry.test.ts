import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/util/errors.js';
import { packageModelsDir } from '../src/store/paths.js';
import { loadRegistry, parseRegistry, registryPath } from '../src/store/registry.js';

const raw = JSON.parse(readFileSync(registryPath(), 'utf8')) as { models: { name: string; family: string; builtin?: boolean; files: Record<string, { url?: string; size?: number; sha256?: string; path?: string }> }[] };

describe('model catalog (models/registry.json)', () => {
  it('is found beside the package, from src/ and dist/ alike', () => {
    expect(packageModelsDir()).toBe(join(import.meta.dirname, '..', 'models'));
    expect(existsSync(registryPath())).toBe(true);
  });

  it('lists the ten downloadable models and the built-ins', () => {
    const entries = loadRegistry();
    expect(entries.filter((e) => !e.builtin).map((e) => e.name)).toEqual([
      'efficientsam-ti', 'efficientsam-s', 'mobilesam', 'sam-vit-b', 'sam2.1-tiny', 'sam2.1-small', 'sam2.1-base-plus', 'sam2.1-large', 'fastsam-s', 'fastsam-x',
    ]);
    expect(entries.filter((e) => e.builtin).map((e) => e.name)).toEqual(['builtin', 'builtin-efficientsam', 'builtin-sam2', 'builtin-fastsam']);
    expect(Object.fromEntries(entries.map((e) => [e.name, e.family]))).toMatchObject({
      'efficientsam-ti': 'efficientsam',
      'efficientsam-s': 'efficientsam',
      mobilesam: 'sam',
      'sam-vit-b': 'sam',
      'fastsam-s': 'fastsam',
      'fastsam-x': 'fastsam',
      'builtin-sam2': 'sam2',
      'sam2.1-tiny': 'sam2',
      'sam2.1-large': 'sam2',
      'builtin-fastsam': 'fastsam',
    });
  });

  it('gives every downloadable file an https URL, a 64-hex sha256 and a positive size (SAM 2.1: hash alone, as published)', () => {
    const downloadable = raw.models.filter((m) => !m.builtin);
    expect(downloadable.length).toBe(10);
    for (const model of downloadable) {
      expect(Object.keys(model.files).sort()).toEqual(model.family === 'fastsam' ? ['model'] : ['decoder', 'encoder']);
      for (const file of Object.values(model.files)) {
        expect(new URL(file.url!).protocol).toBe('https:');
        expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
        if (model.family === 'sam2') expect(file.size).toBeUndefined();
        else expect(Number.isInteger(file.size) && file.size! > 0).toBe(true);
      }
    }
  });

  it('has unique names, unique hashes and a description and license for every entry', () => {
    const names = raw.models.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    const hashes = raw.models.flatMap((m) => Object.values(m.files).map((f) => f.sha256)).filter(Boolean);
    expect(new Set(hashes).size).toBe(hashes.length);
    for (const entry of loadRegistry()) {
      expect(entry.description.length).toBeGreaterThan(10);
      // FastSAM's weights are AGPL-3.0 (ultralytics' licence); pull says so before fetching.
      if (entry.family === 'fastsam' && !entry.builtin) {
        expect(entry.license).toBe('AGPL-3.0');
        expect(entry.notice).toMatch(/AGPL-3\.0/);
      } else {
        expect(entry.license).toBe('Apache-2.0');
      }
    }
  });

  it('resolves built-in files inside the package models/ folder', () => {
    const builtin = loadRegistry().find((e) => e.name === 'builtin')!;
    expect(builtin.files.encoder).toEqual({ kind: 'local', path: join(packageModelsDir(), 'builtin', 'builtin-sam-encoder.onnx'), size: undefined, sha256: undefined });
  });

  it('rejects duplicate names and non-https URLs', () => {
    const copy = structuredClone(raw);
    copy.models.push(structuredClone(copy.models[0]!));
    expect(() => parseRegistry(copy, 'test')).toThrow(/catalog test is invalid: models\.14\.name: duplicate model name efficientsam-ti/);
    const insecure = structuredClone(raw);
    insecure.models[0]!.files.encoder!.url = 'http://example.org/x.onnx';
    expect(() => parseRegistry(insecure, 'test')).toThrow(UsageError);
  });
});
