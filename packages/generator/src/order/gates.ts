import YAML from 'yaml';
import { LIFECYCLE_LABEL } from '../core/chart-model.js';
import { parseImage, type ImageValue } from '../core/image.js';
import { parseYaml, podTemplate } from '../core/model.js';
import type { AnalyzedComponent } from '../fold/analyze.js';
import { HOOK_WEIGHTS, type OrderingModel } from './tiers.js';

/**
 * The umbrella's Helm gate hooks (docs/ordering.md): jobs that wait for CRDs
 * and webhook servers, restart pods started before the sidecar injector, check
 * CRDs before an upgrade and remove webhooks before an uninstall.
 */

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
      // objects upstream leaves without a namespace land in the release's namespace
      if (sel) injected.push({ namespace: o.namespace ?? '{{ .Release.Namespace }}', kind: o.kind.toLowerCase(), name: o.name, selector: sel });
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
export const enabled = (c: string) => `(index .Values ${JSON.stringify(c)}).enabled`;

export function hookMeta(name: string, events: string, weight: number, argo: string, deletePolicy = 'before-hook-creation,hook-succeeded'): string {
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
export function scriptPodSpec(i: number, o: { account: string; container: string; script: string; job: boolean }): string {
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
      ? [`  resources: {{- include "kubeflow.resources" (dict "resources" .Values.hooks.resources "path" "hooks.resources" "root" $) | nindent ${i + 4} }}`, '  env:', '  - name: HOME', '    value: /tmp', '  - name: TIMEOUT', '    value: "{{ .Values.hooks.timeoutSeconds }}s"']
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
export function accountWithRole(suffix: string, meta: (namespaced: boolean) => string, rules: string): string {
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

export const withoutNamespace = (m: string, namespaced: boolean) => (namespaced ? m : m.replace(/\n {2}namespace: .*/, ''));

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


/** The gate hook templates of the umbrella, by file name. */
export function gateFiles(gates: GateData[]): Record<string, string> {
  return {
    'templates/gate-rbac.yaml': rbac(),
    'templates/gate-wait-job.yaml': jobTemplate('gate-wait', 'post-install,post-upgrade', HOOK_WEIGHTS.wait, 'Skip', waitScript(gates)),
    // in ambient mode no pod has a sidecar: nothing to restart
    'templates/gate-restart-job.yaml': `{{- if ne (dig "mesh" "mode" "sidecar" .Values.global) "ambient" }}\n${jobTemplate('gate-sidecars', 'post-install,post-upgrade', HOOK_WEIGHTS.restart, 'Skip', restartScript(gates))}{{- end }}\n`,
    'templates/pre-delete-webhooks-job.yaml': jobTemplate('remove-webhooks', 'pre-delete', 0, 'PreDelete', preDeleteScript(gates)),
    'templates/pre-upgrade-crd-check-job.yaml': jobTemplate('crd-check', 'pre-upgrade', 0, 'Skip', crdCheckScript(gates)),
  };
}
