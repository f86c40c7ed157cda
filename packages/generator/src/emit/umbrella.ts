import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { AnalyzedComponent } from '../fold/analyze.js';
import { type ChartSummary, KUBEFLOW_ICON, valuesYaml } from './chart.js';
import { KfcError } from '../core/errors.js';
import { packChart } from '../core/tar.js';
import { parseYaml } from '../core/model.js';
import { HOOK_WEIGHTS, type OrderingModel } from '../order/tiers.js';
import { DRAFT_07, loadSchemaDefinitions, schemaRows } from '../core/schema.js';
import { formatImage, parseImage, type ImageValue } from '../core/image.js';
import { podTemplate } from '../core/model.js';
import type { Release } from '../upstream/release.js';

export const UMBRELLA = 'kubeflow';
/** Label on the umbrella's own lifecycle objects (gate jobs, their RBAC, tests). */
export const LIFECYCLE_LABEL = 'kubeflow-charts.io/lifecycle';

/** What the umbrella's gate hooks need to know about one component. */
export interface GateData {
  component: string;
  crds: string[];
  /** deployments serving admission webhooks (`namespace/name`) */
  webhookServers: string[];
  /** workloads expected to run with an Istio sidecar */
  injected: Array<{ namespace: string; kind: string; name: string; selector: string }>;
  /** all admission webhook configurations (`Kind/name`) */
  webhooks: string[];
}

