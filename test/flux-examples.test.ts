import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { FLUX_EXAMPLES_DIR, fluxExamples } from '../packages/generator/src/commands/flux.js';
import { validateValues } from '../packages/generator/src/commands/validate.js';
import { helmTemplate } from '../packages/generator/src/core/helm.js';
import { PROJECT } from '../packages/generator/src/core/project.js';
import { pool } from '../packages/generator/src/core/util.js';
import { crossComponentViolations } from '../packages/generator/src/order/app-waves.js';
import { planObjects, type PlanObject } from '../packages/generator/src/order/sequence.js';
import { KubeValidator } from '../packages/generator/src/verify/kube-validate.js';
import { fluxCrdObjects, fluxLock, fluxTooling, fluxValues, generateCrds, shippedCrds } from './flux.js';
import { readYaml } from './helpers.js';
import { chartsFor, PINNED, RELEASES } from './releases.js';

/** Every YAML document of the examples, with its file. */
export function yamlDocs(dir: string): Array<{ file: string; doc: any }> {
  const out: Array<{ file: string; doc: any }> = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, f.name);
      if (f.isDirectory()) walk(p);
      else if (f.name.endsWith('.yaml')) for (const x of YAML.parseAllDocuments(readFileSync(p, 'utf8'))) if (x.contents) out.push({ file: path.relative(dir, p), doc: x.toJS() });
    }
  };
  walk(dir);
  return out;
}

/** The built chart a HelmRelease installs: its chart (HelmRepository) or chartRef (OCIRepository) resolved among the objects, then among the mirrored releases by version. */
export function chartOf(hr: any, objects: any[]): { dir: string; chart: string; version: string } {
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === hr.metadata.namespace);
  let chart: string;
  let version: string;
  if (hr.spec.chartRef) {
    const oci = find(hr.spec.chartRef.kind, hr.spec.chartRef.name);
    if (!oci) throw new Error(`${hr.metadata.name}: no ${hr.spec.chartRef.kind} ${hr.spec.chartRef.name}`);
    expect(oci.spec.url.startsWith(`${PROJECT.ociRepository}/`), oci.spec.url).toBe(true);
    [chart, version] = [oci.spec.url.slice(PROJECT.ociRepository.length + 1), oci.spec.ref.tag];
  } else {
    const spec = hr.spec.chart.spec;
    const repo = find(spec.sourceRef.kind, spec.sourceRef.name);
    if (!repo) throw new Error(`${hr.metadata.name}: no ${spec.sourceRef.kind} ${spec.sourceRef.name}`);
    expect(repo.spec.url).toBe(PROJECT.chartRepository);
    [chart, version] = [spec.chart, spec.version];
  }
  for (const tag of Object.keys(RELEASES)) {
    const dir = path.join(chartsFor(tag), chart);
    try {
      if (String(readYaml(path.join(dir, 'Chart.yaml')).version) === String(version)) return { dir, chart, version };
    } catch {
      /* not in this release */
    }
  }
  throw new Error(`no built chart ${chart} ${version}`);
}

/** What `kfc validate` finds in values (merged over the chart's defaults): one line per issue. */
export function schemaErrors(dir: string, values: unknown): string[] {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-flux-values-')), 'values.yaml');
  writeFileSync(file, YAML.stringify(values));
  return validateValues({ chart: dir, values: [file], charts: path.dirname(dir) }).issues.map((i) => `${i.path}: expected ${i.expected}, got ${i.got}`);
}

/** helm-controller's render: the values Flux merges, the release name and target namespace of the HelmRelease, CRDs included. */
export async function renderAsFlux(dir: string, hr: any, values: unknown): Promise<string> {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-flux-values-')), 'values.yaml');
  writeFileSync(file, YAML.stringify(values));
  const min = Number(/^>=1\.(\d+)/.exec(readYaml(path.join(dir, 'Chart.yaml')).kubeVersion)![1]);
  return helmTemplate(dir, {
    release: hr.spec.releaseName ?? hr.metadata.name,
    namespace: hr.spec.targetNamespace ?? hr.metadata.namespace,
    includeCrds: true,
    valuesFiles: [file],
    extraArgs: ['--kube-version', `1.${Math.max(min, 33)}.0`],
  });
}

