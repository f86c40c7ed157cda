import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { helmRun } from '../packages/generator/src/core/helm.js';
import { splitObjects } from '../packages/generator/src/core/model.js';
import { findHelm } from '../packages/generator/src/core/toolchain.js';
import { pool } from '../packages/generator/src/core/util.js';
import { chartNames, readYaml } from './helpers.js';
import { chartsFor, PINNED } from './releases.js';
import { render } from './renders.js';

/**
 * Bad values a new user writes, each rejected with its values path named (by the
 * schema, or by the chart's `fail` at render), on helm 4 and helm 3; and valid edge
 * cases that must render. Cases come from a table applied to the charts' own keys.
 */
const dir = chartsFor(PINNED);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'kfc-bad-values-'));
const UMBRELLA = 'kubeflow';

interface Workload {
  chart: string;
  workload: string;
  container: string;
  /** a selector label of the workload (podLabels may not change it) */
  selector?: [string, string];
}

/** Every chart's workloads with a container, from values.yaml and the rendered selector. */
function workloads(): Workload[] {
  const out: Workload[] = [];
  for (const chart of chartNames(dir).filter((c) => c !== UMBRELLA)) {
    const values = readYaml(path.join(dir, chart, 'values.yaml'));
    for (const [k, v] of Object.entries<any>(values)) {
      if (!v?.containers) continue;
      out.push({ chart, workload: k, container: Object.keys(v.containers)[0] });
    }
  }
  return out;
}

interface Case {
  chart: string;
  what: string;
  values: unknown;
  /** the values path the message must name */
  path: string;
}

type Maker = (w: Workload) => { values: unknown; path: string } | undefined;

const container = (w: Workload, v: unknown) => ({ [w.workload]: { containers: { [w.container]: v } } });
const cpath = (w: Workload, rest: string) => `${w.workload}.containers.${w.container}.${rest}`;

/** What goes wrong, applied to several charts' workloads each. */
const WORKLOAD_CASES: Record<string, Maker> = {
  'cpu limit "2 cores"': (w) => ({ values: container(w, { resources: { limits: { cpu: '2 cores' } } }), path: cpath(w, 'resources.limits.cpu') }),
  'memory request "-1Gi"': (w) => ({ values: container(w, { resources: { requests: { memory: '-1Gi' } } }), path: cpath(w, 'resources.requests.memory') }),
  'quantity "abc"': (w) => ({ values: container(w, { resources: { requests: { cpu: 'abc' } } }), path: cpath(w, 'resources.requests.cpu') }),
  'negative number quantity': (w) => ({ values: container(w, { resources: { limits: { memory: -5 } } }), path: cpath(w, 'resources.limits.memory') }),
  'resource name with a space': (w) => ({ values: container(w, { resources: { limits: { 'nvidia gpu': 1 } } }), path: cpath(w, 'resources.limits') }),
  'cpu request above limit': (w) => ({ values: container(w, { resources: { requests: { cpu: '2' }, limits: { cpu: '1500m' } } }), path: cpath(w, 'resources.requests.cpu') }),
  'memory request above limit in other units': (w) => ({ values: container(w, { resources: { requests: { memory: '2Gi' }, limits: { memory: '1025Mi' } } }), path: cpath(w, 'resources.requests.memory') }),
  'digest not sha256 + 64 hex': (w) => ({ values: container(w, { image: { digest: 'sha256:abc123' } }), path: cpath(w, 'image.digest') }),
  'digest with another algorithm': (w) => ({ values: container(w, { image: { digest: `md5:${'a'.repeat(64)}` } }), path: cpath(w, 'image.digest') }),
  'registry with https://': (w) => ({ values: container(w, { image: { registry: 'https://ghcr.io' } }), path: cpath(w, 'image.registry') }),
  'registry with a path': (w) => ({ values: container(w, { image: { registry: 'ghcr.io/kubeflow' } }), path: cpath(w, 'image.registry') }),
  'tag with a space': (w) => ({ values: container(w, { image: { tag: 'v1 beta' } }), path: cpath(w, 'image.tag') }),
  'repository in upper case': (w) => ({ values: container(w, { image: { repository: 'Kubeflow/App' } }), path: cpath(w, 'image.repository') }),
  'image: null': (w) => ({ values: container(w, { image: null }), path: cpath(w, 'image') }),
  'image.tag: null': (w) => ({ values: container(w, { image: { tag: null } }), path: cpath(w, 'image.tag') }),
  'workload: null': (w) => ({ values: { [w.workload]: null }, path: w.workload }),
  'invalid label key': (w) => ({ values: { [w.workload]: { podLabels: { 'team name': 'a' } } }, path: `${w.workload}.podLabels` }),
  'invalid label value': (w) => ({ values: { [w.workload]: { podLabels: { team: 'a b' } } }, path: `${w.workload}.podLabels.team` }),
  'podLabels changing a selector label': (w) => (w.selector ? { values: { [w.workload]: { podLabels: { [w.selector[0]]: `${w.selector[1]}-x` } } }, path: `${w.workload}.podLabels` } : undefined),
  'invalid annotation key': (w) => ({ values: { [w.workload]: { podAnnotations: { '/leading-slash': 'x' } } }, path: `${w.workload}.podAnnotations` }),
  'priorityClassName not a DNS name': (w) => ({ values: { [w.workload]: { priorityClassName: 'High_Priority' } }, path: `${w.workload}.priorityClassName` }),
  'unknown field in a toleration': (w) => ({ values: { [w.workload]: { tolerations: [{ key: 'gpu', effekt: 'NoSchedule' }] } }, path: `${w.workload}.tolerations.0` }),
  'toleration seconds as a string': (w) => ({ values: { [w.workload]: { tolerations: [{ key: 'gpu', operator: 'Exists', tolerationSeconds: '10' }] } }, path: `${w.workload}.tolerations.0.tolerationSeconds` }),
  'unknown field in affinity': (w) => ({ values: { [w.workload]: { affinity: { nodeAffinity: { required: {} } } } }, path: `${w.workload}.affinity.nodeAffinity` }),
  'affinity term without topologyKey': (w) => ({ values: { [w.workload]: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: {} }] } } } }, path: `${w.workload}.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution.0` }),
  'nodeSelector value with a space': (w) => ({ values: { [w.workload]: { nodeSelector: { pool: 'gpu nodes' } } }, path: `${w.workload}.nodeSelector.pool` }),
};

