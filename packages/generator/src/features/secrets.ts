import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIFECYCLE_LABEL } from '../core/chart-model.js';
import type { ImageValue } from '../core/image.js';
import { loadSchemaDefinitions } from '../core/schema.js';
import type { ChartModel, GeneratedSecret, KeyRule } from '../templatize/chart-model.js';
import { escapeBraces } from '../templatize/template-doc.js';

/**
 * Secrets a chart needs but never ships: a feature declares them (`generate:`),
 * and a Job of the chart creates each one in the cluster when it is missing.
 * Nothing random is rendered, so renders stay byte-identical (Argo CD stays in
 * sync) and values survive upgrades; a Secret the user created under that name
 * is used as it is.
 */

export type { GeneratedSecret, KeyRule };

/** The Job's script, beside this module (scripts/dist-assets.mjs copies it into dist/). */
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'secrets-job.py');

export function secretsJobScript(): string {
  return readFileSync(SCRIPT, 'utf8');
}

/** The values block of the Job (`secretsJob`). */
export function secretsJobValues(image: ImageValue): { values: Record<string, unknown>; schema: any } {
  const defs = loadSchemaDefinitions();
  return {
    values: { image, resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } }, nodeSelector: {}, tolerations: [], affinity: {}, priorityClassName: '' },
    schema: {
      description:
        'The Job that creates the Secrets this chart reads and does not ship (passwords, keys), once, when they are missing; they are kept across upgrades and uninstalls. Create a Secret under the same name (or set existingSecret where a value offers it) to bring your own.',
      type: 'object',
      additionalProperties: false,
      properties: {
        image: { ...structuredClone(defs.image), description: 'Image of the Job; needs python3 (default: one Kubeflow already ships).' },
        resources: { ...structuredClone(defs.resources), description: 'Compute resources of the Job.' },
        nodeSelector: structuredClone(defs.pod.properties.nodeSelector),
        tolerations: structuredClone(defs.pod.properties.tolerations),
        affinity: structuredClone(defs.pod.properties.affinity),
        priorityClassName: structuredClone(defs.pod.properties.priorityClassName),
      },
    },
  };
}

const q = (s: string) => JSON.stringify(s);
const RELEASE_NS = '__KFC_RELEASE_NAMESPACE__';
/** `{{ expr }}` -> `expr` */
const unbrace = (t: string) => t.replace(/^\{\{-?\s*|\s*-?\}\}$/g, '');
const isTemplate = (t: string) => t.startsWith('{{');
/** A Secret's namespace as a template expression: a literal, a template (`{{ .Values.namespace }}`), or the release's. */
const nsValue = (ns: string) => (!ns || ns === RELEASE_NS ? '$.Release.Namespace' : isTemplate(ns) ? `(${unbrace(ns)})` : q(ns));
/** Its type (the admission policy allows only the declared one). */
const typeOf = (s: GeneratedSecret) => s.type ?? 'Opaque';

/**
 * The KFC_SECRETS lines of a Secret generated per item of a values list: a `range`, its template
 * strings (namespace, name, copy sources) printed on the item.
 */
function eachLine(s: GeneratedSecret): string {
  const holes: string[] = [];
  const hole = (v: string) => (isTemplate(v) ? `__KFC_HOLE_${holes.push(unbrace(v)) - 1}__` : v);
  const keys = Object.fromEntries(Object.entries(s.keys).map(([k, r]) => [k, 'copy' in r ? { copy: hole(r.copy) } : r]));
  const json = escapeBraces(JSON.stringify({ namespace: hole(s.namespace), name: hole(s.name), keys, ...(s.type ? { type: s.type } : {}) }));
  return `{{- range ${s.forEach} }}\n${json.replace(/"__KFC_HOLE_(\d+)__"/g, (_m, i: string) => `{{ ${holes[Number(i)]} | quote }}`)}\n{{- end }}`;
}

/** One KFC_SECRETS line (JSON) of a Secret; a Secret upstream leaves without a namespace goes where the release installs it. */
function secretLine(s: GeneratedSecret): string {
  if (s.forEach) return eachLine(s);
  const ns = s.namespace && !isTemplate(s.namespace) ? s.namespace : RELEASE_NS;
  return escapeBraces(JSON.stringify({ namespace: ns, name: s.name, keys: s.keys, ...(s.type ? { type: s.type } : {}) })).replace(`"${RELEASE_NS}"`, `{{ ${nsValue(s.namespace)} | quote }}`);
}

/** Argo CD runs the Job and its RBAC as Sync hooks in their wave and deletes them once the Job succeeded. */
const ARGO_HOOK = `argocd.argoproj.io/hook: Sync
    argocd.argoproj.io/hook-delete-policy: BeforeHookCreation,HookSucceeded`;