const examples = () => yamlDocs(FLUX_EXAMPLES_DIR());
const releases = () => examples().filter((d) => d.doc.kind === 'HelmRelease');
/** The objects a HelmRelease's file is applied with: its own file, and sources.yaml for the components. */
const objectsFor = (file: string) => examples().filter((d) => d.file === file || (file.startsWith('components/') && d.file === 'components/sources.yaml')).map((d) => d.doc);

const tooling = fluxTooling();

describe('Flux examples (examples/flux/)', () => {
  it('are what `npm run examples` generates from the pinned release', async () => {
    const files = await fluxExamples({ charts: chartsFor(PINNED) });
    const committed = [...new Set(examples().map((d) => d.file))].sort();
    expect(committed).toEqual(Object.keys(files).sort());
    for (const [f, text] of Object.entries(files)) expect(readFileSync(path.join(FLUX_EXAMPLES_DIR(), f), 'utf8'), `${f}: run npm run examples`).toBe(text);
  });

  it.skipIf(!tooling.go)(`Flux's CRDs come from the pinned modules; controller-gen reproduces the CRDs source-controller ships ${tooling.reason}`, async () => {
    const lock = fluxLock();
    const crds = await fluxCrdObjects(tooling.go!);
    expect(crds.map((c) => c.spec.names.kind).sort()).toEqual(['HelmRelease', 'HelmRepository', 'OCIRepository']);
    // the generation that gives HelmRelease's CRD, applied to source-controller's API module, gives its shipped CRDs
    const generated = await generateCrds(tooling.go!, lock.reproduce);
    const shipped = await shippedCrds(tooling.go!, { ...lock.crds.find((c) => c.module === lock.reproduce.against)!, files: undefined, dir: lock.reproduce.dir });
    expect([...generated.keys()].sort()).toEqual([...shipped.keys()].sort());
    for (const [f, text] of shipped) expect(generated.get(f), f).toBe(text);
  });

  it.skipIf(!tooling.go)(`every object is valid against Flux's CRDs (and Kubernetes' schemas), and a broken one is caught ${tooling.reason}`, async () => {
    const v = new KubeValidator();
    v.addCrds(await fluxCrdObjects(tooling.go!));
    const docs = examples();
    expect(docs.length).toBeGreaterThan(10);
    for (const { file, doc } of docs) expect(v.validate(doc), `${file} ${doc.kind} ${doc.metadata?.name}`).toEqual([]);
    const hr = structuredClone(releases()[0].doc);
    hr.spec.valuesFrom[0].valuesKeys = 'values.yaml';
    hr.spec.install.crds = 'Always';
    expect(v.validate(hr).map((i) => i.path).sort()).toEqual(['/spec/install/crds', '/spec/valuesFrom/0/valuesKeys']);
  });

  it.skipIf(!tooling.go)(`every HelmRelease renders as helm-controller renders it: Flux's values merge, its chart source, values valid for the chart ${tooling.reason}`, async () => {
    const list = releases();
    await pool(list, 2, async ({ file, doc }) => {
      const objects = objectsFor(file);
      const values = (await fluxValues(tooling.go!, [doc, ...objects.filter((o) => o.kind !== 'HelmRelease')]))[`${doc.metadata.namespace}/${doc.metadata.name}`];
      const { dir, chart } = chartOf(doc, objects);
      expect(schemaErrors(dir, values), file).toEqual([]);
      const rendered = await renderAsFlux(dir, doc, values);
      if (chart === 'kubeflow') expect(planObjects(rendered).length, file).toBeGreaterThan(100);
      expect(doc.spec.install.crds, file).toBe('CreateReplace');
      expect(doc.spec.upgrade.crds, file).toBe('CreateReplace');
    });
    // the Secret of valuesFrom comes after the ConfigMap: its values win, and a wrong one is caught
    const { file, doc } = list.find((d) => d.file === 'kubeflow-helm-repository.yaml')!;
    const objects = objectsFor(file);
    const cm = YAML.parse(objects.find((o) => o.kind === 'ConfigMap').data['values.yaml']);
    const [component, workload] = Object.entries<any>(cm).find(([, x]) => Object.values<any>(x ?? {}).some((w) => typeof w?.replicas === 'number'))!;
    const key = Object.keys(workload).find((k) => typeof workload[k]?.replicas === 'number')!;
    const secret = (replicas: unknown) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'kubeflow-values', namespace: doc.metadata.namespace }, stringData: { 'values.yaml': YAML.stringify({ [component]: { [key]: { replicas } } }) } });
    const merged = (await fluxValues(tooling.go!, [doc, ...objects.filter((o) => o.kind !== 'HelmRelease'), secret(5)]))[`${doc.metadata.namespace}/${doc.metadata.name}`] as any;
    expect(merged[component][key].replicas).toBe(5);
    expect(merged.tests).toEqual(cm.tests);
    const bad = (await fluxValues(tooling.go!, [doc, ...objects.filter((o) => o.kind !== 'HelmRelease'), secret('five')]))[`${doc.metadata.namespace}/${doc.metadata.name}`];
    expect(schemaErrors(chartOf(doc, objects).dir, bad).join('\n')).toMatch(new RegExp(`${component}\\.${key}\\.replicas: expected integer`));
    // a missing ConfigMap fails (not optional), as helm-controller fails the release
    await expect(fluxValues(tooling.go!, [doc])).rejects.toThrow(/could not resolve ConfigMap chart values reference 'flux-system\/kubeflow-values'/);
  });

  it.skipIf(!tooling.go)(`components: one HelmRelease per component the umbrella enables, dependsOn giving an order in which every component comes after what it needs ${tooling.reason}`, async () => {
    const umbrella = readYaml(path.join(chartsFor(PINNED), 'kubeflow', 'values.yaml'));
    const enabled = Object.entries<any>(umbrella).filter(([k, v]) => v?.enabled === true && !['hooks', 'tests', 'httpRoute'].includes(k)).map(([k]) => k).sort();
    const children = releases().filter((d) => d.file.startsWith('components/'));
    const chartName = (d: any) => d.spec.chart.spec.chart as string;
    expect(children.map((c) => chartName(c.doc)).sort()).toEqual(enabled);
    const byName = new Map(children.map((c) => [c.doc.metadata.name as string, chartName(c.doc)]));
    const deps = new Map(children.map((c) => [chartName(c.doc), (c.doc.spec.dependsOn ?? []).map((d: any) => byName.get(d.name)!)]));
    for (const [c, ds] of deps) for (const d of ds) expect(d, `${c} depends on an unknown HelmRelease`).toBeDefined();
    // the order Flux follows: a release starts once everything it depends on is ready (longest path; a cycle never starts)
    const waves = new Map<string, number>();
    const waveOf = (c: string, seen: string[] = []): number => {
      if (seen.includes(c)) throw new Error(`dependsOn cycle: ${[...seen, c].join(' -> ')}`);
      if (!waves.has(c)) waves.set(c, Math.max(0, ...deps.get(c)!.map((d: string) => waveOf(d, [...seen, c]) + 1)));
      return waves.get(c)!;
    };
    for (const c of deps.keys()) waveOf(c);
    const renders = await pool(children, 2, async ({ file, doc }) => {
      const objects = objectsFor(file);
      const values = (await fluxValues(tooling.go!, [doc, ...objects.filter((o) => o.kind !== 'HelmRelease')]))[`${doc.metadata.namespace}/${doc.metadata.name}`];
      return { chart: chartName(doc), rendered: await renderAsFlux(chartOf(doc, objects).dir, doc, values) };
    });
    const objs: PlanObject[] = [];
    const comp = new Map<string, string>();
    for (const r of renders) {
      for (const o of planObjects(r.rendered)) {
        expect(comp.has(o.key), `${o.key} rendered by ${r.chart} and ${comp.get(o.key)}`).toBe(false);
        comp.set(o.key, r.chart);
        objs.push(o);
      }
    }
    const componentOf = (o: PlanObject) => comp.get(o.key);
    expect(crossComponentViolations(objs, componentOf, waves)).toEqual([]);
    // the check can fail: without dependsOn everything starts at once
    expect(crossComponentViolations(objs, componentOf, new Map([...waves.keys()].map((c) => [c, 0]))).length).toBeGreaterThan(0);
  });
});
