import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIFECYCLE_LABEL, type ChartModel } from '../core/chart-model.js';
import type { ImageValue } from '../core/image.js';
import { loadSchemaDefinitions } from '../core/schema.js';
import { escapeBraces } from '../templatize/template-doc.js';

/**
 * Secrets a chart needs but never ships: a feature declares them (`generate:`),
 * and a Job of the chart creates each one in the cluster when it is missing.
 * Nothing random is rendered, so renders stay byte-identical (Argo CD stays in
 * sync) and values survive upgrades; a Secret the user created under that name
 * is used as it is.
 */

export type KeyRule = { random: number } | { value: string } | { copy: string } | { bcrypt: string };

export interface GeneratedSecret {
  namespace: string;
  name: string;
  /** template condition under which the Secret is needed */
  when: string;
  keys: Record<string, KeyRule>;
  /** which feature asks for it */
  feature: string;
  /** one Secret per item of this list (a template expression); namespace, name and keys are templates on the item */
  forEach?: string;
  /** the Secret's type (default Opaque), e.g. kubernetes.io/dockerconfigjson */
  type?: string;
  /** with forEach: the template (on the item) of each Secret it copies from, `namespace/name`, which the Job may read */
  reads?: string;
}

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'features', 'secrets-job.py');

export function secretsJobScript(): string {
  return readFileSync(SCRIPT, 'utf8');
}

