import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { UMBRELLA } from '../core/chart-model.js';
import { repoRoot } from '../core/paths.js';
import { PROJECT } from '../core/project.js';
import { componentDependencies } from '../order/app-waves.js';
import { doc, exampleValues, NAMESPACE, umbrellaPlan } from './argocd.js';

/**
 * Flux objects for the charts: the examples in examples/flux/ (generated from the built charts,
 * like the Argo CD ones) and what `kfc init` writes for Flux. The umbrella as one HelmRelease (from
 * the Helm repository or from the OCI registry), or one HelmRelease per component whose `dependsOn`
 * follow the install waves of the Argo CD app-of-apps (order/app-waves.ts). Values come from a
 * ConfigMap, and from a Secret for what you keep out of Git in plain text, through `valuesFrom`.
 */

export const FLUX_EXAMPLES_DIR = () => path.join(repoRoot(), 'examples', 'flux');
/** Where the Flux objects live (the namespace `flux install` creates). */
export const FLUX_NAMESPACE = 'flux-system';
const HELM_REPOSITORY = 'kubeflow-charts';
/** helm-controller upgrades a release as soon as a ConfigMap/Secret with this label changes (Flux 2.8+). */
const WATCH = { 'reconcile.fluxcd.io/watch': 'Enabled' };

export type ChartSource = 'helm-repository' | 'oci';

export function helmRepository() {
  return {
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'HelmRepository',
    metadata: { name: HELM_REPOSITORY, namespace: FLUX_NAMESPACE },
    spec: { url: PROJECT.chartRepository, interval: '1h' },
  };
}

/** The chart as an OCI artifact: the Helm chart layer of `<registry>/<chart>:<version>`. */
export function ociRepository(chart: string, version: string) {
  return {
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'OCIRepository',
    metadata: { name: chart, namespace: FLUX_NAMESPACE },
    spec: {
      url: `${PROJECT.ociRepository}/${chart}`,
      ref: { tag: version },
      layerSelector: { mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', operation: 'copy' },
      interval: '1h',
    },
  };
}

/** A ConfigMap of values files (one key each), watched by helm-controller. */
export function valuesConfigMap(name: string, data: Record<string, string>) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: FLUX_NAMESPACE, labels: WATCH }, data };
}

export interface ValuesRef {
  kind: 'ConfigMap' | 'Secret';
  name: string;
  valuesKey?: string;
  optional?: boolean;
}

export interface HelmReleaseOptions {
  name: string;
  chart: string;
  version: string;
  source: ChartSource;
  /** the Helm release's name (its objects' names derive from it) */
  releaseName: string;
  valuesFrom: ValuesRef[];
  values?: Record<string, unknown>;
  dependsOn?: string[];
  /** Helm's timeout: the umbrella's gate jobs wait up to hooks.timeoutSeconds */
  timeout: string;
}

/**
 * A HelmRelease installing `chart` into the namespace the other examples use, its Helm release
 * stored there too (`helm list -n kubeflow-charts`, `helm test`). CRDs are created and replaced on
 * upgrades (Helm alone never upgrades them); a failed install or upgrade is retried.
 */
export function helmRelease(o: HelmReleaseOptions) {
  const chart = o.source === 'oci' ? { chartRef: { kind: 'OCIRepository', name: o.chart } } : { chart: { spec: { chart: o.chart, version: o.version, sourceRef: { kind: 'HelmRepository', name: HELM_REPOSITORY }, interval: '1h' } } };
  return {
    apiVersion: 'helm.toolkit.fluxcd.io/v2',
    kind: 'HelmRelease',
    metadata: { name: o.name, namespace: FLUX_NAMESPACE },
    spec: {
      interval: '30m',
      timeout: o.timeout,
      releaseName: o.releaseName,
      targetNamespace: NAMESPACE,
      storageNamespace: NAMESPACE,
      ...(o.dependsOn?.length ? { dependsOn: o.dependsOn.map((name) => ({ name })) } : {}),
      ...chart,
      install: { createNamespace: true, crds: 'CreateReplace', remediation: { retries: 3 } },
      upgrade: { crds: 'CreateReplace', remediation: { retries: 3 } },
      ...(o.values ? { values: o.values } : {}),
      valuesFrom: o.valuesFrom,
    },
  };
}

