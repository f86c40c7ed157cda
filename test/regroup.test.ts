import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../packages/generator/src/commands/build.js';
import { chartModels } from '../packages/generator/src/generate/chart-models.js';
import { helmRun, helmTemplate } from '../packages/generator/src/core/helm.js';
import { silentLogger } from '../packages/generator/src/core/log.js';
import { LIFECYCLE_LABEL } from '../packages/generator/src/core/chart-model.js';
import { parseYaml, splitObjects, type KObject } from '../packages/generator/src/core/model.js';
import { repoRoot } from '../packages/generator/src/core/paths.js';
import { findHelm } from '../packages/generator/src/core/toolchain.js';
import { pool } from '../packages/generator/src/core/util.js';
import { diffReleases, formatDiff } from '../packages/generator/src/diff/diff.js';
import { chartKeysOf, movedCharts, removedValues, REMOVED_VALUES_FILE, valuesPaths } from '../packages/generator/src/emit/deprecated.js';
import { analyze } from '../packages/generator/src/fold/analyze.js';
import { verify } from '../packages/generator/src/verify/verify.js';
import { cleanupCopies } from './fixtures.js';
import { chartNames, ciFiles, readYaml } from './helpers.js';
import { addResources, DASHBOARD_PATCH, moveDir, regrouped2603 } from './regroup.js';
import { lockFor, MIRROR } from './releases.js';

/**
 * Upstream regroups applications between releases (after 26.03: the dashboard,
 * PodDefaults webhook and profile controller behind one aggregate overlay, the
 * notebook apps behind another, Model Registry renamed Hub and moved into the
 * example). Charts are identified by content, so a regrouped release keeps
 * its chart names, umbrella keys and what values written for 26.03 render.
 */

afterAll(cleanupCopies);

const CHARTS_2603 = path.join(repoRoot(), 'charts');
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'kfc-regroup-'));
const schemaOf = (dir: string, chart: string) => JSON.parse(readFileSync(path.join(dir, chart, 'values.schema.json'), 'utf8'));
const isLifecycle = (o: KObject) => o.raw.includes(`${LIFECYCLE_LABEL}:`);

/** Lifecycle hooks list components in example order (gate scripts, RBAC resourceNames): compared as sorted lines and lists. */
const unordered = (raw: string) =>
  raw
    .replace(/\[("[^"\]]*"(?:,"[^"\]]*")*)\]/g, (_m, items: string) => `[${items.split(',').sort().join(',')}]`)
    .split('\n')
    .sort()
    .join('\n');

/** A render as objects by key (lifecycle hooks order-free). */
function byKey(text: string, what: string): Map<string, string> {
  return new Map(splitObjects(text, what).map((o) => [o.key, isLifecycle(o) ? unordered(o.raw) : o.raw]));
}

