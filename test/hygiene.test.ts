import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../packages/generator/src/commands/build.js';
import { silentLogger } from '../packages/generator/src/core/log.js';
import { repoRoot } from '../packages/generator/src/core/paths.js';
import { chartsFor, lockFor } from './releases.js';

const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot(), encoding: 'utf8' });

function treeHash(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f !== '.kfc-build.json') out[path.relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

describe('repository hygiene', () => {
  // Markers of upstream manifests, spelled so that this file does not match itself.
  const UPSTREAM = new RegExp(['openAPI' + 'V3Schema', 'x-kubernetes-' + 'preserve-unknown-fields', '^apiVersion: apps' + '/v1$', '^kind: (Deployment|CustomResource' + 'Definition)$'].join('|'), 'm');

  it('no tracked file holds upstream manifest content', () => {
    const files = git('ls-files', '-z').split('\0').filter(Boolean);
    expect(files.length).toBeGreaterThan(20);
    const offenders = files.filter((f) => {
      if (f.endsWith('package-lock.json')) return false;
      const text = readFileSync(path.join(repoRoot(), f), 'utf8');
      return statSync(path.join(repoRoot(), f)).size > 300 * 1024 || UPSTREAM.test(text);
    });
    expect(offenders).toEqual([]);
  });

  it('generated output is git-ignored', () => {
    for (const p of ['charts/katib/Chart.yaml', 'packages/values-types/src/generated/index.d.ts', '.cache/kfc/x', 'repo/index.yaml']) {
      expect(git('check-ignore', p).trim()).toBe(p);
    }
  });

  it('the build is reproducible: a forced build in another process gives the charts the suite was set up with, file for file', async () => {
    const a = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-repro-a-')), 'charts');
    const r = await build({ lockFile: lockFor('v1.11.0'), out: a, logger: silentLogger, force: true });
    expect(r.upToDate).toBe(false);
    const ha = treeHash(a);
    // every chart of the build is in the tree
    for (const c of r.charts) expect(ha[path.join(c.name, 'Chart.yaml')], c.name).toBeDefined();
    expect(treeHash(chartsFor('v1.11.0'))).toEqual(ha);
  });

  it('an unchanged rebuild is skipped, a changed input rebuilds', async () => {
    // a copy of the charts the suite was set up with (built by global-setup.ts)
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-stamp-')), 'charts');
    cpSync(chartsFor('v1.11.0'), out, { recursive: true });
    expect((await build({ lockFile: lockFor('v1.11.0'), out, logger: silentLogger })).upToDate).toBe(true);
    expect((await build({ lockFile: lockFor('v1.10.2'), out, logger: silentLogger })).upToDate).toBe(false);
    expect((await build({ lockFile: lockFor('v1.10.2'), out, logger: silentLogger })).upToDate).toBe(true);
  });
});
