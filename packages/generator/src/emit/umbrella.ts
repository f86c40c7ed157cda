import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { UMBRELLA } from '../core/chart-model.js';
import { KfcError } from '../core/errors.js';
import { formatImage, type ImageValue } from '../core/image.js';
import { assertStrictSchema, DRAFT_07, globalDefaults, hoistRepeated, type JsonSchema, loadSchemaDefinitions, requireDefaults, withDefinitions } from '../core/schema.js';
import type { AnalyzedComponent } from '../fold/analyze.js';
import type { Feature } from '../features/contract.js';
import { addOnlyWhen, VALUES_CHECKS } from '../features/apply.js';
import { gateData, gateFiles, gateImage } from '../order/gates.js';
import type { OrderingModel } from '../order/tiers.js';
import { sourceRef, type Release } from '../upstream/release.js';
import { extraObjectsSchema, extraObjectsTemplate, kebab } from '../templatize/chart.js';
import { type ChartSummary, valuesYaml } from './chart.js';
import { combineRanges, kubeVersionConstraint } from './kube-version.js';
import { artifactHubAnnotations, chartYamlText, commonChartFields } from './metadata.js';
import { umbrellaNotesSections } from './notes.js';
import { HELPERS, notes, testFiles, umbrellaReadme } from './umbrella-docs.js';
import { resolveChecks } from './umbrella-checks.js';
import { httpRoute } from './umbrella-route.js';
import { dashboardTemplate, loadDashboardSpec } from './umbrella-dashboard.js';
import { acceptMoved, acceptRemoved, withOldSwitches, type RemovedValues } from './deprecated.js';

export interface UmbrellaOptions {
  release: Release;
  version: string;
  charts: ChartSummary[];
  components: AnalyzedComponent[];
  ordering: OrderingModel;
  /** where the component charts were written (siblings of the umbrella) */
  chartsDir: string;
  /** features shared by every chart: documented and exercised here */
  shared?: Feature[];
  /** values keys upstream removed in this release (accepted with a notice) */
  removed?: RemovedValues;
}

/** What every chart's .helmignore leaves out of its package. */
export const HELMIGNORED = ['ci', '.DS_Store'];

/**
 * The umbrella's checks of values that would be ignored: keys of a disabled component (Helm neither
 * validates nor renders it), httpRoute's and the gate jobs' values without their switch, and the
 * shared features' (global) rules.
 */
function umbrellaValueChecks(m: { name: string; values: Record<string, unknown>; files: Record<string, string> }, components: string[], shared: Feature[], route: boolean): void {
  addOnlyWhen(
    m,
    shared.flatMap((f) => f.onlyWhen),
    'the umbrella (shared features)',
  );
  if (route) {
    addOnlyWhen(
      m,
      [
        { values: 'httpRoute', except: ['enabled'], when: '.Values.httpRoute.enabled', needs: 'httpRoute.enabled: true' },
        { values: 'httpRoute.tls', except: ['certificate'], when: 'and .Values.httpRoute.enabled .Values.httpRoute.tls.certificate', needs: 'httpRoute.tls.certificate: true' },
      ],
      'the umbrella (httpRoute)',
    );
  }
  addOnlyWhen(m, [{ values: 'hooks', except: ['enabled', 'image'], when: '.Values.hooks.enabled', needs: 'hooks.enabled: true' }], 'the umbrella (hooks)');
  m.files[VALUES_CHECKS] += `{{- /* a disabled component is neither validated nor rendered: its other values would be ignored */}}
{{- range $c := list ${components.map((c) => JSON.stringify(c)).join(' ')} }}
{{- $v := index $.Values $c }}
{{- if and (kindIs "map" $v) (not $v.enabled) }}
{{- range $k, $_ := $v }}
{{- if not (has $k (list "enabled" "global")) }}
{{- fail (printf "%s.%s is set, but %s.enabled is false: the %s chart is not installed (it would be ignored)" $c $k $c $c) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
`;
}

