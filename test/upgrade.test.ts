import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { helmRun, helmTemplate } from '../packages/generator/src/core/helm.js';
import { parseYaml, podTemplate, splitObjects, WORKLOAD_KINDS } from '../packages/generator/src/core/model.js';
import { repoRoot } from '../packages/generator/src/core/paths.js';
import { removedValues, REMOVED_VALUES_FILE } from '../packages/generator/src/emit/deprecated.js';
import { formatOrphans, orphanedKeptObjects } from '../packages/generator/src/order/orphans.js';
import { planObjects } from '../packages/generator/src/order/sequence.js';
import { chartVersion, compareVersions } from '../packages/generator/src/upstream/version.js';
import { chartNames, readYaml } from './helpers.js';
import { chartsFor, PINNED, RELEASES } from './releases.js';

/** Releases in version order (v1.10.2 < v1.11.0 < 26.03), as their chart versions order. */
const SORTED = Object.keys(RELEASES).sort((a, b) => compareVersions(chartVersion(a, 0), chartVersion(b, 0)));
const PAIRS = SORTED.slice(1).map((to, i) => [SORTED[i], to] as const);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'kfc-upgrade-'));
const umbrella = (tag: string) => path.join(chartsFor(tag), 'kubeflow');
const schemas = (tag: string) => Object.fromEntries(chartNames(chartsFor(tag)).map((c) => [c, readYaml(path.join(chartsFor(tag), c, 'values.schema.json'))]));

/** object/container -> image of every container in a render. */
function images(rendered: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const o of splitObjects(rendered, 'render')) {
    if (!WORKLOAD_KINDS[o.kind]) continue;
    const spec = podTemplate(parseYaml(o.raw), o.kind)?.spec;
    for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) out.set(`${o.key}/${c.name}`, c.image);
  }
  return out;
}

/** A value at a dotted path of an object, set. */
function setPath(obj: any, p: string, v: unknown): void {
  const keys = p.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) o = o[k] ??= {};
  o[keys[keys.length - 1]] = v;
}

describe('PAIRS', () => {
  it('pairs consecutive mirrored releases', () => expect(PAIRS.length).toBe(SORTED.length - 1));
});

describe.each(PAIRS)('upgrade %s -> %s', (from, to) => {
  it('with the documented command (--reset-then-reuse-values: new defaults, your values) every container gets the new image; --reuse-values would keep old ones', async () => {
    // what a platform team sets: a replica count and a component switch, as in their values file
    const user = { katib: { katibController: { replicas: 2 } }, 'kserve-models-web-app': { enabled: true } };
    const file = path.join(tmp, `${from}-user.yaml`);
    writeFileSync(file, YAML.stringify(user));
    const fresh = images(await helmTemplate(umbrella(to), { valuesFiles: [file] }));
    const defaults = images(await helmTemplate(umbrella(to), {}));
    expect(fresh.size).toBeGreaterThan(40);
    for (const [k, image] of fresh) if (defaults.has(k)) expect(image, k).toBe(defaults.get(k));
    // --reuse-values takes the old release's merged values, old image tags included
    const oldAll = await helmRun(['show', 'values', umbrella(from)]);
    const merged: any = parseYaml(oldAll.stdout);
    for (const c of chartNames(chartsFor(from)).filter((x) => x !== 'kubeflow' && merged[x])) Object.assign(merged[c], readYaml(path.join(chartsFor(from), c, 'values.yaml')), { enabled: merged[c].enabled });
    const reused = path.join(tmp, `${from}-reused.yaml`);
    writeFileSync(reused, YAML.stringify(merged));
    const r = await helmRun(['template', 'kubeflow', umbrella(to), '-f', reused]);
    const stale = r.exitCode === 0 ? [...images(r.stdout)].filter(([k, img]) => defaults.has(k) && defaults.get(k) !== img).length : Number.POSITIVE_INFINITY;
    console.log(`${from} -> ${to}: --reuse-values would ${r.exitCode === 0 ? `keep ${stale} old image(s)` : `fail: ${r.stderr.split('\n').slice(0, 3).join(' ')}`}`);
    expect(stale).toBeGreaterThan(0);
    // the README documents the command
    const readme = readFileSync(path.join(repoRoot(), 'README.md'), 'utf8');
    expect(readme).toMatch(/helm upgrade kubeflow kubeflow-charts\/kubeflow --version <new> --namespace kubeflow-charts --reset-then-reuse-values --timeout \d+m/);
  });

  it('keys upstream removed are accepted for one release with a deprecation notice, not a schema error', async () => {
    const expected = removedValues(from, to, schemas(from), schemas(to));
    if (to !== PINNED) return; // components/removed-values.json is the pinned release's
    const committed = JSON.parse(readFileSync(path.join(repoRoot(), 'components', REMOVED_VALUES_FILE), 'utf8'));
    expect(committed).toEqual(expected);
    const removed = Object.entries(expected.charts).flatMap(([chart, paths]) => paths.map((p) => ({ chart, p })));
    console.log(`${from} -> ${to}: removed values keys ${removed.map((x) => `${x.chart}.${x.p}`).join(', ') || 'none'}`);
    if (!removed.length) return;
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

  it('names the kept objects the upgrade orphans, with the command that removes them', async () => {
    const render = async (tag: string) => planObjects(await helmTemplate(umbrella(tag), { includeCrds: true }));
    const orphans = orphanedKeptObjects(await render(from), await render(to));
    console.log(`${from} -> ${to}:\n${formatOrphans(orphans)}`);
    for (const o of orphans) expect(o.command).toMatch(new RegExp(`^kubectl delete \\S+ ${o.name.replace(/\./g, '\\.')}( -n \\S+)?$`));
    // a render against itself orphans nothing; dropping a kept object is reported
    const after = await render(to);
    expect(orphanedKeptObjects(after, after)).toEqual([]);
    const pvc = after.find((o) => o.kind === 'PersistentVolumeClaim')!;
    const dropped = orphanedKeptObjects(after, after.filter((o) => o !== pvc));
    expect(dropped.map((o) => o.command)).toEqual([`kubectl delete persistentvolumeclaim ${pvc.name} -n ${pvc.namespace}`]);
  });
});