/** What the Job does in one namespace: Secrets it creates, Secrets it reads, under which conditions. */
interface Grant {
  namespace: string;
  creates: string[];
  reads: string[];
  when: string[];
}

/** `ns/name` of every Secret a key rule reads (`copy`, `bcrypt` with a path). */
const readRefs = (s: GeneratedSecret) =>
  Object.values(s.keys)
    .flatMap((r) => ('copy' in r ? [r.copy] : 'bcrypt' in r && r.bcrypt.includes('/') ? [r.bcrypt] : []))
    .map((ref) => ref.split('/').slice(0, 2));

/** The namespaces the Job writes or reads, each with exactly the Secrets it touches there. */
export function secretGrants(secrets: GeneratedSecret[]): Grant[] {
  const out = new Map<string, Grant>();
  const at = (ns: string) => out.get(ns) ?? out.set(ns, { namespace: ns, creates: [], reads: [], when: [] }).get(ns)!;
  for (const s of secrets.filter((x) => !x.forEach)) {
    const g = at(s.namespace || RELEASE_NS);
    g.creates.push(s.name);
    g.when.push(s.when);
    for (const [ns, name] of readRefs(s)) {
      const r = at(ns || RELEASE_NS);
      r.reads.push(name);
      r.when.push(s.when);
    }
  }
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  return [...out.values()].map((g) => ({ ...g, creates: uniq(g.creates), reads: uniq(g.reads), when: uniq(g.when) })).sort((a, b) => a.namespace.localeCompare(b.namespace));
}

/** A namespace of a grant as template text; the release namespace's Role gets a name of its own (it may be one of the others). */
const nsText = (ns: string) => (ns === RELEASE_NS ? '{{ .Release.Namespace }}' : ns);
/** The release namespace's Role and one a values template names get names of their own (either may be one of the others). */
const roleName = (name: string, ns: string) =>
  ns === RELEASE_NS
    ? `${name}-release-namespace`
    : isTemplate(ns)
      ? `${name}-${ns
          .replace(/[^a-zA-Z0-9]+/g, '-')
          .replace(/^-|-$/g, '')
          .toLowerCase()}`
      : name;
const cond = (whens: string[]) => (whens.length === 1 ? whens[0] : `or ${whens.map((w) => `(${w})`).join(' ')}`);

/** A Role (create where `createRule` says, get `getNames`, patch its own binding) and the binding of the Job's account to it. */
function roleAndBinding(o: { role: string; meta: string; createRule: string; getNames: string; account: string; releaseNs: string }): string {
  return `---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
${o.meta}
rules:
${o.createRule}- apiGroups: [""]
  resources: [secrets]
  resourceNames: ${o.getNames}
  verbs: [get]
# when done, the Job removes its binding's subjects: it keeps no right after it ran (the binding stays: Helm 4's --wait waits for it)
- apiGroups: [rbac.authorization.k8s.io]
  resources: [rolebindings]
  resourceNames: [${q(o.role)}]
  verbs: [patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
${o.meta}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: ${o.role}
subjects:
- kind: ServiceAccount
  name: ${o.account}
  namespace: ${o.releaseNs}`;
}

/** Role + RoleBinding of the Job in one namespace: create Secrets (only there), get the named ones, empty its own binding. */
function grantRbac(name: string, g: Grant, metaOf: (kind: string, ns?: string) => string): string {
  const role = roleName(name, g.namespace);
  const names = [...new Set([...g.creates, ...g.reads])].sort();
  const create = g.creates.length ? `- apiGroups: [""]\n  resources: [secrets]\n  verbs: [create]\n` : '';
  const meta = metaOf(role, nsText(g.namespace));
  return `{{- if ${cond(g.when)} }}
${roleAndBinding({ role, meta, createRule: create, getNames: `[${names.map(q).join(', ')}]`, account: name, releaseNs: '{{ .Release.Namespace }}' })}
{{- end }}`;
}

/**
 * Role + RoleBinding per namespace of the Secrets generated per item of a values list (`forEach`):
 * the namespaces are known only at render time, so the grants are gathered in the template and one
 * Role per namespace (named `-each`, apart from the static ones) creates and reads exactly those Secrets.
 */