export function gateData(components: AnalyzedComponent[], ordering: OrderingModel): GateData[] {
  return components.map((c) => {
    const objs = new Map(c.configs.flatMap((x) => x.objects).map((o) => [o.key, o]));
    const webhooks = ordering.webhooks.filter((w) => w.component === c.plan.name);
    const servers = new Set<string>();
    for (const w of ordering.webhooks) {
      for (const b of w.backends) {
        const o = objs.get(b);
        if (o && o.kind === 'Deployment') servers.add(`${o.namespace}/${o.name}`);
      }
    }
    const injected: GateData['injected'] = [];
    for (const k of ordering.injected) {
      const o = objs.get(k);
      if (!o || !['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind)) continue;
      const d = parseYaml(o.raw);
      const tmpl = podTemplate(d, o.kind);
      if (tmpl?.metadata?.annotations?.['sidecar.istio.io/inject'] === 'false') continue;
      const sel = Object.entries<string>(d.spec?.selector?.matchLabels ?? {})
        .map(([a, b]) => `${a}=${b}`)
        .join(',');
      if (sel) injected.push({ namespace: o.namespace ?? 'default', kind: o.kind.toLowerCase(), name: o.name, selector: sel });
    }
    return {
      component: c.plan.name,
      crds: ordering.crds.filter((x) => x.component === c.plan.name).map((x) => x.name).sort(),
      webhookServers: [...servers].sort(),
      injected: injected.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`)),
      webhooks: webhooks.map((w) => `${w.kind}/${w.name}`).sort(),
    };
  });
}

/** An upstream image with a shell and kubectl for the gate jobs (one Kubeflow already ships). */
export function gateImage(components: AnalyzedComponent[]): ImageValue {
  const images: string[] = [];
  for (const c of components) for (const o of c.configs[0]?.objects ?? []) for (const m of o.raw.matchAll(/^\s+(?:- )?image: (\S+)$/gm)) images.push(String(YAML.parse(m[1])));
  const pick = (re: RegExp) => images.filter((i) => re.test(parseImage(i).repository) && parseImage(i).tag && parseImage(i).tag !== 'latest').sort()[0];
  const found = pick(/(^|\/)k8s$/) ?? pick(/(^|\/)kubectl$/);
  return parseImage(found ?? 'registry.k8s.io/kubectl:v1.33.0');
}

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const enabled = (c: string) => `(index .Values ${JSON.stringify(c)}).enabled`;

function hookMeta(name: string, events: string, weight: number, argo: string, deletePolicy = 'before-hook-creation,hook-succeeded'): string {
  return `metadata:
  name: {{ .Release.Name }}-${name}
  namespace: {{ .Release.Namespace }}
  labels:
    ${LIFECYCLE_LABEL}: ${name}
    app.kubernetes.io/managed-by: {{ .Release.Service }}
    app.kubernetes.io/instance: {{ .Release.Name }}
    helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
  annotations:
    helm.sh/hook: ${events}
    helm.sh/hook-weight: "${weight}"
    helm.sh/hook-delete-policy: ${deletePolicy}
    argocd.argoproj.io/hook: ${argo}`;
}

/**
 * The spec of a pod that runs `script` with sh in the hook image (gate jobs and
 * test pods), indented by `i`; jobs add the hooks' scheduling, resources and env.
 */
function scriptPodSpec(i: number, o: { account: string; container: string; script: string; job: boolean }): string {
  const p = ' '.repeat(i);
  const lines = [
    'restartPolicy: Never',
    `serviceAccountName: {{ .Release.Name }}-${o.account}`,
    'securityContext:',
    '  runAsNonRoot: true',
    '  runAsUser: 65532',
    '  seccompProfile:',
    '    type: RuntimeDefault',
    '{{- with .Values.global.imagePullSecrets }}',
    `imagePullSecrets: {{- toYaml . | nindent ${i + 2} }}`,
    '{{- end }}',
    ...(o.job
      ? ['{{- with .Values.hooks.nodeSelector }}', `nodeSelector: {{- toYaml . | nindent ${i + 2} }}`, '{{- end }}', '{{- with .Values.hooks.tolerations }}', `tolerations: {{- toYaml . | nindent ${i + 2} }}`, '{{- end }}']
      : []),
    'containers:',
    `- name: ${o.container}`,
    '  image: {{ include "kubeflow.hookImage" . | quote }}',
    '  securityContext:',
    '    allowPrivilegeEscalation: false',
    '    capabilities:',
    '      drop: [ALL]',
    ...(o.job
      ? [`  resources: {{- toYaml .Values.hooks.resources | nindent ${i + 4} }}`, '  env:', '  - name: HOME', '    value: /tmp', '  - name: TIMEOUT', '    value: "{{ .Values.hooks.timeoutSeconds }}s"']
      : []),
    '  command: [sh, -ec]',
    '  args:',
    '  - |',
  ];
  const script = o.script.split('\n').map((l) => (l ? `${p}    ${l}` : ''));
  return [...lines.map((l) => `${p}${l}`), ...script].join('\n');
}

function jobTemplate(name: string, events: string, weight: number, argo: string, script: string): string {
  return `{{- if .Values.hooks.enabled }}
apiVersion: batch/v1
kind: Job
${hookMeta(name, events, weight, argo)}
spec:
  backoffLimit: {{ .Values.hooks.backoffLimit }}
  activeDeadlineSeconds: {{ .Values.hooks.timeoutSeconds }}
  template:
    metadata:
      labels:
        ${LIFECYCLE_LABEL}: ${name}
        sidecar.istio.io/inject: "false"
      annotations:
        sidecar.istio.io/inject: "false"
    spec:
${scriptPodSpec(6, { account: 'gate', container: name, script, job: true })}
{{- end }}
`;
}

/** The wait gate: CRDs Established, webhook servers and istiod Available. */
function waitScript(gates: GateData[]): string {
  const lines = ['echo "kubeflow-charts gate: waiting for CRDs and admission webhook servers"'];
  for (const g of gates) {
    if (!g.crds.length && !g.webhookServers.length) continue;
    lines.push(`{{- if ${enabled(g.component)} }}`);
    for (const c of g.crds) lines.push(`if kubectl get crd ${c} >/dev/null 2>&1; then kubectl wait --for=condition=Established --timeout="$TIMEOUT" crd/${c}; fi`);
    for (const s of g.webhookServers) {
      const [ns, name] = s.split('/');
      lines.push(`kubectl -n ${ns} rollout status deployment/${name} --timeout="$TIMEOUT"`);
    }
    lines.push('{{- end }}');
  }
  lines.push('echo "kubeflow-charts gate: ready"');
  return lines.join('\n');
}

/** Restarts workloads that started before the sidecar injector served. */
function restartScript(gates: GateData[]): string {
  const lines = [
    'restart() { # namespace kind name selector',
    '  kubectl -n "$1" get "$2" "$3" >/dev/null 2>&1 || return 0',
    `  pods=$(kubectl -n "$1" get pods -l "$4" -o jsonpath='{range .items[*]}{.metadata.name}:{.spec.containers[*].name} {.spec.initContainers[*].name};{end}')`,
    '  missing=$(printf "%s" "$pods" | tr ";" "\\n" | grep -v "istio-proxy" | grep -c . || true)',
    '  if [ "$missing" -gt 0 ]; then echo "restarting $2/$3 in $1: $missing pod(s) without sidecar"; kubectl -n "$1" rollout restart "$2/$3"; fi',
    '}',
  ];
  for (const g of gates) {
    if (!g.injected.length) continue;
    lines.push(`{{- if ${enabled(g.component)} }}`);
    for (const w of g.injected) lines.push(`restart ${w.namespace} ${w.kind} ${w.name} ${sh(w.selector)}`);
    lines.push('{{- end }}');
  }
  lines.push('echo "kubeflow-charts gate: sidecars checked"');
  return lines.join('\n');
}

function preDeleteScript(gates: GateData[]): string {
  const lines = ['echo "kubeflow-charts: removing admission webhooks before the services behind them"'];
  for (const g of gates) {
    if (!g.webhooks.length) continue;
    lines.push(`{{- if ${enabled(g.component)} }}`);
    lines.push(`kubectl delete --ignore-not-found ${g.webhooks.map((w) => w.toLowerCase().replace('webhookconfiguration/', 'webhookconfiguration.admissionregistration.k8s.io/')).join(' ')}`);
    lines.push('{{- end }}');
  }
  return lines.join('\n');
}

export const CRD_VERSION_ANNOTATION = 'kubeflow-charts.io/version';

function crdCheckScript(gates: GateData[]): string {
  const lines = [
    'stale=""',
    'check() { v=$(kubectl get crd "$1" -o jsonpath="{.metadata.annotations.kubeflow-charts\\.io/version}" 2>/dev/null || true); [ "$v" = "$2" ] || stale="$stale $1(${v:-missing})"; }',
  ];
  for (const g of gates) {
    if (!g.crds.length) continue;
    lines.push(`{{- if ${enabled(g.component)} }}`);
    for (const c of g.crds) lines.push(`check ${c} {{ .Chart.Version }}`);
    lines.push('{{- end }}');
  }
  lines.push(
    'if [ -n "$stale" ]; then',
    '  echo "CRDs are not those of this chart version:$stale"',
    '  echo "Helm never upgrades CRDs. Apply them first, then upgrade again:"',
    '  echo "  helm show crds <this chart> --version {{ .Chart.Version }} | kubectl apply --server-side --force-conflicts -f -"',
    '  exit 1',
    'fi',
    'echo "CRDs are current"',
  );
  return lines.join('\n');
}

/** A ServiceAccount bound to a ClusterRole holding `rules`; `meta(namespaced)` gives each object's metadata. */
function accountWithRole(suffix: string, meta: (namespaced: boolean) => string, rules: string): string {
  return `apiVersion: v1
kind: ServiceAccount
${meta(true)}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
${meta(false)}
rules:
${rules}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
${meta(false)}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ .Release.Name }}-${suffix}
subjects:
- kind: ServiceAccount
  name: {{ .Release.Name }}-${suffix}
  namespace: {{ .Release.Namespace }}
`;
}

const withoutNamespace = (m: string, namespaced: boolean) => (namespaced ? m : m.replace(/\n {2}namespace: .*/, ''));

function rbac(): string {
  const meta = (namespaced: boolean) => withoutNamespace(hookMeta('gate', 'post-install,post-upgrade,pre-upgrade,pre-delete', HOOK_WEIGHTS.gateRbac, 'PreDelete'), namespaced);
  return `{{- if .Values.hooks.enabled }}
# RBAC of the gate jobs: what they wait for, restart and clean up, nothing else.
${accountWithRole(
  'gate',
  meta,
  `- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [deployments, statefulsets, daemonsets, replicasets]
  verbs: [get, list, watch, patch]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: [admissionregistration.k8s.io]
  resources: [mutatingwebhookconfigurations, validatingwebhookconfigurations]
  verbs: [get, list, delete]`,
)}{{- end }}
`;
}

function testPod(name: string, script: string): string {
  return `{{- if .Values.tests.enabled }}
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-test-${name}
  namespace: {{ .Release.Namespace }}
  labels:
    ${LIFECYCLE_LABEL}: test-${name}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation
    sidecar.istio.io/inject: "false"
spec:
${scriptPodSpec(2, { account: 'test', container: 'test', script, job: false })}
{{- end }}
`;
}

const TEST_META = (namespaced: boolean) =>
  withoutNamespace(
    `metadata:
  name: {{ .Release.Name }}-test
  namespace: {{ .Release.Namespace }}
  labels:
    ${LIFECYCLE_LABEL}: test
  annotations:
    helm.sh/hook: test
    helm.sh/hook-weight: "-5"
    helm.sh/hook-delete-policy: before-hook-creation`,
    namespaced,
  );

const TEST_RBAC = `{{- if .Values.tests.enabled }}
${accountWithRole(
  'test',
  TEST_META,
  `- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch]`,
)}{{- end }}
`;

const HELPERS = `{{/*
Helpers of the kubeflow umbrella chart. Generated by kubeflow-charts; do not edit.
*/}}

{{/* The image of the gate jobs and tests (an image Kubeflow already ships, with sh and kubectl). */}}
{{- define "kubeflow.hookImage" -}}
{{- $i := .Values.hooks.image -}}
{{- $registry := $i.registry -}}
{{- with .Values.global.imageRegistry }}{{ $registry = . }}{{ end -}}
{{- if $registry }}{{ $registry }}/{{ end }}{{ $i.repository }}
{{- with $i.tag }}:{{ . }}{{ end }}
{{- with $i.digest }}@{{ . }}{{ end }}
{{- end -}}
`;

const NOTES = `Kubeflow {{ .Chart.AppVersion }} is installing (release {{ .Release.Name }}, chart {{ .Chart.Version }}).

Watch it become ready (the post-install gate waits for CRDs, cert-manager and istiod):

  kubectl get pods -A -l 'app.kubernetes.io/managed-by=Helm' --watch
  kubectl wait --for=condition=Available deployment --all -n kubeflow --timeout=15m
{{- if (index .Values "istio").enabled }}

Reach the central dashboard through the Istio ingress gateway:

  kubectl port-forward -n istio-system svc/istio-ingressgateway 8080:80
  open http://localhost:8080

or, where the gateway Service has an external address:

  export GATEWAY=$(kubectl get svc -n istio-system istio-ingressgateway -o jsonpath='{.status.loadBalancer.ingress[0].ip}{.status.loadBalancer.ingress[0].hostname}')
  open http://$GATEWAY/
{{- end }}
{{- if (index .Values "dex").enabled }}

Log in with Dex's static user (change it before real use): user@example.com / 12341234
{{- end }}

Check the dashboard and the auth endpoint answer:

  helm test {{ .Release.Name }} -n {{ .Release.Namespace }}

CRDs are never upgraded by Helm; before "helm upgrade" to a new chart version run:

  helm show crds <chart> --version <new version> | kubectl apply --server-side --force-conflicts -f -
`;

export interface UmbrellaOptions {
  release: Release;
  version: string;
  charts: ChartSummary[];
  components: AnalyzedComponent[];
  ordering: OrderingModel;
  /** where the component charts were written (siblings of the umbrella) */
  chartsDir: string;
}

/** What every chart's .helmignore leaves out of its package. */
export const HELMIGNORED = ['ci', '.DS_Store'];

/** Writes charts/kubeflow: dependencies on every component chart, the gate hooks, NOTES and tests. */
export async function emitUmbrella(o: UmbrellaOptions): Promise<ChartSummary> {
  const dir = path.join(o.chartsDir, UMBRELLA);
  const gates = gateData(o.components, o.ordering);
  const image = gateImage(o.components);
  const files: Record<string, string> = {
    'templates/_helpers.tpl': HELPERS,
    'templates/gate-rbac.yaml': rbac(),
    'templates/gate-wait-job.yaml': jobTemplate('gate-wait', 'post-install,post-upgrade', HOOK_WEIGHTS.wait, 'Skip', waitScript(gates)),
    'templates/gate-restart-job.yaml': jobTemplate('gate-sidecars', 'post-install,post-upgrade', HOOK_WEIGHTS.restart, 'Skip', restartScript(gates)),
    'templates/pre-delete-webhooks-job.yaml': jobTemplate('remove-webhooks', 'pre-delete', 0, 'PreDelete', preDeleteScript(gates)),
    'templates/pre-upgrade-crd-check-job.yaml': jobTemplate('crd-check', 'pre-upgrade', 0, 'Skip', crdCheckScript(gates)),
    'templates/NOTES.txt': NOTES,
    'templates/tests/rbac.yaml': TEST_RBAC,
    'templates/tests/test-dashboard.yaml': testPod(
      'dashboard',
      [
        '{{- if (index .Values "centraldashboard").enabled }}',
        'kubectl -n kubeflow rollout status deployment/centraldashboard --timeout=60s',
        '{{- end }}',
        '{{- if (index .Values "istio").enabled }}',
        'code=$(wget -S -O /dev/null http://istio-ingressgateway.istio-system.svc.cluster.local/ 2>&1 | awk \'/HTTP\\//{c=$2} END{print c}\')',
        'echo "gateway / answered ${code:-nothing}"',
        'case "$code" in 200|302|303) ;; *) exit 1 ;; esac',
        '{{- end }}',
      ].join('\n'),
    ),
    'templates/tests/test-auth.yaml': testPod(
      'auth',
      [
        '{{- if (index .Values "dex").enabled }}',
        'kubectl -n auth rollout status deployment/dex --timeout=60s',
        'wget -q -O - http://dex.auth.svc.cluster.local:5556/dex/.well-known/openid-configuration | grep -q issuer',
        'echo "dex answers its OIDC discovery"',
        '{{- end }}',
        '{{- if (index .Values "oauth2-proxy").enabled }}',
        'wget -q -O /dev/null http://oauth2-proxy.oauth2-proxy.svc.cluster.local/ping',
        'echo "oauth2-proxy answers /ping"',
        '{{- end }}',
      ].join('\n'),
    ),
  };

  // values and schema
  const defs = loadSchemaDefinitions();
  const comps = o.charts.filter((c) => c.name !== UMBRELLA);
  const values: Record<string, unknown> = { global: { imageRegistry: '', imagePullSecrets: [] } };
  const props: Record<string, unknown> = { global: structuredClone(defs.global) };
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
  };
  props.hooks = {
    description: 'Helm lifecycle hooks that order the install (docs/ordering.md); Argo CD skips them and uses sync waves.',
    type: 'object',
    additionalProperties: false,
    properties: {
      enabled: { description: 'Run the gate jobs (post-install/post-upgrade wait and sidecar restart, pre-upgrade CRD check, pre-delete webhook removal).', type: 'boolean' },
      image: { ...structuredClone(defs.image), description: `Image of the gate jobs and tests; needs sh and kubectl (default: ${formatImage(image)}, which Kubeflow already ships).` },
      timeoutSeconds: { description: 'How long a gate job may wait, in seconds.', type: 'integer', minimum: 30 },
      backoffLimit: { description: 'Retries of a failed gate job.', type: 'integer', minimum: 0 },
      resources: { ...structuredClone(defs.resources), description: 'Compute resources of the gate jobs.' },
      nodeSelector: structuredClone(defs.pod.properties.nodeSelector),
      tolerations: structuredClone(defs.pod.properties.tolerations),
    },
  };
  values.global = { imageRegistry: '', imagePullSecrets: [], kubeflowUmbrella: true };
  (props.global as any).properties.kubeflowUmbrella = { description: 'Set by this chart: components leave out objects another component of the umbrella owns (e.g. the kubeflow Namespace re-declared by Istio ambient).', type: 'boolean' };
  values.tests = { enabled: true };
  props.tests = {
    description: '`helm test` pods checking that the dashboard and the auth endpoints answer.',
    type: 'object',
    additionalProperties: false,
    properties: { enabled: { description: 'Render the test pods.', type: 'boolean' } },
  };
  const schema = { $schema: DRAFT_07, title: 'Values of the kubeflow umbrella chart', type: 'object', additionalProperties: false, properties: props };

  const chartYaml = {
    apiVersion: 'v2',
    name: UMBRELLA,
    description: `Kubeflow ${o.release.tag} in one release: every upstream component as a dependency, installed in order (CRDs, namespaces, cert-manager, Istio, controllers, apps).`,
    type: 'application',
    version: o.version,
    appVersion: o.release.tag,
    home: 'https://www.kubeflow.org',
    icon: KUBEFLOW_ICON,
    sources: [`https://github.com/${o.release.repository}/tree/${o.release.tag}/example`],
    keywords: ['kubeflow', 'mlops', 'machine-learning'],
    dependencies: comps.map((c) => ({ name: c.name, version: c.version, repository: `file://../${c.name}`, condition: `${c.name}.enabled` })),
    annotations: { 'kubeflow-charts/upstream-commit': o.release.commit },
  };
  const ciFiles: ChartSummary['ciFiles'] = [];
  const ci = (slug: string, vals: Record<string, unknown>, comment: string) => {
    const file = `ci/${String(ciFiles.length + 1).padStart(2, '0')}-${slug}-values.yaml`;
    ciFiles.push({ file, values: vals });
    files[file] = `# ${comment}\n${Object.keys(vals).length ? YAML.stringify(vals, { version: '1.1' }) : '{}\n'}`;
  };
  ci('default', {}, 'Defaults: the upstream example');
  for (const c of comps) {
    for (const v of c.variants.slice(1)) ci(`${c.name}-${v}`, { [c.name]: { variant: v } }, `The example with ${c.name}'s ${v} overlay`);
    for (const t of c.toggles) ci(`${c.name}-${t.defaultOn ? 'without' : 'with'}-${t.name.replace(/[A-Z]/g, (x) => `-${x.toLowerCase()}`)}`, { [c.name]: { kustomizeComponents: { [t.name]: !t.defaultOn } } }, `The example with ${t.path} ${t.defaultOn ? 'removed' : 'added'}`);
  }
  const off = comps.filter((c) => !c.enabled);
  if (off.length) ci('all-components', Object.fromEntries(off.map((c) => [c.name, { enabled: true }])), 'Every component enabled, including those upstream leaves commented out');

  files['Chart.yaml'] = `# Generated by kubeflow-charts from ${o.release.repository}@${o.release.tag}; do not edit.\n${YAML.stringify(chartYaml, { version: '1.1', lineWidth: 0, indentSeq: false })}`;
  files['values.yaml'] = valuesYaml(values, schema, `# Values of the kubeflow umbrella chart. Every component's own values pass through under its name,\n# e.g. istio.variant, katib.katibController.replicas. Generated by kubeflow-charts.\n\n`);
  files['values.schema.json'] = `${JSON.stringify(schema, null, 2)}\n`;
  files['.helmignore'] = '# Files Helm leaves out of the packaged chart\nci/\n.DS_Store\n';
  files['README.md'] = umbrellaReadme(o, comps, schema, image);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }
  // vendor the component charts as packages, as `helm dependency build` would
  const depDir = path.join(dir, 'charts');
  mkdirSync(depDir, { recursive: true });
  for (const c of comps) writeFileSync(path.join(depDir, `${c.name}-${c.version}.tgz`), packChart(path.join(o.chartsDir, c.name), c.name, HELMIGNORED));
  const packaged = readdirSync(depDir).length;
  if (packaged !== comps.length) throw new KfcError(`expected ${comps.length} packaged dependencies in ${depDir}, found ${packaged}`);
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
  };
}