/** The values block of the Job (`secretsJob`). */
export function secretsJobValues(image: ImageValue): { values: Record<string, unknown>; schema: any } {
  const defs = loadSchemaDefinitions();
  return {
    values: { image, resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } }, nodeSelector: {}, tolerations: [], affinity: {}, priorityClassName: '' },
    schema: {
      description: 'The Job that creates the Secrets this chart reads and does not ship (passwords, keys), once, when they are missing; they are kept across upgrades and uninstalls. Create a Secret under the same name (or set existingSecret where a value offers it) to bring your own.',
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
/** `{{ expr }}` -> `expr` */
const unbrace = (t: string) => t.replace(/^\{\{-?\s*|\s*-?\}\}$/g, '');

/**
 * The KFC_SECRETS lines of a Secret generated per item of a values list: a `range`, its template
 * strings (namespace, name, copy sources) printed on the item.
 */
function eachLine(s: GeneratedSecret): string {
  const holes: string[] = [];
  const hole = (v: string) => (v.startsWith('{{') ? `__KFC_HOLE_${holes.push(unbrace(v)) - 1}__` : v);
  const keys = Object.fromEntries(Object.entries(s.keys).map(([k, r]) => [k, 'copy' in r ? { copy: hole(r.copy) } : r]));
  const json = escapeBraces(JSON.stringify({ namespace: hole(s.namespace), name: hole(s.name), keys, ...(s.type ? { type: s.type } : {}) }));
  return `{{- range ${s.forEach} }}\n${json.replace(/"__KFC_HOLE_(\d+)__"/g, (_m, i: string) => `{{ ${holes[Number(i)]} | quote }}`)}\n{{- end }}`;
}
const RELEASE_NS = '__KFC_RELEASE_NAMESPACE__';

/**
 * The templates (RBAC + Job) of a chart's generated Secrets; empty when there
 * are none. They are ordinary release resources, not hooks: Helm creates
 * Namespaces first and the Job among the workloads, whose pods wait for the
 * Secrets; Argo CD runs the Job in `wave` (after the namespaces, before the
 * workloads) and keeps it, completed and in sync. The Job's name carries a
 * hash of what it creates, so a change of values makes a new Job instead of
 * an immutable-field error; `helm uninstall` removes Job and RBAC and leaves
 * the Secrets (data, like PVCs).
 */
export function secretsJobTemplate(chart: string, secrets: GeneratedSecret[], wave: number): string {
  if (!secrets.length) return '';
  const any = secrets.length === 1 ? secrets[0].when : `or ${secrets.map((s) => `(${s.when})`).join(' ')}`;
  const meta = (w: number) => `  labels:
    ${LIFECYCLE_LABEL}: secrets
    app.kubernetes.io/managed-by: {{ .Release.Service }}
    app.kubernetes.io/instance: {{ .Release.Name }}
  annotations:
    argocd.argoproj.io/sync-wave: "${w}"`;
  const name = `{{ .Release.Name }}-${chart}-secrets`;
  const readable = [...new Set(secrets.filter((s) => !s.forEach).flatMap((s) => [s.name, ...Object.values(s.keys).flatMap((r) => ('copy' in r ? [r.copy] : 'bcrypt' in r && r.bcrypt.includes('/') ? [r.bcrypt] : [])).map((ref) => ref.split('/')[1])]))].sort();
  // a Secret upstream leaves without a namespace goes where the release installs it
  // a namespace given as a template (`{{ .Values.namespace }}`) is printed by it
  const nsExpr = (s: GeneratedSecret) => (s.namespace.startsWith('{{') ? `${s.namespace.replace(/^\{\{-?\s*|\s*-?\}\}$/g, '')}` : '.Release.Namespace');
  const line = (s: GeneratedSecret) => {
    if (s.forEach) return eachLine(s);
    return escapeBraces(JSON.stringify({ namespace: s.namespace && !s.namespace.startsWith('{{') ? s.namespace : RELEASE_NS, name: s.name, keys: s.keys, ...(s.type ? { type: s.type } : {}) })).replace(`"${RELEASE_NS}"`, `{{ ${nsExpr(s)} | quote }}`);
  };
  const lines = secrets.map((s) => `{{- if ${s.when} }}\n${line(s)}\n{{- end }}`).join('\n');
  // Secrets copied per item of a values list: their sources by name
  const readsEach = secrets
    .filter((s) => s.forEach)
    .map((s) => `\n{{- if ${s.when} }}{{- range ${s.forEach} }}{{- $reads = append $reads (${unbrace(s.name)}) }}${s.reads ? `{{- $reads = append $reads (splitList "/" (${unbrace(s.reads)}) | last) }}` : ''}{{- end }}{{- end }}`)
    .join('');
  const script = escapeBraces(secretsJobScript())
    .split('\n')
    .map((l) => (l ? `            ${l}` : ''))
    .join('\n');
  return `{{- if and (${any}) }}
{{- $secrets := include ${q(`${chart}.generatedSecrets`)} . }}
{{- $reads := list ${readable.map(q).join(' ')} }}${readsEach}
# Creates the Secrets ${chart} reads and does not ship, when missing (features: ${[...new Set(secrets.map((s) => s.feature))].join(', ')}).
apiVersion: v1
kind: ServiceAccount
metadata:
  name: ${name}
  namespace: {{ .Release.Namespace }}
${meta(wave - 1)}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ${name}
${meta(wave - 1)}
rules:
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, create]
- apiGroups: [""]
  resources: [secrets]
  verbs: [create]
- apiGroups: [""]
  resources: [secrets]
  resourceNames: {{ toJson ($reads | uniq) }}
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ${name}
${meta(wave - 1)}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: ${name}
subjects:
- kind: ServiceAccount
  name: ${name}
  namespace: {{ .Release.Namespace }}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}-{{ $secrets | sha256sum | trunc 8 }}
  namespace: {{ .Release.Namespace }}
${meta(wave)}
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
export function addSecretsJob(m: ChartModel, image: ImageValue): void {
  if (!m.generated.length) return;
  const copies = m.generated.some((s) => Object.values(s.keys).some((r) => 'copy' in r && !r.copy.startsWith(`${s.namespace}/`)));
  const { values, schema } = secretsJobValues(image);
  m.values.secretsJob = values;
  m.properties.secretsJob = schema;
  // after the namespaces (tier 1); a Job copying another chart's Secret one wave later
  m.files['templates/secrets-job.yaml'] = secretsJobTemplate(m.name, m.generated, copies ? 3 : 2);
}
