import { LIFECYCLE_LABEL } from '../core/chart-model.js';
import { enabled, type GateData, HOOK_DELETE_POLICY, hookMeta } from './gates.js';
import { HOOK_WEIGHTS } from './tiers.js';

/**
 * RBAC of the umbrella's lifecycle jobs and test pods, least privilege: every
 * rule that Kubernetes can restrict by name names its objects (the CRDs they
 * wait for, the workloads they read or restart, the webhook configurations
 * whose failurePolicy the gate sets back); namespaced Roles for workloads, a
 * ClusterRole only for CRDs and webhook configurations. The gate's RBAC is a
 * set of hooks created just before the gate jobs and deleted once they
 * succeeded, so the gate keeps no right after the install; a failed gate's is
 * removed by the next upgrade or by `helm uninstall` (the RBAC hooks run at
 * pre-delete too, where they are created and deleted again). The tests' RBAC
 * (read-only) is an ordinary release resource. Argo CD skips both.
 */

/** When the gate's RBAC exists: around the gate jobs, and once more at pre-delete to remove what a failed gate left. */
export const GATE_RBAC_EVENTS = 'post-install,post-upgrade,pre-delete';

/** Metadata of a lifecycle object of the umbrella; Argo CD does not apply it. With `hook`, a Helm hook of those events. */
export function lifecycleMeta(name: string, namespace: string | undefined, lifecycle: string, hook?: string): string {
  return [
    'metadata:',
    `  name: {{ .Release.Name }}-${name}`,
    ...(namespace ? [`  namespace: ${namespace}`] : []),
    '  labels:',
    `    ${LIFECYCLE_LABEL}: ${lifecycle}`,
    '    app.kubernetes.io/managed-by: {{ .Release.Service }}',
    '    app.kubernetes.io/instance: {{ .Release.Name }}',
    '    helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}',
    '  annotations:',
    '    argocd.argoproj.io/hook: Skip',
    ...(hook ? [`    helm.sh/hook: ${hook}`, `    helm.sh/hook-weight: "${HOOK_WEIGHTS.gateRbac}"`, `    helm.sh/hook-delete-policy: ${HOOK_DELETE_POLICY}`] : []),
  ].join('\n');
}

const RELEASE_NS = '{{ .Release.Namespace }}';

function binding(kind: 'RoleBinding' | 'ClusterRoleBinding', role: 'Role' | 'ClusterRole', name: string, meta: string, roleName = name): string {
  return `apiVersion: rbac.authorization.k8s.io/v1
kind: ${kind}
${meta}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ${role}
  name: {{ .Release.Name }}-${roleName}
subjects:
- kind: ServiceAccount
  name: {{ .Release.Name }}-${name}
  namespace: ${RELEASE_NS}`;
}

/** A rule naming its objects; rendered only when the (template) list `$var` is not empty: an empty resourceNames would grant all. */
function namedRule(variable: string, apiGroup: string, resources: string, verbs: string): string {
  return `{{- if ${variable} }}
- apiGroups: [${JSON.stringify(apiGroup)}]
  resources: [${resources}]
  resourceNames: {{ toJson (uniq ${variable}) }}
  verbs: [${verbs}]
{{- end }}`;
}

/** `{{- $var = concat $var (list ...) }}` under each component's condition. */
function collect(variable: string, byCondition: Array<[string, string[]]>): string {
  return byCondition
    .filter(([, names]) => names.length)
    .map(([cond, names]) => `{{- if ${cond} }}{{- ${variable} = concat ${variable} (list ${[...new Set(names)].map((n) => JSON.stringify(n)).join(' ')}) }}{{- end }}`)
    .join('\n');
}

/**
 * A Role (and its binding to the account `name`) in every namespace where the
 * account reads (`read`) or restarts (`patch`) workloads, by component condition.
 */
