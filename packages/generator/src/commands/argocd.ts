import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { UMBRELLA } from '../core/chart-model.js';
import { helmTemplate } from '../core/helm.js';
import { parseYaml } from '../core/model.js';
import { repoRoot } from '../core/paths.js';
import { PROJECT } from '../core/project.js';
import { componentWaves } from '../order/app-waves.js';
import { ignoreDifferences, type IgnoreDifference } from '../order/argocd.js';
import { planObjects, type PlanObject } from '../order/sequence.js';

/**
 * The Argo CD examples in examples/argocd/, generated from the built charts
 * so that they stay true: versions, the components of the release, the waves
 * between their Applications (order/app-waves.ts) and the ignoreDifferences
 * for fields the cluster fills in after apply (order/argocd.ts), all read
 * from the render.
 */

export const EXAMPLES_DIR = () => path.join(repoRoot(), 'examples', 'argocd');
export const NAMESPACE = 'kubeflow-charts';

export const SYNC_POLICY = {
  automated: { prune: true, selfHeal: true },
  syncOptions: ['CreateNamespace=true', 'ServerSideApply=true', 'RespectIgnoreDifferences=true'],
  retry: { limit: 10, backoff: { duration: '30s', factor: 2, maxDuration: '10m' } },
};

export function doc(header: string, ...objects: unknown[]): string {
  return `${header}${objects.map((o) => YAML.stringify(o, { lineWidth: 0, indentSeq: false })).join('---\n')}`;
}

export function application(o: { name: string; wave?: number; source: Record<string, unknown>; ignore: IgnoreDifference[] }) {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: o.name,
      namespace: 'argocd',
      ...(o.wave !== undefined ? { annotations: { 'argocd.argoproj.io/sync-wave': String(o.wave) } } : {}),
      finalizers: ['resources-finalizer.argocd.argoproj.io'],
    },
    spec: {
      project: 'default',
      source: o.source,
      destination: { server: 'https://kubernetes.default.svc', namespace: NAMESPACE },
      syncPolicy: SYNC_POLICY,
      ...(o.ignore.length ? { ignoreDifferences: o.ignore } : {}),
    },
  };
}

/** A values example that exists in every release: one replica count raised, the test pods off. */
export function exampleValues(chartsDir: string): Record<string, unknown> {
  const values: Record<string, unknown> = { tests: { enabled: false }, global: { imageRegistry: '' } };
  for (const c of readdirSync(chartsDir).sort()) {
    if (c === UMBRELLA) continue;
    let v: any;
    try {
      v = parseYaml(readFileSync(path.join(chartsDir, c, 'values.yaml'), 'utf8'));
    } catch {
      continue;
    }
    const w = Object.entries<any>(v ?? {}).find(([, x]) => x && typeof x === 'object' && typeof x.replicas === 'number');
    if (w) return { ...values, [c]: { [w[0]]: { replicas: Math.max(2, w[1].replicas) } } };
  }
  return values;
}

/** What the examples are generated from: the built umbrella, its default render and the install waves of its components. */
export interface UmbrellaPlan {
  chartsDir: string;
  version: string;
  appVersion: string;
  /** the umbrella's default render (CRDs included), as plan objects */
  objs: PlanObject[];
  /** the component chart that renders an object (undefined: the umbrella's own) */
  componentOf: (x: PlanObject) => string | undefined;
  /** every component the umbrella enables by default -> its install wave (order/app-waves.ts) */
  waves: Map<string, number>;
}

export async function umbrellaPlan(charts?: string): Promise<UmbrellaPlan> {
  const chartsDir = path.resolve(charts ?? path.join(repoRoot(), 'charts'));
  const umbrella = parseYaml(readFileSync(path.join(chartsDir, UMBRELLA, 'Chart.yaml'), 'utf8'));
  const rendered = await helmTemplate(path.join(chartsDir, UMBRELLA), { includeCrds: true, release: UMBRELLA, namespace: NAMESPACE });
  const objs = planObjects(rendered);
  const componentOf = (x: PlanObject) => /^kubeflow\/charts\/([^/]+)\//.exec(x.source)?.[1];
  const waves = componentWaves(
    objs.filter((x) => componentOf(x)),
    componentOf,
  );
  // every component the umbrella enables, also one that renders nothing by default (user-namespace
  // without profiles): users add values to it; it goes last, after everything it could depend on
  const last = Math.max(0, ...waves.values());
  const enabled = Object.entries<any>(parseYaml(readFileSync(path.join(chartsDir, UMBRELLA, 'values.yaml'), 'utf8')) ?? {})
    .filter(([k, v]) => v?.enabled === true && existsSync(path.join(chartsDir, k, 'Chart.yaml')))
    .map(([k]) => k);
  for (const c of enabled) if (!waves.has(c)) waves.set(c, last);
  return { chartsDir, version: String(umbrella.version), appVersion: String(umbrella.appVersion), objs, componentOf, waves };
}