/** The umbrella's HelmRelease and its source, values from the ConfigMap `configMap` (and the optional Secret of the same name). */
export function umbrellaRelease(o: { version: string; source: ChartSource; configMap: string }) {
  return [
    o.source === 'oci' ? ociRepository(UMBRELLA, o.version) : helmRepository(),
    helmRelease({
      name: UMBRELLA,
      chart: UMBRELLA,
      version: o.version,
      source: o.source,
      releaseName: UMBRELLA,
      timeout: '25m',
      valuesFrom: [
        { kind: 'ConfigMap', name: o.configMap },
        { kind: 'Secret', name: o.configMap, optional: true },
      ],
    }),
  ];
}

/**
 * One HelmRelease per component, each depending on the components it needs (order/app-waves.ts:
 * whose CRDs it uses, whose webhooks admit it, whose Namespaces hold it): Flux installs a release once
 * those are ready, the order the Argo CD app-of-apps' sync waves give. Values: `global.yaml` of the ConfigMap for every component, then the
 * component's own key `<component>.yaml` of the ConfigMap and of the Secret when present.
 */
export function componentReleases(o: { version: string; needs: Map<string, string[]>; configMap: string }) {
  return [...o.needs.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([c, needs]) => ({
      component: c,
      release: helmRelease({
        name: `${UMBRELLA}-${c}`,
        chart: c,
        version: o.version,
        source: 'helm-repository',
        // one Helm release each (Flux stores each release): names derived from it differ from the umbrella's
        releaseName: `${UMBRELLA}-${c}`,
        timeout: '15m',
        dependsOn: needs.map((d) => `${UMBRELLA}-${d}`),
        values: { global: { kubeflowUmbrella: true } },
        valuesFrom: [
          { kind: 'ConfigMap', name: o.configMap, valuesKey: 'global.yaml' },
          { kind: 'ConfigMap', name: o.configMap, valuesKey: `${c}.yaml`, optional: true },
          { kind: 'Secret', name: o.configMap, valuesKey: `${c}.yaml`, optional: true },
        ],
      }),
    }));
}

const stringify = (v: unknown) => YAML.stringify(v, { lineWidth: 0, indentSeq: false });

/** The examples, file name -> text. */
export async function fluxExamples(o: { charts?: string } = {}): Promise<Record<string, string>> {
  const { chartsDir, version, appVersion, objs, componentOf, waves } = await umbrellaPlan(o.charts);
  const header = `# Generated by \`npm run examples\` from the charts of Kubeflow ${appVersion} (chart ${version}); see README.md here.\n`;
  const values = exampleValues(chartsDir);
  const files: Record<string, string> = {};
  for (const source of ['helm-repository', 'oci'] as const) {
    const [src, release] = umbrellaRelease({ version, source, configMap: 'kubeflow-values' });
    files[`kubeflow-${source}.yaml`] = doc(header, src, valuesConfigMap('kubeflow-values', { 'values.yaml': stringify(values) }), release);
  }
  // components: the example's global values for every component, its component values under the component's key
  const { global, tests: _tests, ...perComponent } = values as Record<string, unknown>;
  const data: Record<string, string> = { 'global.yaml': stringify({ global }) };
  for (const [c, v] of Object.entries(perComponent)) if (waves.has(c)) data[`${c}.yaml`] = stringify(v);
  files['components/sources.yaml'] = doc(header, helmRepository(), valuesConfigMap('kubeflow-components-values', data));
  const needs = componentDependencies(
    objs.filter((x) => componentOf(x)),
    componentOf,
    waves,
  );
  for (const { component, release } of componentReleases({ version, needs, configMap: 'kubeflow-components-values' })) {
    files[`components/${component}.yaml`] = doc(header, release);
  }
  return files;
}

/** Writes the examples (replacing the generated files, keeping README.md). */
export async function writeFluxExamples(o: { charts?: string; out?: string } = {}): Promise<string[]> {
  const out = path.resolve(o.out ?? FLUX_EXAMPLES_DIR());
  const files = await fluxExamples(o);
  rmSync(path.join(out, 'components'), { recursive: true, force: true });
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(out, f)), { recursive: true });
    writeFileSync(path.join(out, f), text);
  }
  return Object.keys(files);
}