function umbrellaReadme(o: UmbrellaOptions, comps: ChartSummary[], schema: any, image: ImageValue): string {
  return [
    '# kubeflow',
    '',
    `Kubeflow ${o.release.tag} in one Helm release: every component chart of kubeflow-charts as a dependency.`,
    `With default values it renders exactly \`kustomize build example\` of kubeflow/manifests ${o.release.tag}.`,
    '',
    '## Install',
    '',
    '```sh',
    'helm repo add kubeflow-charts <chart repository URL>',
    `helm install kubeflow kubeflow-charts/kubeflow --version ${o.version} --namespace kubeflow-charts --create-namespace`,
    '```',
    '',
    'Install order is handled by the chart (see docs/ordering.md in the repository): Helm installs CRDs first,',
    'then everything else; post-install hooks wait for CRDs, cert-manager, istiod and the other webhook servers,',
    'register the admission webhooks that admit the chart\'s own objects, and restart pods that started before',
    'the Istio sidecar injector served. Argo CD skips those hooks and follows the sync waves instead.',
    '',
    `The hooks run ${formatImage(image)} (an image Kubeflow already ships); set \`hooks.image\` to use another image with sh and kubectl.`,
    '',
    '## Components',
    '',
    '| key | enabled | variants | description |',
    '| --- | --- | --- | --- |',
    ...comps.map((c) => `| \`${c.name}\` | ${c.enabled} | ${c.variants.map((v, i) => (i ? v : `${v} (default)`)).join(', ')} | ${c.description} |`),
    '',
    '## Values',
    '',
    '| Key | Type | Description |',
    '| --- | --- | --- |',
    ...schemaRows(schema).map((r) => `| \`${r.path}\` | ${r.type} | ${r.description.replace(/\|/g, '\\|')} |`),
    '',
    '## Upgrading',
    '',
    'Helm never upgrades CRDs. Before `helm upgrade` to a new version apply its CRDs (a pre-upgrade hook refuses to',
    'upgrade while they are stale):',
    '',
    '```sh',
    'helm show crds kubeflow-charts/kubeflow --version <new version> | kubectl apply --server-side --force-conflicts -f -',
    'helm upgrade kubeflow kubeflow-charts/kubeflow --version <new version> --namespace kubeflow-charts --reuse-values',
    '```',
    '',
  ].join('\n');
}