/** A component chart's template condition as the umbrella writes it: its `.Values` are under the chart's key. */
export function umbrellaCondition(chart: string, cond: string): string {
  return cond.replace(/(^|[^\w$.)])\$?\.Values\.(?!global\b)/g, `$1(index $.Values ${JSON.stringify(chart)}).`).replace(/(^|[^\w$.)])\.Values\.global\b/g, '$1$.Values.global');
}

/** The gate follows the features: workloads they drop are not restarted, a `namespace` value moves them. */
function followFeatures(gates: ReturnType<typeof gateData>, charts: ChartSummary[]): ReturnType<typeof gateData> {
  for (const g of gates) {
    const c = charts.find((x) => x.name === g.component);
    if (!c) continue;
    for (const w of g.injected) {
      const bare = w.namespace.includes('{{');
      const conds = Object.entries(c.renderedWhen ?? {}).find(([k]) => k.toLowerCase() === `${bare ? '' : w.namespace}/${w.kind}/${w.name}`.toLowerCase())?.[1] ?? [];
      if (conds.length) w.when = conds.length === 1 ? umbrellaCondition(c.name, conds[0]) : `and ${conds.map((x) => `(${umbrellaCondition(c.name, x)})`).join(' ')}`;
      if (bare && c.namespaceWhen) w.namespace = `{{ if ${umbrellaCondition(c.name, c.namespaceWhen)} }}{{ (index $.Values ${JSON.stringify(c.name)}).namespace }}{{ else }}{{ $.Release.Namespace }}{{ end }}`;
    }
  }
  return gates;
}

type Route = ReturnType<typeof httpRoute>;

