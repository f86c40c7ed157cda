import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { argocdExamples, EXAMPLES_DIR } from '../packages/generator/src/commands/argocd.js';
import { validateValues } from '../packages/generator/src/commands/validate.js';
import { helmTemplate } from '../packages/generator/src/core/helm.js';
import { parseYaml, splitObjects } from '../packages/generator/src/core/model.js';
import { pool } from '../packages/generator/src/core/util.js';
import { crossComponentViolations } from '../packages/generator/src/order/app-waves.js';
import { covers, mutatedFields } from '../packages/generator/src/order/argocd.js';
import { planObjects, type PlanObject } from '../packages/generator/src/order/sequence.js';
import { KubeValidator } from '../packages/generator/src/verify/kube-validate.js';
import { argocdCrdObjects, fluxTooling } from './gitops.js';
import { readYaml } from './helpers.js';
import { chartsFor, PINNED, RELEASES } from './releases.js';

/** Every YAML document of the examples, with its file. */
function exampleDocs(): Array<{ file: string; doc: any }> {
  const out: Array<{ file: string; doc: any }> = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, f.name);
      if (f.isDirectory()) walk(p);
      else if (f.name.endsWith('.yaml')) for (const x of YAML.parseAllDocuments(readFileSync(p, 'utf8'))) out.push({ file: path.relative(EXAMPLES_DIR(), p), doc: x.toJS() });
    }
  };
  walk(EXAMPLES_DIR());
  return out;
}

/** The built chart an Application's source names (chart + targetRevision), among the mirrored releases. */
function chartDir(source: any): string {
  for (const tag of Object.keys(RELEASES)) {
    const dir = path.join(chartsFor(tag), source.chart);
    try {
      if (String(readYaml(path.join(dir, 'Chart.yaml')).version) === String(source.targetRevision)) return dir;
    } catch {
      /* not in this release */
    }
  }
  throw new Error(`no built chart ${source.chart} ${source.targetRevision}`);
}

/** What Argo CD renders for an Application: helm template --include-crds with its values, release name and namespace. */
async function renderAsArgo(app: any): Promise<{ dir: string; values: any; rendered: string }> {
  const src = app.spec.source;
  const dir = chartDir(src);
  const values = src.helm?.valuesObject ?? (src.helm?.values ? parseYaml(src.helm.values) : {});
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-argo-values-')), 'values.yaml');
  writeFileSync(file, YAML.stringify(values));
  const min = Number(/^>=1\.(\d+)/.exec(readYaml(path.join(dir, 'Chart.yaml')).kubeVersion)![1]);
  const rendered = await helmTemplate(dir, {
    release: src.helm?.releaseName ?? app.metadata.name,
    namespace: app.spec.destination.namespace,
    includeCrds: true,
    valuesFiles: [file],
    extraArgs: ['--kube-version', `1.${Math.max(min, 33)}.0`, '--api-versions', 'argoproj.io/v1alpha1'],
  });
  return { dir, values, rendered };
}

/** What `kfc validate` finds in values (merged over the chart's defaults, subchart keys against their charts): one line per issue. */
function schemaErrors(dir: string, values: any): string[] {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-argo-values-')), 'values.yaml');
  writeFileSync(file, YAML.stringify(values));
  return validateValues({ chart: dir, values: [file], charts: path.dirname(dir) }).issues.map((i) => `${i.path}: expected ${i.expected}, got ${i.got}`);
}

const apps = () => exampleDocs().filter((d) => d.doc?.kind === 'Application' && d.doc.spec.source.chart);
const tooling = fluxTooling();