export function namespacedRoles(name: string, lifecycle: string, perNamespace: Map<string, Array<{ cond: string; read: string[]; patch: string[] }>>, hook?: string): string {
  const out: string[] = [];
  let computed = 0;
  for (const [ns, parts] of [...perNamespace].sort(([a], [b]) => a.localeCompare(b))) {
    // workloads upstream leaves without a namespace run in the release's; its Role gets its own name,
    // since the release namespace may be one of the upstream ones; so does a namespace a value chooses
    const roleName = ns === RELEASE_NS ? `${name}-release-namespace` : ns.includes('{{') ? `${name}-values-namespace-${++computed}` : name;
    out.push(`{{- with $ }}
{{- $read := list }}
{{- $patch := list }}
${collect(
  '$read',
  parts.map((p) => [p.cond, [...p.read, ...p.patch]]),
)}
${collect(
  '$patch',
  parts.map((p) => [p.cond, p.patch]),
)}
{{- if $read }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
${lifecycleMeta(roleName, ns, lifecycle, hook)}
rules:
${namedRule('$read', 'apps', 'deployments, statefulsets, daemonsets', 'get, list, watch')}
${namedRule('$patch', 'apps', 'deployments, statefulsets, daemonsets', 'patch')}
{{- if $patch }}
- apiGroups: [""]
  resources: [pods]
  verbs: [list]
{{- end }}
---
${binding('RoleBinding', 'Role', name, lifecycleMeta(roleName, ns, lifecycle, hook), roleName)}
{{- end }}
{{- end }}`);
  }
  return out.join('\n');
}

/** RBAC of the post-install/post-upgrade gate jobs: hooks around them, deleted once they succeeded. */
export function gateRbac(gates: GateData[]): string {
  const perNs = new Map<string, Array<{ cond: string; read: string[]; patch: string[] }>>();
  const add = (ns: string, cond: string, read: string[], patch: string[]) => {
    if (!perNs.has(ns)) perNs.set(ns, []);
    perNs.get(ns)!.push({ cond, read, patch });
  };
  for (const g of gates) {
    const cond = enabled(g.component);
    const nss = new Set([...g.webhookServers.map((s) => s.split('/')[0]), ...g.injected.map((w) => w.namespace)]);
    for (const ns of nss) {
      add(
        ns,
        cond,
        g.webhookServers.filter((s) => s.split('/')[0] === ns).map((s) => s.split('/')[1]),
        g.injected.filter((w) => w.namespace === ns).map((w) => w.name),
      );
    }
  }
  const webhooks = (kind: string) =>
    collect(
      `$${kind}`,
      gates.map((g) => [enabled(g.component), g.policies.filter((p) => p.resource.startsWith(kind)).map((p) => p.name)]),
    );
  const meta = (namespace: string | undefined) => lifecycleMeta('gate', namespace, 'gate', GATE_RBAC_EVENTS);
  return `{{- if .Values.hooks.enabled }}
# RBAC of the gate jobs: hooks created before them and deleted once they succeeded (least privilege, by name).
apiVersion: v1
kind: ServiceAccount
${meta(RELEASE_NS)}
---
{{- $crds := list }}
{{- $validatingwebhookconfiguration := list }}
{{- $mutatingwebhookconfiguration := list }}
${collect(
  '$crds',
  gates.map((g) => [enabled(g.component), g.crds]),
)}
${webhooks('validatingwebhookconfiguration')}
${webhooks('mutatingwebhookconfiguration')}
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
${meta(undefined)}
rules:
${namedRule('$crds', 'apiextensions.k8s.io', 'customresourcedefinitions', 'get, list, watch')}
${namedRule('$validatingwebhookconfiguration', 'admissionregistration.k8s.io', 'validatingwebhookconfigurations', 'get, patch')}
${namedRule('$mutatingwebhookconfiguration', 'admissionregistration.k8s.io', 'mutatingwebhookconfigurations', 'get, patch')}
---
${binding('ClusterRoleBinding', 'ClusterRole', 'gate', meta(undefined))}
${namespacedRoles('gate', 'gate', perNs, GATE_RBAC_EVENTS)}
{{- end }}
`;
}

/**
 * RBAC of the pre-upgrade CRD check: hooks of their own (the gate's account may not
 * exist yet when upgrading from an older chart), removed on success and failure.
 */
export function crdCheckRbac(gates: GateData[]): string {
  const meta = (namespaced: boolean) => {
    const m = hookMeta('crd-check', 'pre-upgrade', HOOK_WEIGHTS.gateRbac, 'Skip');
    return namespaced ? m : m.replace(/\n {2}namespace: .*/, '');
  };
  return `{{- if .Values.hooks.enabled }}
apiVersion: v1
kind: ServiceAccount
${meta(true)}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
${meta(false)}
{{- $crds := list }}
${collect(
  '$crds',
  gates.map((g) => [enabled(g.component), g.crds]),
)}
rules:
${namedRule('$crds', 'apiextensions.k8s.io', 'customresourcedefinitions', 'get')}
---
${binding('ClusterRoleBinding', 'ClusterRole', 'crd-check', meta(false))}
{{- end }}
`;
}