function eachRbac(chart: string, name: string, secrets: GeneratedSecret[], meta: (kind: string, ns?: string) => string): string {
  const each = secrets.filter((s) => s.forEach);
  if (!each.length) return '';
  // inside the range `.` is the grant: the release is `$`
  const role = `${name.replaceAll('{{ .Release.', '{{ $.Release.')}-each`;
  const add = (ns: string, key: 'creates' | 'reads', value: string) =>
    `{{- $g := dict "creates" (list) "reads" (list) }}{{- if hasKey $each ${ns} }}{{- $g = get $each ${ns} }}{{- end }}{{- $_ := set $g ${q(key)} (append (get $g ${q(key)}) ${value}) }}{{- $_ := set $each ${ns} $g }}`;
  const gather = each
    .map((s) => {
      const reads = s.reads ? `\n{{- $src := splitList "/" (${unbrace(s.reads)}) }}\n${add('(first $src)', 'reads', '(last $src)')}` : '';
      return `{{- if ${s.when} }}{{- range ${s.forEach} }}\n${add(`(${unbrace(s.namespace)})`, 'creates', `(${unbrace(s.name)})`)}${reads}\n{{- end }}{{- end }}`;
    })
    .join('\n');
  const m = (ns: string) => meta(role, ns).replaceAll('{{ .Release.', '{{ $.Release.');
  return `{{- $each := dict }}
${gather}
{{- range $ns, $g := $each }}
{{- $bindings = append $bindings (printf "%s/%s-${chart}-secrets-each" $ns $.Release.Name) }}
${roleAndBinding({
  role,
  meta: m('{{ $ns }}'),
  createRule: '{{- with $g.creates }}\n- apiGroups: [""]\n  resources: [secrets]\n  verbs: [create]\n{{- end }}\n',
  getNames: '{{ concat $g.creates $g.reads | uniq | sortAlpha | toJson }}',
  account: name.replaceAll('{{ .Release.', '{{ $.Release.'),
  releaseNs: '{{ $.Release.Namespace }}',
})}
{{- end }}`;
}

/**
 * The ValidatingAdmissionPolicy (and binding) that lets the Job's account create nothing but the
 * Secrets it owns, under their names and types, in their namespaces (RBAC cannot restrict `create` by name).
 */
function guardPolicy(chart: string, secrets: GeneratedSecret[], meta: (n: string) => string): string {
  const name = `{{ .Release.Name }}-${chart}-secrets`;
  const allowed = secrets
    .map((s) =>
      s.forEach
        ? `{{- if ${s.when} }}{{- range ${s.forEach} }}{{- $allowed = append $allowed (printf "%s/%s:%s" (${unbrace(s.namespace)}) (${unbrace(s.name)}) ${q(typeOf(s))}) }}{{- end }}{{- end }}`
        : `{{- if ${s.when} }}{{- $allowed = append $allowed (printf "%s/%s:%s" ${nsValue(s.namespace)} ${q(s.name)} ${q(typeOf(s))}) }}{{- end }}`,
    )
    .join('\n');
  return `{{- $allowed := list }}
${allowed}
---
# the Job's account may create only the Secrets it owns, of their types (RBAC cannot restrict create by name)
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
${meta(name)}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: [v1]
      operations: [CREATE, UPDATE]
      resources: [secrets]
  matchConditions:
  - name: secrets-job
    expression: {{ printf "request.userInfo.username == 'system:serviceaccount:%s:%s-${chart}-secrets'" .Release.Namespace .Release.Name | quote }}
  validations:
  - expression: {{ printf "(request.namespace + '/' + object.metadata.name + ':' + object.type) in %s" (toJson (uniq $allowed)) | quote }}
    message: {{ printf "the secrets Job of %s-${chart}-secrets may create only its own Secrets (namespace/name:type): %s" .Release.Name (join ", " (uniq $allowed)) | quote }}
    reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
${meta(name)}
spec:
  policyName: ${name}
  validationActions: [Deny]`;
}

/**
 * The templates (RBAC, admission policy, Job) of a chart's generated Secrets; empty when there are
 * none. Least privilege: a Role in exactly each namespace the Job writes (create Secrets) or reads
 * (get by name), never a ClusterRole; a ValidatingAdmissionPolicy lets the account create only the
 * Secrets it owns; no Namespace is created (each must exist: the chart or another one of the
 * release renders it, and Helm creates Namespaces first); when done the Job empties its own
 * RoleBindings. For Helm they are ordinary release resources (the Job runs while Helm installs, so
 * `--wait` sees the pods start); the Job's name carries the release revision and a hash of its
 * inputs, so each install, upgrade and rollback runs it once more (it keeps existing Secrets) and
 * it revokes the bindings Helm re-applied. Argo CD runs Job and RBAC as Sync hooks in `wave`
 * (after the namespaces, before the workloads) and deletes them when the Job succeeded.
 * `helm uninstall` removes what is left and keeps the Secrets (data, like PVCs).
 */