/** Cases on a chart's global values (component charts and the umbrella alike). */
const GLOBAL_CASES: Record<string, { values: unknown; path: string }> = {
  'typo under global': { values: { global: { imageRegistery: 'mirror.example.com' } }, path: 'global' },
  'global.imageRegistry with https://': { values: { global: { imageRegistry: 'https://mirror.example.com' } }, path: 'global.imageRegistry' },
  'pull secret name not a DNS name': { values: { global: { imagePullSecrets: [{ name: 'Reg_Cred' }] } }, path: 'global.imagePullSecrets.0.name' },
  'global: null': { values: { global: null }, path: 'global' },
};

/** Cases only the umbrella has. */
const UMBRELLA_CASES: Record<string, { values: unknown; path: string }> = {
  'a whole component: null': { values: { katib: null }, path: 'katib' },
  'hooks.image: null': { values: { hooks: { image: null } }, path: 'hooks.image' },
  'hooks.image.digest invalid': { values: { hooks: { image: { digest: 'sha256:xyz' } } }, path: 'hooks.image.digest' },
  'hooks request above limit': { values: { hooks: { resources: { requests: { memory: '512Mi' }, limits: { memory: '256Mi' } } } }, path: 'hooks.resources.requests.memory' },
  'typo in hooks': { values: { hooks: { timeout: 60 } }, path: 'hooks' },
  'component value through the umbrella': { values: { katib: { katibController: { containers: { katibController: { image: { tag: 'v 1' } } } } } }, path: 'katib.katibController.containers.katibController.image.tag' },
  'request above limit through the umbrella': { values: { katib: { katibController: { containers: { katibController: { resources: { requests: { cpu: 3 }, limits: { cpu: 2 } } } } } } }, path: 'katib.katibController.containers.katibController.resources.requests.cpu' },
  'selector label through the umbrella': { values: { centraldashboard: { centraldashboard: { podLabels: { app: 'other' } } } }, path: 'centraldashboard.centraldashboard.podLabels' },
};