/** The umbrella's default values and the top-level properties of its schema. */
function umbrellaValues(comps: ChartSummary[], image: ImageValue, route: Route | undefined): { values: Record<string, unknown>; props: Record<string, JsonSchema> } {
  const defs = loadSchemaDefinitions();
  const values: Record<string, unknown> = { global: globalDefaults() };
  const props: Record<string, JsonSchema> = { global: structuredClone(defs.global) };
  for (const c of comps) {
    values[c.name] = { enabled: c.enabled };
    props[c.name] = {
      description: `The ${c.name} chart: ${c.description}${c.variants.length ? ` Variants: ${c.variants.join(', ')} (\`variant\`).` : ''} Its other values pass through (see its README).`,
      type: 'object',
      additionalProperties: true,
      properties: { enabled: { description: `Install ${c.name}${c.enabled ? '' : ' (commented out in the upstream example)'}.`, type: 'boolean' } },
    };
  }
  values.hooks = {
    enabled: true,
    image,
    timeoutSeconds: 1200,
    backoffLimit: 2,
    resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
    nodeSelector: {},
    tolerations: [],
    affinity: {},
    priorityClassName: '',
  };
  props.hooks = {
    description: 'Helm lifecycle hooks that order the install (docs/ordering.md); Argo CD skips them and uses sync waves.',
    type: 'object',
    additionalProperties: false,
    properties: {
      enabled: { description: 'Run the gate jobs (post-install/post-upgrade wait and sidecar restart, pre-upgrade CRD check, pre-delete webhook removal).', type: 'boolean' },
      image: { ...structuredClone(defs.image), description: `Image of the gate jobs and tests; needs sh and kubectl (default: ${formatImage(image)}, which Kubeflow already ships).` },
      timeoutSeconds: { description: 'How long a gate job may wait, in seconds.', type: 'integer', minimum: 30, maximum: 2147483647 },
      backoffLimit: { description: 'Retries of a failed gate job.', type: 'integer', minimum: 0, maximum: 2147483647 },
      resources: { ...structuredClone(defs.resources), description: 'Compute resources of the gate jobs.' },
      nodeSelector: structuredClone(defs.pod.properties.nodeSelector),
      tolerations: structuredClone(defs.pod.properties.tolerations),
      affinity: structuredClone(defs.pod.properties.affinity),
      priorityClassName: structuredClone(defs.pod.properties.priorityClassName),
    },
  };
  values.global = { ...globalDefaults(), kubeflowUmbrella: true };
  values.extraObjects = [];
  props.extraObjects = extraObjectsSchema();
  if (route) {
    values.httpRoute = route.values;
    props.httpRoute = route.schema;
  }
  values.tests = { enabled: true, nodeSelector: {}, tolerations: [], affinity: {}, priorityClassName: '' };
  props.tests = {
    description: '`helm test` pods checking that the dashboard and the auth endpoints answer.',
    type: 'object',
    additionalProperties: false,
    properties: {
      enabled: { description: 'Render the test pod (helm test: every component check in one pod), its RBAC and NetworkPolicies.', type: 'boolean' },
      nodeSelector: structuredClone(defs.pod.properties.nodeSelector),
      tolerations: structuredClone(defs.pod.properties.tolerations),
      affinity: structuredClone(defs.pod.properties.affinity),
      priorityClassName: structuredClone(defs.pod.properties.priorityClassName),
    },
  };
  return { values, props };
}

/** The umbrella's Chart.yaml: every component a dependency under its `enabled` value. */
function umbrellaChartYaml(o: UmbrellaOptions, comps: ChartSummary[], kube: ChartSummary['kube'], moved?: { conditions: Record<string, string[]> }) {
  return {
    apiVersion: 'v2',
    name: UMBRELLA,
    description: `Kubeflow ${o.release.tag} in one release: every upstream component as a dependency, installed in order (CRDs, namespaces, cert-manager, Istio, controllers, apps).`,
    type: 'application',
    version: o.version,
    appVersion: o.release.tag,
    kubeVersion: kubeVersionConstraint(kube),
    ...commonChartFields([`https://github.com/${o.release.repository}/tree/${sourceRef(o.release)}/example`]),
    keywords: ['kubeflow', 'mlops', 'machine-learning'],
    dependencies: comps.map((c) => ({ name: c.name, version: c.version, repository: `file://../${c.name}`, condition: [...(moved?.conditions[c.name] ?? []), `${c.name}.enabled`].join(',') })),
    annotations: {
      'kubeflow-charts/upstream-commit': o.release.commit,
      ...artifactHubAnnotations({ release: o.release }),
    },
  };
}

/** The umbrella's ci values files (into `files`): defaults, every variant and switch, every feature scenario. */
function umbrellaCiFiles(comps: ChartSummary[], route: Route | undefined, shared: Feature[], files: Record<string, string>): ChartSummary['ciFiles'] {
  const ciFiles: ChartSummary['ciFiles'] = [];
  const ci = (slug: string, vals: Record<string, unknown>, comment: string) => {
    const file = `ci/${String(ciFiles.length + 1).padStart(2, '0')}-${slug}-values.yaml`;
    ciFiles.push({ file, values: vals });
    files[file] = `# ${comment}\n${Object.keys(vals).length ? YAML.stringify(vals, { version: '1.1' }) : '{}\n'}`;
  };
  ci('default', {}, 'Defaults: the upstream example');
  const on = (c: ChartSummary) => (c.enabled ? {} : { enabled: true });
  for (const c of comps) {
    for (const v of c.variants.slice(1)) ci(`${c.name}-${v}`, { [c.name]: { ...on(c), variant: v } }, `The example with ${c.name}'s ${v} overlay${c.enabled ? '' : ` (${c.name} enabled)`}`);
    for (const t of c.toggles)
      ci(
        `${c.name}-${t.defaultOn ? 'without' : 'with'}-${kebab(t.name)}`,
        { [c.name]: { ...on(c), [t.group]: { [t.name]: !t.defaultOn } } },
        `The example with ${t.path} ${t.defaultOn ? 'removed' : 'added'}${c.enabled ? '' : ` (${c.name} enabled)`}`,
      );
  }
  const off = comps.filter((c) => !c.enabled);
  if (off.length) ci('all-components', Object.fromEntries(off.map((c) => [c.name, { enabled: true }])), 'Every component enabled, including those upstream leaves commented out');
  if (route) {
    ci('gateway-api', route.scenario, 'feature httpRoute: the Kubeflow ingress behind your Gateway API Gateway, with a Certificate');
    const b = route.backend;
    ciFiles[ciFiles.length - 1].feature = {
      name: 'httpRoute',
      expect: {
        fields: [
          { select: { kind: 'HTTPRoute', name: 'kubeflow', namespace: b.namespace }, path: 'spec.parentRefs[0]', equals: { name: 'default-gateway', namespace: 'default', sectionName: 'https' } },
          { select: { kind: 'HTTPRoute', name: 'kubeflow', namespace: b.namespace }, path: 'spec.hostnames', equals: ['kubeflow.example.com'] },
          { select: { kind: 'HTTPRoute', name: 'kubeflow', namespace: b.namespace }, path: 'spec.rules[0].backendRefs[0]', equals: { name: b.name, port: b.port } },
          { select: { kind: 'Certificate', name: 'kubeflow-tls', namespace: 'default' }, path: 'spec.dnsNames', equals: ['kubeflow.example.com'] },
          // the ingress gateway admits the Gateway's pods (default: the parentRef's namespace and gateway-name label)
          {
            select: { kind: 'NetworkPolicy', name: 'kubeflow-gateway-api', namespace: b.namespace },
            path: 'spec.ingress[0].from[0]',
            equals: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'default' } }, podSelector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'default-gateway' } } },
          },
        ],
      },
    };
  }
  for (const f of shared) {
    for (const sc of f.scenarios) {
      if (Object.entries(sc.requires ?? {}).some(([chart, variant]) => !comps.find((c) => c.name === chart)?.variants.includes(variant))) continue;
      ci(sc.name, { ...(sc.umbrella ?? {}), ...sc.values }, `feature ${f.name}: ${sc.description.replace(/\s+/g, ' ')}`);
      ciFiles[ciFiles.length - 1].feature = { name: f.name, expect: sc.expect };
    }
  }
  // feature scenarios a component marks for the umbrella: checked by their expectations, not parity
  for (const c of comps) {
    for (const f of c.ciFiles.filter((x) => x.feature?.umbrella)) {
      const slug = f.file.replace(/^ci\/\d+-|-values\.yaml$/g, '');
      ci(`${c.name}-${slug}`, { ...f.feature!.umbrella!, [c.name]: { ...on(c), ...f.values } }, `feature ${f.feature!.name} of ${c.name} in the umbrella`);
      ciFiles[ciFiles.length - 1].feature = { name: `${c.name}.${f.feature!.name}`, expect: f.feature!.expect };
    }
  }
  return ciFiles;
}

