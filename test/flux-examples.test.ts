import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { FLUX_EXAMPLES_DIR, fluxExamples } from '../packages/generator/src/commands/flux.js';
import { pool } from '../packages/generator/src/core/util.js';
import { crossComponentViolations } from '../packages/generator/src/order/app-waves.js';
import { planObjects, type PlanObject } from '../packages/generator/src/order/sequence.js';
import { KubeValidator } from '../packages/generator/src/verify/kube-validate.js';
import { chartOf, fluxCrdObjects, fluxLock, fluxTooling, fluxValues, generateCrds, renderAsFlux, schemaErrors, shippedCrds, yamlDocs } from './gitops.js';
import { readYaml } from './helpers.js';
import { chartsFor, PINNED } from './releases.js';

const examples = () => yamlDocs(FLUX_EXAMPLES_DIR());
const releases = () => examples().filter((d) => d.doc.kind === 'HelmRelease');
/** The objects a HelmRelease's file is applied with: its own file, and sources.yaml for the components. */
const objectsFor = (file: string) =>
  examples()
    .filter((d) => d.file === file || (file.startsWith('components/') && d.file === 'components/sources.yaml'))
    .map((d) => d.doc);

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
    expect(
      v
        .validate(hr)
        .map((i) => i.path)
        .sort(),
    ).toEqual(['/spec/install/crds', '/spec/valuesFrom/0/valuesKeys']);
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
    const secret = (replicas: unknown) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'kubeflow-values', namespace: doc.metadata.namespace },
      stringData: { 'values.yaml': YAML.stringify({ [component]: { [key]: { replicas } } }) },
    });
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
    const enabled = Object.entries<any>(umbrella)
      .filter(([k, v]) => v?.enabled === true && !['hooks', 'tests', 'httpRoute'].includes(k))
      .map(([k]) => k)
      .sort();
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