describe('a regrouped release keeps chart names, umbrella keys and what 26.03 values render', () => {
  let dir: string;
  let out: string;
  let warnings: string[];
  beforeAll(async () => {
    dir = regrouped2603();
    out = path.join(tmp(), 'charts');
    warnings = (await build({ lockFile: lockFor('26.03'), upstreamDir: dir, upstreamTag: '26.03', out, logger: silentLogger })).warnings;
  });

  it('every chart and values key of 26.03 is generated under its name; the aggregate lines are split by content', () => {
    const before = chartNames(CHARTS_2603);
    const after = chartNames(out);
    expect(after.filter((c) => !before.includes(c))).toEqual(['workspaces']);
    expect(before.filter((c) => !after.includes(c))).toEqual([]);
    // no chart for the aggregate lines themselves: every object has a component
    for (const c of ['dashboard', 'notebooks-v1', 'hub']) expect(after).not.toContain(c);
    expect(warnings.join('\n')).toMatch(/no component configuration claims applications\/workspaces\/overlays\/istio; generating chart "workspaces"/);
    expect(warnings.join('\n')).not.toMatch(/come from no component file's directory/);
    // every values path of every 26.03 chart (umbrella included) still exists
    for (const c of before) {
      const now = new Set(valuesPaths(schemaOf(out, c)));
      expect(
        valuesPaths(schemaOf(CHARTS_2603, c)).filter((p) => !now.has(p)),
        c,
      ).toEqual([]);
    }
    const stamp = JSON.parse(readFileSync(path.join(out, '.kfc-build.json'), 'utf8'));
    const chart = (n: string) => stamp.charts.find((c: { name: string }) => c.name === n);
    expect(chart('centraldashboard').upstreamPaths).toEqual(['applications/dashboard/upstream/centraldashboard/overlays/oauth2-proxy']);
    expect(chart('tensorboards-web-app').upstreamPaths).toEqual(['applications/notebooks-v1/upstream/tensorboards-web-app/overlays/istio']);
    // Model Registry is in the example now: enabled, with the same variants and options
    expect(chart('model-registry')).toMatchObject({ enabled: true, variants: ['db', 'postgres'] });
    expect(chart('model-registry').toggles.map((t: { name: string; defaultOn: boolean }) => [t.name, t.defaultOn])).toEqual([
      ['istio', true],
      ['ui', true],
    ]);
    // the aggregate's patch stays on the object it patches (checked by rendering in the tests below)
    // a commented-out kustomize Component patching an object of a part is a switch of that part's chart
    expect(chart('centraldashboard').toggles.map((t: { name: string }) => t.name)).toEqual(['workspacesComponentsCentraldashboard']);
  });

  it('kfc verify: every chart, variant, option, switch and feature scenario matches the regrouped tree (kustomize build)', { timeout: 60 * 60_000 }, async () => {
    const report = await verify({ lockFile: lockFor('26.03'), upstreamDir: dir, upstreamTag: '26.03', charts: out, logger: silentLogger });
    const bad = report.rows.filter((r) => r.missing.length || r.extra.length || r.differing.length);
    expect(bad.map((r) => ({ chart: r.chart, variant: r.variant, missing: r.missing, extra: r.extra, differing: r.differing }))).toEqual([]);
    const rows = (chart: string) => report.rows.filter((r) => r.chart === chart).map((r) => r.variant);
    expect(rows('model-registry').filter((v) => !v.startsWith('feature '))).toEqual(['db', 'postgres', 'db+istio=false', 'db+ui=false']);
    expect(
      rows('model-registry')
        .filter((v) => v.startsWith('feature '))
        .sort(),
    ).toEqual(['feature externalDatabase', 'feature generatedCredentials', 'feature namespace']);
    expect(rows('centraldashboard')).toEqual(['default', 'default+workspacesComponentsCentraldashboard=true']);
    expect(report.rows.find((r) => r.variant === 'example')?.objects).toBeGreaterThan(675);
    expect(report.ok).toBe(true);
  });

  it("values files written for 26.03 render the same objects, but for the aggregate's patch", { timeout: 60 * 60_000 }, async () => {
    const files = ciFiles(path.join(CHARTS_2603, 'kubeflow'));
    expect(files.length).toBeGreaterThan(10);
    await pool(files, 2, async (f) => {
      // the regrouped example installs Model Registry by default: a 26.03 values file leaves it as 26.03 did
      const mr = readYaml(f)?.['model-registry']?.enabled ?? false;
      const [a, b] = await Promise.all([
        helmTemplate(path.join(CHARTS_2603, 'kubeflow'), { includeCrds: true, valuesFiles: [f] }),
        helmTemplate(path.join(out, 'kubeflow'), { includeCrds: true, valuesFiles: [f], set: [`model-registry.enabled=${mr}`] }),
      ]);
      const was = byKey(a, `26.03 -f ${f}`);
      const now = byKey(b, `regrouped -f ${f}`);
      expect(
        [...now.keys()].filter((k) => !was.has(k)),
        path.basename(f),
      ).toEqual([]);
      expect(
        [...was.keys()].filter((k) => !now.has(k)),
        path.basename(f),
      ).toEqual([]);
      const cmKey = `v1/ConfigMap/${DASHBOARD_PATCH.namespace}/${DASHBOARD_PATCH.name}`;
      const differing = [...was.keys()].filter((k) => was.get(k) !== now.get(k));
      expect(differing, path.basename(f)).toEqual(was.has(cmKey) ? [cmKey] : []);
      if (was.has(cmKey)) {
        const [x, y] = [parseYaml(was.get(cmKey)!), parseYaml(now.get(cmKey)!)];
        expect(y.data[DASHBOARD_PATCH.key]).toBe(DASHBOARD_PATCH.value);
        expect({ ...y, data: { ...y.data, [DASHBOARD_PATCH.key]: x.data[DASHBOARD_PATCH.key] } }).toEqual(x);
      }
    });
  });

  it('kfc diff 26.03 -> the regrouped tree: same charts, upstream paths moved, no key moves', async () => {
    const r = await diffReleases(path.join(MIRROR, '26.03'), dir, { lockFile: lockFor('26.03') }, silentLogger);
    expect(r.charts.filter((c) => c.status === 'removed')).toEqual([]);
    expect(r.charts.filter((c) => c.status === 'added').map((c) => c.chart)).toEqual(['workspaces']);
    expect(r.keyMoves).toEqual([]);
    const text = formatDiff(r);
    expect(text).toContain('upstream: applications/centraldashboard/overlays/oauth2-proxy -> applications/dashboard/upstream/centraldashboard/overlays/oauth2-proxy');
    expect(text).toMatch(/^key moves: none \(every umbrella key of 26\.03 still names the same chart\)$/m);
  });
});

describe('what no component claims is reported, never dropped', () => {
  it('objects an aggregate line adds itself go to a chart named after the line, with a warning naming them; a feature selecting one fails naming the chart', async () => {
    const dir = regrouped2603((d) => addResources(d, 'applications/dashboard/overlays/istio', { 'extra.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dashboard-extra\n  namespace: kubeflow\ndata:\n  a: b\n' }));
    // and a feature of centraldashboard selecting it
    const components = path.join(tmp(), 'components');
    cpSync(path.join(repoRoot(), 'components'), components, { recursive: true });
    writeFileSync(
      path.join(components, 'centraldashboard.yaml'),
      `${readFileSync(path.join(components, 'centraldashboard.yaml'), 'utf8')}features:\n  - name: extraSetting\n    description: test\n    values: {enabled: false}\n    schema: {type: object, properties: {enabled: {type: boolean}}}\n    set:\n      - select: {kind: ConfigMap, name: dashboard-extra}\n        patch: {data: {a: c}}\n`,
    );
    process.env.KFC_COMPONENTS_DIR = components;
    try {
      const a = await analyze({ lockFile: lockFor('26.03'), upstreamDir: dir, upstreamTag: '26.03', logger: silentLogger });
      const rest = a.components.find((c) => c.plan.name === 'dashboard')!;
      expect(rest.plan.enabled).toBe(true);
      expect(rest.configs[0].objects.map((o) => o.key)).toEqual(['v1/ConfigMap/kubeflow/dashboard-extra']);
      expect(a.warnings.join('\n')).toMatch(/1 object\(s\) of applications\/dashboard\/overlays\/istio come from no component file's directory \(ConfigMap kubeflow\/dashboard-extra\); generating chart "dashboard"/);
      // the feature cannot follow the object: the build names the feature and where the object is
      expect(() => chartModels(a)).toThrow(/feature extraSetting \(.*centraldashboard\.yaml\): ConfigMap dashboard-extra is no longer in chart centraldashboard in release 26\.03: upstream moved it to chart dashboard/);
    } finally {
      delete process.env.KFC_COMPONENTS_DIR;
    }
  });
});

describe('a chart upstream renames: keys move loudly and compatibly', () => {
  // upstream renames the dashboard's directory: no component file claims it, its objects land in the aggregate's chart
  let dir: string;
  let components: string;
  beforeAll(() => {
    dir = regrouped2603((d) => moveDir(d, 'applications/dashboard/upstream/centraldashboard', 'applications/dashboard/upstream/dashboard-ui'));
    components = path.join(tmp(), 'components');
    cpSync(path.join(repoRoot(), 'components'), components, { recursive: true });
    // centraldashboard's own features would be stranded (the build says so: see "claims nothing any more" below);
    // the maintainer follows its hint, and the umbrella-rendered menu goes with them (its chart is gone)
    rmSync(path.join(components, 'centraldashboard', 'features'), { recursive: true, force: true });
  });

  it('kfc diff lists the key moves a values file must make', async () => {
    process.env.KFC_COMPONENTS_DIR = components;
    const r = await diffReleases(path.join(MIRROR, '26.03'), dir, { lockFile: lockFor('26.03') }, silentLogger).finally(() => delete process.env.KFC_COMPONENTS_DIR);
    expect(r.charts.find((c) => c.chart === 'centraldashboard')).toMatchObject({ status: 'removed', movedInto: ['dashboard'] });
    expect(r.keyMoves).toContainEqual({ from: 'centraldashboard.enabled', to: 'dashboard.enabled', why: 'renamed' });
    expect(r.keyMoves).toContainEqual({ from: 'centraldashboard.centraldashboard', to: 'dashboard.centraldashboard', why: 'renamed' });
    const text = formatDiff(r);
    expect(text).toMatch(/^centraldashboard: chart removed; its objects are now in dashboard$/m);
    expect(text).toMatch(/^ {2}centraldashboard\.centraldashboard -> dashboard\.centraldashboard {2}\(renamed\)$/m);
  });

  it('the umbrella of the next release honours the old switch, refuses other old keys naming the new ones, and says so in NOTES', { timeout: 60 * 60_000 }, async () => {
    const out = path.join(tmp(), 'charts');
    const opts = { lockFile: lockFor('26.03'), upstreamDir: dir, upstreamTag: '26.04', out, logger: silentLogger };
    process.env.KFC_COMPONENTS_DIR = components;
    try {
      await build(opts);
      // what scripts/removed-values.mjs writes for the pin bump
      const moved = movedCharts(await chartKeysOf(CHARTS_2603), await chartKeysOf(out), { renamedOnly: true });
      expect(Object.keys(moved)).toEqual(['centraldashboard']);
      const schemas = (d: string) => Object.fromEntries(chartNames(d).map((c) => [c, schemaOf(d, c)]));
      const r = removedValues('26.03', '26.04', schemas(CHARTS_2603), schemas(out), moved);
      expect(r.charts.kubeflow ?? []).not.toContain('centraldashboard');
      writeFileSync(path.join(components, REMOVED_VALUES_FILE), JSON.stringify(r, null, 2));
      await build({ ...opts, force: true });
    } finally {
      delete process.env.KFC_COMPONENTS_DIR;
    }
    const umbrella = path.join(out, 'kubeflow');
    const has = (text: string) => splitObjects(text, 'helm template').some((o) => o.key === 'apps/v1/Deployment/kubeflow/centraldashboard');
    expect(has(await helmTemplate(umbrella))).toBe(true);
    const values = path.join(tmp(), 'old.yaml');
    for (const major of [3, 4] as const) {
      const helm = await findHelm(major);
      writeFileSync(values, 'centraldashboard:\n  enabled: false\n');
      const off = await helmRun(['template', 'kubeflow', umbrella, '--namespace', 'kubeflow-charts', '-f', values], helm);
      expect(off.exitCode, off.stderr).toBe(0);
      expect(has(off.stdout), `helm ${major}: centraldashboard.enabled=false still switches the renamed chart`).toBe(false);
      writeFileSync(values, 'centraldashboard:\n  centraldashboard:\n    replicas: 2\n');
      const refused = await helmRun(['template', 'kubeflow', umbrella, '-f', values], await findHelm(major));
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toContain('values key centraldashboard.centraldashboard: chart centraldashboard of 26.03 was renamed dashboard in 26.04; set dashboard.centraldashboard instead');
    }
    // NOTES (helm install prints them; helm 4 needs no cluster for a client dry run)
    writeFileSync(values, 'centraldashboard:\n  enabled: false\n');
    const notes = await helmRun(['install', 'kubeflow', umbrella, '--dry-run=client', '--namespace', 'kubeflow-charts', '-f', values], await findHelm(4));
    expect(notes.exitCode, notes.stderr).toBe(0);
    expect(notes.stdout).toContain('DEPRECATED: centraldashboard was renamed dashboard in 26.04; centraldashboard.enabled is honoured for this release, use dashboard.enabled.');
    const clean = await helmRun(['install', 'kubeflow', umbrella, '--dry-run=client', '--namespace', 'kubeflow-charts'], await findHelm(4));
    expect(clean.stdout).not.toContain('DEPRECATED');
  });

  it('a component file that claims nothing any more, whose feature objects another chart renders, fails the build naming the feature', async () => {
    writeFileSync(
      path.join(components, 'centraldashboard.yaml'),
      `${readFileSync(path.join(repoRoot(), 'components', 'centraldashboard.yaml'), 'utf8')}features:\n  - name: replicasNote\n    description: test\n    values: {enabled: false}\n    schema: {type: object, properties: {enabled: {type: boolean}}}\n    set:\n      - select: {kind: Deployment, name: centraldashboard, container: centraldashboard}\n        patch: {env: [{name: A, value: b}]}\n`,
    );
    rmSync(path.join(components, REMOVED_VALUES_FILE), { force: true });
    process.env.KFC_COMPONENTS_DIR = components;
    try {
      const out = path.join(tmp(), 'charts');
      await expect(build({ lockFile: lockFor('26.03'), upstreamDir: dir, upstreamTag: '26.04', out, logger: silentLogger })).rejects.toThrow(
        /feature replicasNote \(.*centraldashboard\.yaml\): .*centraldashboard\.yaml claims nothing in release 26\.04, but Deployment centraldashboard container centraldashboard is there, in chart dashboard/,
      );
      expect(readdirSync(path.dirname(out))).toEqual([]);
    } finally {
      delete process.env.KFC_COMPONENTS_DIR;
    }
  });
});
