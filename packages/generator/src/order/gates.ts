import YAML from 'yaml';
import { LIFECYCLE_LABEL } from '../core/chart-model.js';
import { parseImage, type ImageValue } from '../core/image.js';
import { parseYaml, podTemplate } from '../core/model.js';
import type { AnalyzedComponent } from '../fold/analyze.js';
import { fold } from '../fold/fold.js';
import { HOOK_WEIGHTS, type OrderingModel } from './tiers.js';
import { crdCheckRbac, gateRbac } from './gate-rbac.js';

/**
 * The umbrella's Helm gate hooks (docs/ordering.md): jobs that wait for CRDs
 * and webhook servers, restart pods started before the sidecar injector, check
 * CRDs before an upgrade and remove webhooks before an uninstall.
 */

/** What the umbrella's gate hooks need to know about one component. */
export interface GateData {
  component: string;
  crds: string[];
  /** the CRDs in the chart's crds/ (identical in every variant): Helm never upgrades them, the pre-upgrade check does */
  shippedCrds: string[];
  /** deployments serving admission webhooks (`namespace/name`) */
  webhookServers: string[];
  /** workloads expected to run with an Istio sidecar */
  injected: Array<{ namespace: string; kind: string; name: string; selector: string; when?: string }>;
  /** webhook configurations admitting the release's objects: the gate sets their failurePolicy back to upstream's */
  policies: Array<{ resource: string; name: string; patch: string }>;
}