/** The examples, file name -> text. */
export async function argocdExamples(o: { charts?: string } = {}): Promise<Record<string, string>> {
  const { chartsDir, version, appVersion, objs, componentOf, waves } = await umbrellaPlan(o.charts);
  const header = `# Generated by \`npm run examples\` from the charts of Kubeflow ${appVersion} (chart ${version}); see README.md here.\n`;
  const files: Record<string, string> = {};
  const values = exampleValues(chartsDir);
  const ignoreAll = ignoreDifferences(objs);

  files['kubeflow-helm-repository.yaml'] = doc(
    header,
    application({ name: UMBRELLA, source: { repoURL: PROJECT.chartRepository, chart: UMBRELLA, targetRevision: version, helm: { releaseName: UMBRELLA, valuesObject: values } }, ignore: ignoreAll }),
  );
  const oci = PROJECT.ociRepository.replace(/^oci:\/\//, '');
  files['kubeflow-oci.yaml'] = doc(
    header,
    ociRepositorySecret(),
    application({ name: UMBRELLA, source: { repoURL: oci, chart: UMBRELLA, targetRevision: version, helm: { releaseName: UMBRELLA, values: YAML.stringify(values, { indentSeq: false }) } }, ignore: ignoreAll }),
  );

  // app-of-apps: one Application per component the umbrella enables by default, in waves
  files['app-of-apps/root.yaml'] = doc(header, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'kubeflow-apps', namespace: 'argocd', finalizers: ['resources-finalizer.argocd.argoproj.io'] },
    spec: {
      project: 'default',
      source: { repoURL: `${PROJECT.source}.git`, targetRevision: 'main', path: 'examples/argocd/app-of-apps/components' },
      destination: { server: 'https://kubernetes.default.svc', namespace: 'argocd' },
      syncPolicy: { automated: { prune: true, selfHeal: true }, retry: SYNC_POLICY.retry },
    },
  });
  // release name `kubeflow` for every child: the objects get the names the umbrella gives them, so
  // moving between the umbrella Application and the app-of-apps keeps every object (and its data)
  for (const [c, wave] of [...waves.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    files[`app-of-apps/components/${c}.yaml`] = doc(
      header,
      application({
        name: `kubeflow-${c}`,
        wave,
        source: { repoURL: PROJECT.chartRepository, chart: c, targetRevision: version, helm: { releaseName: UMBRELLA, valuesObject: { global: { kubeflowUmbrella: true } } } },
        ignore: ignoreDifferences(objs.filter((x) => componentOf(x) === c)),
      }),
    );
  }
  return files;
}

/** Argo CD's repository Secret for the OCI registry (the Application names the registry without oci://). */
export function ociRepositorySecret() {
  const oci = PROJECT.ociRepository.replace(/^oci:\/\//, '');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'kubeflow-charts-oci', namespace: 'argocd', labels: { 'argocd.argoproj.io/secret-type': 'repository' } },
    stringData: { name: 'kubeflow-charts-oci', type: 'helm', url: oci, enableOCI: 'true' },
  };
}

/** Writes the examples (replacing the generated files, keeping README.md). */
export async function writeArgocdExamples(o: { charts?: string; out?: string } = {}): Promise<string[]> {
  const out = path.resolve(o.out ?? EXAMPLES_DIR());
  const files = await argocdExamples(o);
  rmSync(path.join(out, 'app-of-apps'), { recursive: true, force: true });
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(out, f)), { recursive: true });
    writeFileSync(path.join(out, f), text);
  }
  return Object.keys(files);
}