export function secretsJobTemplate(chart: string, secrets: GeneratedSecret[], wave: number): string {
  if (!secrets.length) return '';
  const any = cond(secrets.map((s) => s.when));
  const name = `{{ .Release.Name }}-${chart}-secrets`;
  const labels = `  labels:
    ${LIFECYCLE_LABEL}: secrets
    app.kubernetes.io/managed-by: {{ .Release.Service }}
    app.kubernetes.io/instance: {{ .Release.Name }}`;
  const meta = (n: string, ns?: string, w = wave - 1, hook = true) => `metadata:
  name: ${n}
${ns ? `  namespace: ${ns}\n` : ''}${labels}
  annotations:
    argocd.argoproj.io/sync-wave: "${w}"${hook ? `\n    ${ARGO_HOOK}` : ''}`;
  const grants = secretGrants(secrets);
  const nsExpr = nsValue;
  const bindings = grants.map((g) => `{{- if ${cond(g.when)} }}{{- $bindings = append $bindings (printf "%s/%s" ${nsExpr(g.namespace)} (printf ${q(roleName(`%s-${chart}-secrets`, g.namespace))} $.Release.Name)) }}{{- end }}`).join('\n');
  const lines = secrets.map((s) => `{{- if ${s.when} }}\n${secretLine(s)}\n{{- end }}`).join('\n');
  const script = escapeBraces(secretsJobScript())
    .split('\n')
    .map((l) => (l ? `            ${l}` : ''))
    .join('\n');
  return `{{- if ${any} }}
{{- $secrets := include ${q(`${chart}.generatedSecrets`)} . }}
{{- $bindings := list }}
${bindings}
# Creates the Secrets ${chart} reads and does not ship, when missing (features: ${[...new Set(secrets.map((s) => s.feature))].join(', ')}).
apiVersion: v1
kind: ServiceAccount
${meta(name, '{{ .Release.Namespace }}')}
${grants.map((g) => grantRbac(name, g, (n, ns) => meta(n, ns))).join('\n')}
${eachRbac(chart, name, secrets, (n, ns) => meta(n, ns))}
${guardPolicy(chart, secrets, (n) => meta(n, undefined, wave - 1, false))}
---
apiVersion: batch/v1
kind: Job
${meta(`${name}-{{ print $secrets (toJson .Values.secretsJob) (toJson .Values.global) .Release.Revision | sha256sum | trunc 8 }}`, '{{ .Release.Namespace }}', wave)}
spec:
  # Secrets copied from another chart's wait for that chart's Job
  backoffLimit: 6
  template:
    metadata:
      labels:
        ${LIFECYCLE_LABEL}: secrets
        sidecar.istio.io/inject: "false"
      annotations:
        sidecar.istio.io/inject: "false"
    spec:
      restartPolicy: Never
      serviceAccountName: ${name}
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile:
          type: RuntimeDefault
      {{- with .Values.global.imagePullSecrets }}
      imagePullSecrets: {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.secretsJob.nodeSelector }}
      nodeSelector: {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.secretsJob.tolerations }}
      tolerations: {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.secretsJob.affinity }}
      affinity: {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.secretsJob.priorityClassName }}
      priorityClassName: {{ . | quote }}
      {{- end }}
      containers:
      - name: secrets
        image: {{ include "${chart}.image" (dict "image" .Values.secretsJob.image "global" .Values.global) | quote }}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities:
            drop: [ALL]
        resources: {{- toYaml .Values.secretsJob.resources | nindent 10 }}
        env:
        - name: RELEASE_NAME
          value: {{ .Release.Name | quote }}
        - name: RELEASE_NAMESPACE
          value: {{ .Release.Namespace | quote }}
        - name: PYTHONDONTWRITEBYTECODE
          value: "1"
        - name: KFC_SECRETS
          value: {{ $secrets | quote }}
        # the admission policy that must be in effect before the Job creates anything
        - name: KFC_GUARD
          value: ${q(name)}
        # its own RoleBindings (namespace/name), emptied when done
        - name: KFC_BINDINGS
          value: {{ toJson $bindings | quote }}
        command: [python3, -c]
        args:
        - |
${script}
{{- end }}
{{- define ${q(`${chart}.generatedSecrets`)} }}
${lines}
{{- end }}
`;
}

/** Adds the Job and its values to a chart model that has generated Secrets. */
export function addSecretsJob(m: ChartModel, image: ImageValue, waveOf: (ref: string) => number): void {
  if (!m.generated.length) return;
  // Secrets in namespaces created after an object (profile namespaces): RBAC one wave after those namespaces, the Job after it
  const after = Math.max(0, ...m.generated.flatMap((s) => (s.after ? [waveOf(s.after) + 3] : [])));
  const copies = m.generated.some((s) => Object.values(s.keys).some((r) => 'copy' in r && !r.copy.startsWith(`${s.namespace}/`)));
  const { values, schema } = secretsJobValues(image);
  m.values.secretsJob = values;
  m.properties.secretsJob = schema;
  // after the namespaces (tier 1); a Job copying another chart's Secret one wave later
  m.files['templates/secrets-job.yaml'] = secretsJobTemplate(m.name, m.generated, Math.max(copies ? 3 : 2, after));
}