/** The selector labels of each workload, from the chart's rendered defaults. */
async function withSelectors(ws: Workload[]): Promise<Workload[]> {
  const byChart = new Map<string, Map<string, Record<string, string>>>();
  for (const chart of new Set(ws.map((w) => w.chart))) {
    const m = new Map<string, Record<string, string>>();
    for (const o of (await render(chart)).objects) {
      const d = YAML.parse(o.raw);
      if (d?.spec?.template || d?.spec?.jobTemplate) m.set(o.name, d.spec.selector?.matchLabels ?? {});
    }
    byChart.set(chart, m);
  }
  const camel = (s: string) => s.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  // workloads the default values render (a variant-only workload's values do nothing by default)
  const rendered = (w: Workload) => [...(byChart.get(w.chart) ?? new Map()).keys()].some((name) => camel(name) === w.workload);
  return ws.filter(rendered).map((w) => {
    const entry = [...(byChart.get(w.chart) ?? new Map()).entries()].find(([name]) => camel(name) === w.workload);
    const first = entry && Object.entries(entry[1])[0];
    return first ? { ...w, selector: [first[0], String(first[1])] as [string, string] } : w;
  });
}

function cases(ws: Workload[]): Case[] {
  const out: Case[] = [];
  const kinds = Object.entries(WORKLOAD_CASES);
  // each kind of mistake on 3 workloads of different charts, rotating through the charts
  kinds.forEach(([what, make], i) => {
    let taken = 0;
    for (let j = 0; j < ws.length && taken < 3; j++) {
      const w = ws[(i * 5 + j * 7) % ws.length];
      const c = make(w);
      if (!c || out.some((x) => x.chart === w.chart && x.what === what)) continue;
      out.push({ chart: w.chart, what, ...c });
      taken++;
    }
  });
  const charts = [...new Set(ws.map((w) => w.chart))];
  Object.entries(GLOBAL_CASES).forEach(([what, c], i) => {
    for (const chart of [charts[i % charts.length], charts[(i + 11) % charts.length], UMBRELLA]) out.push({ chart, what, ...c });
  });
  for (const [what, c] of Object.entries(UMBRELLA_CASES)) out.push({ chart: UMBRELLA, what, ...c });
  return out;
}