/** Writes the umbrella's files and vendors the component charts (as `helm dependency build` would, unpacked). */
function writeUmbrella(dir: string, files: Record<string, string>, comps: ChartSummary[], chartsDir: string): void {
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }
  // vendor the component charts unpacked (Helm reads a chart directory under charts/ as a packaged one, without
  // decompressing 30 archives at every render; a packaged umbrella holds them once, compressed with it)
  const depDir = path.join(dir, 'charts');
  mkdirSync(depDir, { recursive: true });
  for (const c of comps) cpSync(path.join(chartsDir, c.name), path.join(depDir, c.name), { recursive: true, filter: (src) => !HELMIGNORED.includes(path.relative(path.join(chartsDir, c.name), src).split(path.sep)[0]) });
  const vendored = readdirSync(depDir).length;
  if (vendored !== comps.length) throw new KfcError(`expected ${comps.length} vendored dependencies in ${depDir}, found ${vendored}`);
}

/** Writes charts/kubeflow: dependencies on every component chart, the gate hooks, NOTES and tests. */
export async function emitUmbrella(o: UmbrellaOptions): Promise<ChartSummary> {
  const dir = path.join(o.chartsDir, UMBRELLA);
  const gates = followFeatures(gateData(o.components, o.ordering), o.charts);
  const image = gateImage(o.components);
  const checks = resolveChecks(o.components, o.release.tag);
  const files: Record<string, string> = {
    'templates/_helpers.tpl': HELPERS,
    ...gateFiles(
      gates,
      (o.shared ?? []).filter((f) => f.noSidecars).map((f) => f.when),
      new Map(o.charts.map((c) => [c.name, c.crds])),
    ),
    ...testFiles(checks),
  };

  const comps = o.charts.filter((c) => c.name !== UMBRELLA);
  const route = httpRoute(checks.find((c) => c.kind === 'Service' && c.url?.endsWith('/')));
  const { values, props } = umbrellaValues(comps, image, route);
  files['templates/extra-objects.yaml'] = extraObjectsTemplate(UMBRELLA);
  umbrellaValueChecks(
    { name: UMBRELLA, values, files },
    comps.map((c) => c.name),
    o.shared ?? [],
    !!route,
  );
  if (route) files['templates/httproute.yaml'] = route.template;
  const dashboard = dashboardTemplate(loadDashboardSpec(), o.components, o.ordering, o.version);
  if (dashboard) files['templates/dashboard-config.yaml'] = dashboard;
  files['templates/NOTES.txt'] = notes(checks, umbrellaNotesSections(comps.map((c) => ({ name: c.name, readiness: c.readiness, crds: c.crds.length }))));
  // keys removed upstream: accepted for one release, with a notice in NOTES (subcharts' NOTES are not shown)
  const r = o.removed;
  const deprecations = r ? [acceptRemoved(props, r.charts[UMBRELLA] ?? [], r), ...comps.map((c) => acceptRemoved(structuredClone(c.schema.properties ?? {}), r.charts[c.name] ?? [], r, c.name))].filter(Boolean).join('\n') : '';
  if (deprecations) files['templates/NOTES.txt'] = `${files['templates/NOTES.txt']}${deprecations}\n`;
  // umbrella keys of charts that moved: accepted for one release (a renamed chart's switch honoured, the rest refused by name)
  const moved = r ? acceptMoved(props, r) : undefined;
  if (moved?.template) files['templates/moved-values.yaml'] = moved.template;
  if (moved?.notes) files['templates/NOTES.txt'] = `${files['templates/NOTES.txt']}${moved.notes}\n`;
  if (moved) for (const f of Object.keys(files)) files[f] = withOldSwitches(files[f], moved.conditions);
  const schema = withDefinitions(requireDefaults({ $schema: DRAFT_07, title: 'Values of the kubeflow umbrella chart', type: 'object', additionalProperties: false, properties: props }, values));
  assertStrictSchema(schema, UMBRELLA);

  const kube = combineRanges(comps.map((c) => c.kube));
  const chartYaml = umbrellaChartYaml(o, comps, kube, moved);

  const ciFiles = umbrellaCiFiles(comps, route, o.shared ?? [], files);
  files['Chart.yaml'] = chartYamlText(`# Generated by kubeflow-charts from ${o.release.repository}@${o.release.tag}; do not edit.`, chartYaml);
  files['values.yaml'] = valuesYaml(
    values,
    schema,
    `# Values of the kubeflow umbrella chart. Every component's own values pass through under its name,\n# e.g. istio.variant, katib.katibController.replicas. Generated by kubeflow-charts.\n\n`,
  );
  files['values.schema.json'] = `${JSON.stringify(hoistRepeated(schema), null, 2)}\n`;
  files['.helmignore'] = '# Files Helm leaves out of the packaged chart\nci/\n.DS_Store\n';
  files['README.md'] = umbrellaReadme(o, comps, schema, image);
  writeUmbrella(dir, files, comps, o.chartsDir);
  return {
    name: UMBRELLA,
    version: o.version,
    appVersion: o.release.tag,
    description: chartYaml.description,
    enabled: true,
    variants: [],
    toggles: [],
    upstreamPaths: ['example'],
    objects: 0,
    crds: [],
    schema,
    ciFiles,
    // filled from the written chart's render (inventory.ts)
    images: [],
    crdInfo: [],
    kube,
    readiness: false,
  };
}
