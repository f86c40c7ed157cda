import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { helmRun } from '../packages/generator/src/core/helm.js';
import { repoRoot } from '../packages/generator/src/core/paths.js';
import { removedValues, REMOVED_VALUES_FILE } from '../packages/generator/src/emit/deprecated.js';
import { chartVersion, compareVersions } from '../packages/generator/src/upstream/version.js';
import { chartNames, readYaml } from './helpers.js';
import { chartsFor, PINNED, RELEASES } from './releases.js';

/** Releases in version order (v1.10.2 < v1.11.0 < 26.03), as their chart versions order. */
const SORTED = Object.keys(RELEASES).sort((a, b) => compareVersions(chartVersion(a, 0), chartVersion(b, 0)));
const PAIRS = SORTED.slice(1).map((to, i) => [SORTED[i], to] as const);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'kfc-upgrade-'));
const umbrella = (tag: string) => path.join(chartsFor(tag), 'kubeflow');
const schemas = (tag: string) => Object.fromEntries(chartNames(chartsFor(tag)).map((c) => [c, readYaml(path.join(chartsFor(tag), c, 'values.schema.json'))]));

/** A value at a dotted path of an object, set. */
function setPath(obj: any, p: string, v: unknown): void {
  const keys = p.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) o = o[k] ??= {};
  o[keys[keys.length - 1]] = v;
}

// components/removed-values.json describes the upgrade to the pinned release; the real upgrade
// (install the previous release, helm upgrade to this one) runs in cluster-upgrade.test.ts
const [from, to] = PAIRS.find(([, t]) => t === PINNED)!;

describe(`upgrade ${from} -> ${to}`, () => {
  it('keys upstream removed are accepted for one release with a deprecation notice, not a schema error', async () => {
    const expected = removedValues(from, to, schemas(from), schemas(to));
    const committed = JSON.parse(readFileSync(path.join(repoRoot(), 'components', REMOVED_VALUES_FILE), 'utf8'));
    expect(committed).toEqual(expected);
    const removed = Object.entries(expected.charts).flatMap(([chart, paths]) => paths.map((p) => ({ chart, p })));
    console.log(`${from} -> ${to}: removed values keys ${removed.map((x) => `${x.chart}.${x.p}`).join(', ') || 'none'}`);
    expect(removed.length, `${from} -> ${to} removes values keys (else this test checks nothing: drop it until a release removes some)`).toBeGreaterThan(0);
    // the old values, set the way a values file for the old release sets them
    const oldValues: any = {};
    for (const { chart, p } of removed) {
      const oldDefault = p.split('.').reduce((o: any, k) => o?.[k], readYaml(path.join(chartsFor(from), chart, 'values.yaml')));
      setPath(oldValues, chart === 'kubeflow' ? p : `${chart}.${p}`, oldDefault ?? true);
    }
    const file = path.join(tmp, `${from}-removed.yaml`);
    writeFileSync(file, YAML.stringify(oldValues));
    const res = await helmRun(['install', 'kubeflow', umbrella(to), '--dry-run=client', '--namespace', 'kubeflow-charts', '-f', file]);
    expect(res.stderr).toBe('');
    for (const { chart, p } of removed) expect(res.stdout).toContain(`DEPRECATED: ${chart === 'kubeflow' ? '' : `${chart}.`}${p} was removed upstream in ${to}`);
    // without them, no notice
    const clean = await helmRun(['install', 'kubeflow', umbrella(to), '--dry-run=client', '--namespace', 'kubeflow-charts']);
    expect(clean.stdout).not.toContain('DEPRECATED');
  });
});