/** Whether helm's message names `p`: helm 4 prints /a/b/c, helm 3 a.b.c; a missing key is named after its parent. */
export function namesPath(message: string, p: string): boolean {
  const msg = message.replace(/\//g, '.').replace(/['"]/g, '');
  // an umbrella's subchart errors come under the subchart's name: "katib:\n- at .katibController..."
  const [first, ...rest] = p.split('.');
  if (rest.length && new RegExp(`^${first}:$`, 'm').test(msg) && namesPath(message, rest.join('.'))) return true;
  const segs = p.split('.');
  const parent = segs.slice(0, -1).join('.');
  const leaf = segs[segs.length - 1];
  return msg.includes(p) || ((parent === '' || msg.includes(parent)) && new RegExp(`\\b${leaf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(msg));
}

describe(`bad values are rejected naming the values path (${PINNED})`, async () => {
  const all = cases(await withSelectors(workloads()));

  it('the table covers each kind of mistake on three charts (workload and global cases) and on the umbrella', () => {
    console.log(`bad-values cases: ${all.length} on ${new Set(all.map((c) => c.chart)).size} charts`);
    for (const what of [...Object.keys(WORKLOAD_CASES), ...Object.keys(GLOBAL_CASES)]) expect(new Set(all.filter((c) => c.what === what).map((c) => c.chart)).size, what).toBe(3);
    for (const what of Object.keys(GLOBAL_CASES)) expect(all.some((c) => c.what === what && c.chart === UMBRELLA), what).toBe(true);
    for (const what of Object.keys(UMBRELLA_CASES)) expect(all.some((c) => c.what === what && c.chart === UMBRELLA), what).toBe(true);
  });

  it.each([4, 3] as const)('on helm %i every case fails and names its path', async (major) => {
    const helm = await findHelm(major);
    expect(all.length).toBeGreaterThan(0);
    const problems = (
      await pool(all, 4, async (c, i) => {
        const file = path.join(tmp, `bad-${major}-${i}.yaml`);
        writeFileSync(file, YAML.stringify(c.values));
        const res = await helmRun(['template', 'x', path.join(dir, c.chart), '-f', file], helm);
        if (res.exitCode === 0) return `${c.chart}: ${c.what} was accepted`;
        if (!namesPath(res.stderr, c.path)) return `${c.chart}: ${c.what}: the message does not name ${c.path}:\n${res.stderr}`;
        return undefined;
      })
    ).filter(Boolean);
    expect(problems).toEqual([]);
  });
});

describe(`valid edge cases render (${PINNED})`, () => {
  const katib = path.join(dir, 'katib');
  const render = async (values: unknown, chart = katib, major?: 3 | 4) => {
    const file = path.join(tmp, `ok-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, YAML.stringify(values));
    const res = await helmRun(['template', 'x', chart, '-f', file], await findHelm(major));
    expect(res.stderr).toBe('');
    // every document parses with unique keys (a duplicated label would not)
    const docs = splitObjects(res.stdout, 'render').map((o) => YAML.parse(o.raw, { uniqueKeys: true }));
    return docs;
  };
  const deployment = (docs: any[], name: string) => docs.find((d) => d.kind === 'Deployment' && d.metadata.name === name);

  it.each([4, 3] as const)('on helm %i: quantities, digests, registries with ports, merged labels and annotations, full scheduling', async (major) => {
    const docs = await render(
      {
        global: { imageRegistry: 'mirror.example.com:5000/kubeflow', imagePullSecrets: [{ name: 'reg-cred.v1' }] },
        katibController: {
          podLabels: { 'katib.kubeflow.org/component': 'controller', team: 'ml', empty: '' },
          podAnnotations: { 'prometheus.io/port': '9090', 'example.com/note': 'any text: {{ not a template }}' },
          priorityClassName: 'system-cluster-critical',
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 }],
          affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'x' } } } }] } },
          containers: { katibController: { image: { tag: '', digest: `sha256:${'0123456789abcdef'.repeat(4)}` }, resources: { requests: { cpu: 0.5, memory: '1Gi', 'nvidia.com/gpu': 1 }, limits: { cpu: '500m', memory: '1024Mi', 'ephemeral-storage': '1e9', 'nvidia.com/gpu': '1' } } } },
        },
        katibUi: { containers: { katibUi: { image: { registry: 'localhost:5000' }, resources: { requests: { cpu: '+.5' }, limits: { cpu: '1' } } } } },
      },
      katib,
      major,
    );
    const d = deployment(docs, 'katib-controller');
    const pod = d.spec.template;
    expect(pod.metadata.labels).toMatchObject({ 'katib.kubeflow.org/component': 'controller', team: 'ml', empty: '' });
    expect(pod.metadata.annotations['prometheus.io/port']).toBe('9090');
    expect(pod.metadata.annotations['prometheus.io/scrape']).toBe('true');
    expect(pod.metadata.annotations['example.com/note']).toBe('any text: {{ not a template }}');
    expect(pod.spec.containers[0].image).toBe(`mirror.example.com:5000/kubeflow/kubeflow/katib/katib-controller@sha256:${'0123456789abcdef'.repeat(4)}`);
    expect(pod.spec.priorityClassName).toBe('system-cluster-critical');
    expect(pod.spec.tolerations[0].tolerationSeconds).toBe(30);
    expect(pod.spec.imagePullSecrets).toContainEqual({ name: 'reg-cred.v1' });
    expect(deployment(docs, 'katib-ui').spec.template.spec.containers[0].image).toMatch(/^mirror\.example\.com:5000\/kubeflow\//);
  });

  it('through the umbrella: a component value, equal request and limit, and no extra pod metadata where upstream has none', async () => {
    const docs = await render({ katib: { katibController: { replicas: 2, containers: { katibController: { resources: { requests: { memory: '1Gi' }, limits: { memory: '1073741824' } } } } } } }, path.join(dir, UMBRELLA));
    expect(deployment(docs, 'katib-controller').spec.replicas).toBe(2);
    expect(docs.length).toBeGreaterThan(500);
  });
});