export function gateData(components: AnalyzedComponent[], ordering: OrderingModel): GateData[] {
  return components.map((c) => {
    const objs = new Map(c.configs.flatMap((x) => x.objects).map((o) => [o.key, o]));
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
    const policies: GateData['policies'] = [];
    for (const w of ordering.webhooks.filter((x) => x.component === c.plan.name && ordering.placements.get(x.key)?.gatedWebhook)) {
      const o = objs.get(w.key);
      const entries: any[] = (o && parseYaml(o.raw)?.webhooks) ?? [];
      const ops = entries.flatMap((e, i) => (e?.failurePolicy === 'Ignore' ? [] : [{ op: 'replace', path: `/webhooks/${i}/failurePolicy`, value: 'Fail' }]));
      if (ops.length) policies.push({ resource: `${w.kind.toLowerCase()}.admissionregistration.k8s.io`, name: w.name, patch: JSON.stringify(ops) });
    }
    const crds = ordering.crds
      .filter((x) => x.component === c.plan.name)
      .map((x) => x.name)
      .sort();
    // a CRD only some variants render is a template, which Helm upgrades itself
    const shipped = new Set(
      fold(
        c.plan.variants.map((v) => v.name),
        c.configs,
      )
        .filter((f) => f.isStatic && f.sample.kind === 'CustomResourceDefinition')
        .map((f) => f.sample.name),
    );
    return {
      component: c.plan.name,
      crds,
      shippedCrds: crds.filter((n) => shipped.has(n)),
      webhookServers: [...servers].sort(),
      injected: injected.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`)),
      policies: policies.sort((a, b) => a.name.localeCompare(b.name)),
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

/** Hook objects are removed when they succeed, when they fail, and before they are created again. */
export const HOOK_DELETE_POLICY = 'before-hook-creation,hook-succeeded,hook-failed';

export function hookMeta(name: string, events: string, weight: number, argo: string, deletePolicy = HOOK_DELETE_POLICY): string {
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
/** nodeSelector, tolerations, affinity and priorityClassName of a pod spec from a values block (each only when set). */
export function schedulingLines(block: string, i: number): string[] {
  return ['nodeSelector', 'tolerations', 'affinity']
    .flatMap((k) => [`{{- with ${block}.${k} }}`, `${k}: {{- toYaml . | nindent ${i + 2} }}`, '{{- end }}'])
    .concat([`{{- with ${block}.priorityClassName }}`, 'priorityClassName: {{ . | quote }}', '{{- end }}']);
}

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
    // scheduling: the gate jobs' from hooks.*, the test pods' from tests.*
    ...schedulingLines(o.job ? '.Values.hooks' : '.Values.tests', i),
    'volumes:',
    '- name: tmp',
    '  emptyDir: {}',
    'containers:',
    `- name: ${o.container}`,
    '  image: {{ include "kubeflow.hookImage" . | quote }}',
    '  securityContext:',
    '    allowPrivilegeEscalation: false',
    '    readOnlyRootFilesystem: true',
    '    capabilities:',
    '      drop: [ALL]',
    '  volumeMounts:',
    '  - name: tmp',
    '    mountPath: /tmp',
    ...(o.job
      ? [
          `  resources: {{- include "kubeflow.resources" (dict "resources" .Values.hooks.resources "path" "hooks.resources" "root" $) | nindent ${i + 4} }}`,
          '  env:',
          '  - name: HOME',
          '    value: /tmp',
          '  - name: TIMEOUT',
          '    value: "{{ .Values.hooks.timeoutSeconds }}s"',
        ]
      : []),
    '  command: [sh, -ec]',
    '  args:',
    '  - |',
  ];
  const script = o.script.split('\n').map((l) => (l ? `${p}    ${l}` : ''));
  return [...lines.map((l) => `${p}${l}`), ...script].join('\n');
}

function jobTemplate(name: string, events: string, weight: number, argo: string, script: string, account = 'gate'): string {
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
${scriptPodSpec(6, { account, container: name, script, job: true })}
{{- end }}
`;
}

/** The wait gate: CRDs Established, webhook servers Available, then upstream's failurePolicy back on the gated webhooks. */
function waitScript(gates: GateData[]): string {
  const lines = [
    '# A name the current values do not render is skipped; any other API error fails the job.',
    'wait_crd() {',
    '  found=$(kubectl get crd "$1" --ignore-not-found -o name)',
    '  if [ -z "$found" ]; then echo "crd/$1: not rendered with these values"; return 0; fi',
    '  kubectl wait --for=condition=Established --timeout="$TIMEOUT" "crd/$1"',
    '}',
    'restore_policy() { # resource name json-patch',
    '  found=$(kubectl get "$1" "$2" --ignore-not-found -o name)',
    '  if [ -z "$found" ]; then echo "$1/$2: not rendered with these values"; return 0; fi',
    '  kubectl patch "$1" "$2" --type=json -p "$3"',
    '}',
    'echo "kubeflow-charts gate: waiting for CRDs and admission webhook servers"',
  ];
  for (const g of gates) {
    if (!g.crds.length && !g.webhookServers.length) continue;
    lines.push(`{{- if ${enabled(g.component)} }}`);
    for (const c of g.crds) lines.push(`wait_crd ${c}`);
    for (const s of g.webhookServers) {
      const [ns, name] = s.split('/');
      lines.push(`kubectl -n ${ns} rollout status deployment/${name} --timeout="$TIMEOUT"`);
    }
    lines.push('{{- end }}');
  }
  lines.push('echo "kubeflow-charts gate: servers ready; admission webhooks of the release fail closed again"');
  for (const g of gates) {
    if (!g.policies.length) continue;
    lines.push(`{{- if ${enabled(g.component)} }}`);
    for (const p of g.policies) lines.push(`restore_policy ${p.resource} ${p.name} ${sh(p.patch)}`);
    lines.push('{{- end }}');
  }
  lines.push('echo "kubeflow-charts gate: ready"');
  return lines.join('\n');
}

/** Restarts workloads that started before the sidecar injector served. */
function restartScript(gates: GateData[]): string {
  const lines = [
    'restart() { # namespace kind name selector',
    '  found=$(kubectl -n "$1" get "$2" "$3" --ignore-not-found -o name)',
    '  if [ -z "$found" ]; then echo "$2/$3 in $1: not rendered with these values"; return 0; fi',
    `  pods=$(kubectl -n "$1" get pods -l "$4" -o jsonpath='{range .items[*]}{.metadata.name}:{.spec.containers[*].name} {.spec.initContainers[*].name};{end}')`,
    '  missing=$(printf "%s" "$pods" | tr ";" "\\n" | grep -v "istio-proxy" | grep -c . || true)',
    '  if [ "$missing" -gt 0 ]; then echo "restarting $2/$3 in $1: $missing pod(s) without sidecar"; kubectl -n "$1" rollout restart "$2/$3"; fi',
    '}',
  ];
  for (const g of gates) {
    if (!g.injected.length) continue;
    lines.push(`{{- if ${enabled(g.component)} }}`);
    for (const w of g.injected) {
      const line = `restart ${w.namespace} ${w.kind} ${w.name} ${sh(w.selector)}`;
      // a workload the values drop (a bundled database with externalDatabase) is not restarted
      lines.push(...(w.when ? [`{{- if ${w.when} }}`, line, '{{- end }}'] : [line]));
    }
    lines.push('{{- end }}');
  }
  lines.push('echo "kubeflow-charts gate: sidecars checked"');
  return lines.join('\n');
}

export const CRD_VERSION_ANNOTATION = 'kubeflow-charts.io/version';

function crdCheckScript(gates: GateData[]): string {
  const lines = [
    'stale=""',
    '# a missing CRD is stale; any other API error fails the job',
    'check() {',
    '  v=$(kubectl get crd "$1" --ignore-not-found -o jsonpath="{.metadata.annotations.kubeflow-charts\\.io/version}")',
    '  [ "$v" = "$2" ] || stale="$stale $1(${v:-missing})"',
    '}',
  ];
  for (const g of gates) {
    if (!g.shippedCrds.length) continue;
    lines.push(`{{- if ${enabled(g.component)} }}`);
    for (const c of g.shippedCrds) lines.push(`check ${c} {{ .Chart.Version }}`);
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

/**
 * The gate hook templates of the umbrella, by file name. `sidecarless`: the conditions under which
 * no pod runs a sidecar (features declaring `noSidecars`, components/_shared/features): the
 * sidecar restart gate renders only when none holds.
 */
/**
 * The umbrella's gate hooks. The pre-upgrade CRD check looks at the CRDs of `crds/` only
 * (`shipped`: component -> CRD names): Helm never upgrades those, while a CRD rendered as a
 * template (one that differs between variants) is upgraded by Helm itself, after pre-upgrade
 * hooks, so checking it there would refuse every upgrade that changes it.
 */
export function gateFiles(gates: GateData[], sidecarless: string[] = [], shipped?: Map<string, string[]>): Record<string, string> {
  const checked = shipped ? gates.map((g) => ({ ...g, crds: g.crds.filter((c) => shipped.get(g.component)?.includes(c)) })) : gates;
  const restart = jobTemplate('gate-sidecars', 'post-install,post-upgrade', HOOK_WEIGHTS.restart, 'Skip', restartScript(gates));
  return {
    'templates/gate-rbac.yaml': gateRbac(gates),
    'templates/gate-wait-job.yaml': jobTemplate('gate-wait', 'post-install,post-upgrade', HOOK_WEIGHTS.wait, 'Skip', waitScript(gates)),
    'templates/gate-restart-job.yaml': sidecarless.length ? `{{- if not (or ${sidecarless.map((c) => `(${c})`).join(' ')}) }}\n${restart}{{- end }}\n` : restart,
    'templates/pre-upgrade-crd-check-rbac.yaml': crdCheckRbac(checked),
    'templates/pre-upgrade-crd-check-job.yaml': jobTemplate('crd-check', 'pre-upgrade', 0, 'Skip', crdCheckScript(checked), 'crd-check'),
  };
}