describe('Argo CD examples (examples/argocd/)', () => {
  it('are what `npm run examples` generates from the pinned release', async () => {
    const files = await argocdExamples({ charts: chartsFor(PINNED) });
    const committed = exampleDocs().map((d) => d.file);
    expect([...new Set(committed)].sort()).toEqual(Object.keys(files).sort());
    for (const [f, text] of Object.entries(files)) expect(readFileSync(path.join(EXAMPLES_DIR(), f), 'utf8'), `${f}: run npm run examples`).toBe(text);
  });

  it.skipIf(!tooling.go)(`every object is valid against Argo CD's CRDs (pinned, from its Go module) and Kubernetes' schemas, and a broken one is caught ${tooling.reason}`, async () => {
    const v = new KubeValidator();
    v.addCrds(await argocdCrdObjects(tooling.go!));
    for (const { file, doc } of exampleDocs()) expect(v.validate(doc), `${file} ${doc.kind} ${doc.metadata?.name}`).toEqual([]);
    const app = structuredClone(apps()[0].doc);
    app.spec.syncPolicy.automated.selfheal = true;
    expect(v.validate(app).map((i) => i.path)).toEqual(['/spec/syncPolicy/automated/selfheal']);
  });

  it("every Application renders as Argo CD renders it, and its values pass the charts' schemas", async () => {
    const list = apps();
    expect(list.length).toBeGreaterThan(3);
    await pool(list, 2, async ({ file, doc }) => {
      const { dir, values, rendered } = await renderAsArgo(doc);
      expect(schemaErrors(dir, values), file).toEqual([]);
      // a component may render nothing with defaults (user-namespace without profiles); the umbrella never does
      if (!file.startsWith('app-of-apps/')) expect(splitObjects(rendered, file).length, file).toBeGreaterThan(0);
      const sync = doc.spec.syncPolicy;
      expect(sync.syncOptions, file).toEqual(expect.arrayContaining(['ServerSideApply=true', 'RespectIgnoreDifferences=true']));
      expect(sync.retry.backoff.factor, file).toBeGreaterThan(1);
    });
    // a wrong value is caught
    const helmApp = list.find((d) => d.file === 'kubeflow-helm-repository.yaml')!.doc;
    expect(schemaErrors(chartDir(helmApp.spec.source), { ...helmApp.spec.source.helm.valuesObject, katib: { katibController: { replicas: 'two' } } }).join('\n')).toMatch(/katib\.katibController\.replicas: expected integer/);
  });

  it('ignoreDifferences cover every field the cluster fills in after apply (order/argocd.ts rules), and each rule names something rendered', async () => {
    expect(apps().length).toBeGreaterThan(0);
    for (const { file, doc } of apps()) {
      const { rendered } = await renderAsArgo(doc);
      const objs = planObjects(rendered);
      const rules: any[] = doc.spec.ignoreDifferences ?? [];
      const fields = mutatedFields(objs);
      expect(
        fields.filter((f) => !rules.some((r) => covers(r, f))).map((f) => `${f.kind} ${f.name} ${f.pointer}`),
        file,
      ).toEqual([]);
      for (const r of rules.filter((x) => x.name))
        expect(
          objs.some((o) => o.kind === r.kind && o.name === r.name),
          `${file}: ${r.kind} ${r.name}`,
        ).toBe(true);
      if (doc.spec.source.chart === 'kubeflow') expect(fields.length, file).toBeGreaterThan(0);
    }
  });

  it('app-of-apps: one Application per component the umbrella enables, rendering together what the umbrella renders, in waves that respect every dependency', async () => {
    const umbrellaDir = path.join(chartsFor(PINNED), 'kubeflow');
    const enabled = Object.entries<any>(readYaml(path.join(umbrellaDir, 'values.yaml')))
      .filter(([k, v]) => v?.enabled === true && !['hooks', 'tests'].includes(k))
      .map(([k]) => k)
      .sort();
    const children = apps().filter((a) => a.file.startsWith('app-of-apps/components/'));
    expect(children.map((c) => c.doc.spec.source.chart).sort()).toEqual(enabled);
    const waves = new Map<string, number>(children.map((c) => [c.doc.spec.source.chart, Number(c.doc.metadata.annotations['argocd.argoproj.io/sync-wave'])]));
    const renders = await pool(children, 2, async (c) => ({ chart: c.doc.spec.source.chart as string, rendered: (await renderAsArgo(c.doc)).rendered }));
    const objs: PlanObject[] = [];
    const comp = new Map<string, string>();
    for (const r of renders) {
      for (const o of planObjects(r.rendered)) {
        expect(comp.has(o.key), `${o.key} rendered by ${r.chart} and ${comp.get(o.key)}`).toBe(false);
        comp.set(o.key, r.chart);
        objs.push(o);
      }
    }
    // together: the umbrella's objects (its own lifecycle hooks aside)
    const umbrella = planObjects(await helmTemplate(umbrellaDir, { includeCrds: true, namespace: 'kubeflow-charts' })).filter((o) => !/^kubeflow\/templates\//.test(o.source));
    expect(objs.map((o) => o.key).sort()).toEqual(umbrella.map((o) => o.key).sort());
    const componentOf = (o: PlanObject) => comp.get(o.key);
    expect(crossComponentViolations(objs, componentOf, waves)).toEqual([]);
    // the check can fail: all in one wave, or the waves reversed
    expect(crossComponentViolations(objs, componentOf, new Map([...waves.keys()].map((c) => [c, 0]))).length).toBeGreaterThan(0);
    const max = Math.max(...waves.values());
    expect(crossComponentViolations(objs, componentOf, new Map([...waves].map(([c, w]) => [c, max - w]))).length).toBeGreaterThan(0);
  });
});
