import { parseYaml, podTemplate, WORKLOAD_KINDS, type KObject } from '../core/model.js';
import type { Analysis } from '../fold/analyze.js';

/**
 * Install tiers, in order. Argo CD gets one sync wave per tier and waits for
 * health between waves; Helm gets the same order through its CRD phase and
 * post-install gate hooks (see docs/ordering.md).
 */
export const TIERS = [
  { name: 'crds', what: 'CustomResourceDefinitions (crds/ of every chart, and variant-only CRDs)' },
  { name: 'namespaces', what: 'Namespaces' },
  { name: 'cert-manager', what: 'cert-manager: its controller, webhook and cainjector' },
  { name: 'certificates', what: "objects admitted by cert-manager's webhook (Kubeflow's ClusterIssuer)" },
  { name: 'mesh', what: 'Istio base and istiod (sidecar injector, validation)' },
  { name: 'gateways-auth', what: 'ingress gateways, Istio resources admitted by istiod, auth (oauth2-proxy, Dex), pods injected by istiod' },
  { name: 'controllers', what: 'Kubeflow controllers that serve admission webhooks, with their certificates' },
  { name: 'apps', what: 'custom resources admitted by those controllers, web apps and everything else' },
] as const;
export type TierName = (typeof TIERS)[number]['name'];
export const tierIndex = (t: TierName) => TIERS.findIndex((x) => x.name === t);
export const isTier = (t: string): t is TierName => TIERS.some((x) => x.name === t);

/** Helm hook weights of the umbrella's gate (post-install, post-upgrade). */
export const HOOK_WEIGHTS = { gateRbac: -10, wait: -5, restart: 5 } as const;

/**
 * Marks an admission webhook configuration that admits objects of its own release. It is an
 * ordinary release resource; while Helm installs it against a cluster where its server is not
 * available yet, its failurePolicy renders as Ignore until the gate (or the next upgrade) puts
 * upstream's back (docs/ordering.md). `kfc plan` reads this annotation.
 */
export const INSTALL_POLICY_ANNOTATION = 'kubeflow-charts.io/install-failure-policy';

export interface Placement {
  tier: TierName;
  wave: number;
  /** admission webhook configuration that admits objects the release creates: fail-open until its servers (Deployments `namespace/name`) are available */
  gatedWebhook?: { servers: string[] };
  /** kept on uninstall: holds user data */
  keep?: boolean;
}

export interface WebhookInfo {
  key: string;
  kind: string;
  name: string;
  component: string;
  /** workloads serving it, as `namespace/kind/name` */
  backends: string[];
  failurePolicy: string;
  /** objects (non-pod) of the release it admits */
  admits: string[];
  /** it mutates pods (e.g. the sidecar injector) */
  mutatesPods: boolean;
  injector: boolean;
}

export interface OrderingModel {
  placements: Map<string, Placement>;
  webhooks: WebhookInfo[];
  /** workload keys needing istiod's sidecar injection */
  injected: Set<string>;
  /** namespaces whose pods the sidecar injector mutates */
  injectedNamespaces: string[];
  /** `namespace/name` of the injector's backend deployments */
  injectorBackends: string[];
  crds: Array<{ name: string; component: string }>;
  /** objects in a namespace the release does not declare, and the cluster-scoped custom resource named like it that creates it (a Profile) */
  undeclared: Array<{ key: string; namespace: string; createdBy?: string }>;
}

/** Namespaces every cluster has. */
export const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'default']);
/** API groups of Kubernetes itself: their cluster-scoped objects never create namespaces. */
export const BUILTIN_GROUPS = new Set([
  'rbac.authorization.k8s.io',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'storage.k8s.io',
  'scheduling.k8s.io',
  'networking.k8s.io',
  'policy',
  'apiregistration.k8s.io',
  'node.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'certificates.k8s.io',
  'resource.k8s.io',
]);

interface Doc {
  o: KObject;
  d: any;
  component: string;
}

type Selector = { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> } | undefined;

export function selectorMatches(sel: Selector, labels: Record<string, string>): boolean {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const v = labels[e.key];
    if (e.operator === 'In' && !(has && (e.values ?? []).includes(v))) return false;
    if (e.operator === 'NotIn' && has && (e.values ?? []).includes(v)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

function group(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
}

const IRREGULAR: Record<string, string> = {
  Ingress: 'ingresses',
  NetworkPolicy: 'networkpolicies',
  PodSecurityPolicy: 'podsecuritypolicies',
  PriorityClass: 'priorityclasses',
  StorageClass: 'storageclasses',
  IngressClass: 'ingressclasses',
  Endpoints: 'endpoints',
};

/** Whether one webhook of a configuration admits a (non-pod) object or the pods of a workload. */
/** One webhook of a (Validating|Mutating)WebhookConfiguration: the fields admission matching reads. */
export interface AdmissionWebhook {
  rules?: Array<{ operations?: string[]; apiGroups?: string[]; resources?: string[] }>;
  namespaceSelector?: Selector;
  objectSelector?: Selector;
}

export function webhookMatches(w: AdmissionWebhook, resource: { group: string; plural: string; namespace?: string; labels: Record<string, string> }, nsLabels: (ns: string) => Record<string, string>): boolean {
  const ruleHit = (w.rules ?? []).some(
    (r) =>
      (r.operations ?? []).some((op: string) => op === 'CREATE' || op === '*') &&
      (r.apiGroups ?? []).some((g: string) => g === '*' || g === resource.group) &&
      (r.resources ?? []).some((res: string) => res === '*' || res === '*/*' || res === resource.plural),
  );
  if (!ruleHit) return false;
  if (resource.namespace !== undefined && !selectorMatches(w.namespaceSelector, nsLabels(resource.namespace))) return false;
  return selectorMatches(w.objectSelector, resource.labels);
}

/**
 * Computes every object's install tier from the release's own admission graph:
 * which webhooks admit which objects (and pods), which workloads serve those
 * webhooks, which Secrets come from which Certificates. A component's
 * configured tier (components/*.yaml `tier:`) is a floor.
 */
export function computeOrdering(components: Array<{ name: string; tier?: string; objects: KObject[] }>): OrderingModel {
  const docs = orderingDocs(components);
  const floor = new Map(components.map((c) => [c.name, c.tier && isTier(c.tier) ? c.tier : undefined]));
  const nsLabelMap = new Map<string, Record<string, string>>();
  for (const x of docs) if (x.o.kind === 'Namespace') nsLabelMap.set(x.o.name, x.d.metadata?.labels ?? {});
  const crds: OrderingModel['crds'] = docs.filter((x) => x.o.kind === 'CustomResourceDefinition').map((x) => ({ name: x.o.name, component: x.component }));
  // edges: object -> workloads it needs ready (admission), and certificates it needs issued
  const needs = new Map<string, Set<string>>();
  const need = (from: string, to: string) => {
    if (from === to) return;
    if (!needs.has(from)) needs.set(from, new Set());
    needs.get(from)!.add(to);
  };
  const { webhooks, injected, injectedNamespaces, injectorBackends } = webhookModel(docs, nsLabelMap, need);
  const workloads = docs.filter((x) => WORKLOAD_KINDS[x.o.kind]);
  // Secrets issued from Certificates: workloads mounting them need the Certificate
  const certBySecret = new Map<string, string>();
  for (const x of docs) if (x.o.kind === 'Certificate' && group(x.o.apiVersion) === 'cert-manager.io' && x.d.spec?.secretName) certBySecret.set(`${x.o.namespace}/${x.d.spec.secretName}`, x.o.key);
  for (const w of workloads) {
    for (const v of podTemplate(w.d, w.o.kind)?.spec?.volumes ?? []) {
      const cert = v.secret?.secretName && certBySecret.get(`${w.o.namespace}/${v.secret.secretName}`);
      if (cert) need(w.o.key, cert);
    }
  }

  // objects in a namespace the release does not declare: after the object that creates it
  const undeclared: OrderingModel['undeclared'] = [];
  const creators = new Map(docs.filter((x) => !x.o.namespace && group(x.o.apiVersion) && !BUILTIN_GROUPS.has(group(x.o.apiVersion)) && x.o.kind !== 'CustomResourceDefinition').map((x) => [x.o.name, x]));
  for (const x of docs) {
    const ns = x.o.namespace;
    if (!ns || nsLabelMap.has(ns) || SYSTEM_NAMESPACES.has(ns)) continue;
    const creator = creators.get(ns);
    if (creator) need(x.o.key, creator.o.key);
    undeclared.push({ key: x.o.key, namespace: ns, createdBy: creator?.o.key });
  }

  const placements = placementsOf(docs, webhooks, needs, floor);
  return { placements, webhooks, injected, injectedNamespaces: [...injectedNamespaces].sort(), injectorBackends: [...injectorBackends].sort(), crds, undeclared };
}

/** Every object once (the first configuration naming it wins), parsed. */
function orderingDocs(components: Array<{ name: string; objects: KObject[] }>): Doc[] {
  const docs: Doc[] = [];
  const seen = new Set<string>();
  for (const c of components) {
    for (const o of c.objects) {
      if (seen.has(o.key)) continue;
      seen.add(o.key);
      // CRDs are only needed for their names (parse the head only via the key) unless small
      const d = o.kind === 'CustomResourceDefinition' ? crdHead(o.raw) : parseYaml(o.raw);
      docs.push({ o, d, component: c.name });
    }
  }
  return docs;
}

/** The admission webhooks: their servers, what they admit (edges via `need`), and the pods istiod's injector mutates. */
function webhookModel(docs: Doc[], nsLabelMap: Map<string, Record<string, string>>, need: (from: string, to: string) => void) {
  const nsLabels = (ns: string) => nsLabelMap.get(ns) ?? {};
  const plural = new Map<string, string>();
  for (const x of docs) if (x.o.kind === 'CustomResourceDefinition') plural.set(`${x.d.spec?.group}/${x.d.spec?.names?.kind}`, x.d.spec?.names?.plural);
  const pluralOf = (o: KObject) => plural.get(`${group(o.apiVersion)}/${o.kind}`) ?? IRREGULAR[o.kind] ?? `${o.kind.toLowerCase()}s`;
  // workloads by namespace, and which serve which webhook
  const workloads = docs.filter((x) => WORKLOAD_KINDS[x.o.kind]);
  const services = new Map(docs.filter((x) => x.o.kind === 'Service').map((x) => [`${x.o.namespace}/${x.o.name}`, x]));
  const backendsOf = (svc: { namespace?: string; name?: string } | undefined): Doc[] => {
    const s = svc && services.get(`${svc.namespace}/${svc.name}`);
    const sel = s?.d.spec?.selector;
    if (!s || !sel) return [];
    return workloads.filter((w) => w.o.namespace === s.o.namespace && selectorMatches({ matchLabels: sel }, podTemplate(w.d, w.o.kind)?.metadata?.labels ?? {}));
  };

  const webhooks: WebhookInfo[] = [];
  const injected = new Set<string>();
  const injectedNamespaces = new Set<string>();
  const injectorBackends = new Set<string>();
  for (const x of docs) {
    if (x.o.kind !== 'MutatingWebhookConfiguration' && x.o.kind !== 'ValidatingWebhookConfiguration') continue;
    const info: WebhookInfo = { key: x.o.key, kind: x.o.kind, name: x.o.name, component: x.component, backends: [], failurePolicy: 'Fail', admits: [], mutatesPods: false, injector: false };
    for (const w of x.d.webhooks ?? []) {
      const backends = backendsOf(w.clientConfig?.service);
      for (const b of backends) {
        if (!info.backends.includes(b.o.key)) info.backends.push(b.o.key);
        need(x.o.key, b.o.key); // a webhook configuration goes with its server
      }
      if (w.failurePolicy === 'Ignore') info.failurePolicy = 'Ignore';
      const isInjector = x.o.kind === 'MutatingWebhookConfiguration' && (w.name ?? '').includes('sidecar-injector');
      for (const y of docs) {
        if (y === x || y.o.kind === 'CustomResourceDefinition' || y.o.kind === 'Namespace') continue;
        if (webhookMatches(w, { group: group(y.o.apiVersion), plural: pluralOf(y.o), namespace: y.o.namespace, labels: y.d.metadata?.labels ?? {} }, nsLabels)) {
          if (!info.admits.includes(y.o.key)) info.admits.push(y.o.key);
          for (const b of backends) need(y.o.key, b.o.key);
        }
        const tmpl = WORKLOAD_KINDS[y.o.kind] ? podTemplate(y.d, y.o.kind) : undefined;
        // istiod also honours the older opt-out annotation
        const optedOut = isInjector && tmpl?.metadata?.annotations?.['sidecar.istio.io/inject'] === 'false';
        if (tmpl && !optedOut && webhookMatches(w, { group: '', plural: 'pods', namespace: y.o.namespace ?? '', labels: tmpl.metadata?.labels ?? {} }, nsLabels)) {
          info.mutatesPods ||= x.o.kind === 'MutatingWebhookConfiguration';
          for (const b of backends) need(y.o.key, b.o.key);
          if (isInjector) {
            injected.add(y.o.key);
            if (y.o.namespace) injectedNamespaces.add(y.o.namespace);
          }
        }
      }
      if (isInjector) {
        info.injector = true;
        for (const b of backends) injectorBackends.add(`${b.o.namespace}/${b.o.name}`);
        // namespaces where every pod is injected unless it opts out
        if (w.namespaceSelector && selectorMatches(w.objectSelector, {})) for (const [ns, labels] of nsLabelMap) if (selectorMatches(w.namespaceSelector, labels)) injectedNamespaces.add(ns);
      }
    }
    webhooks.push(info);
  }
  return { webhooks, injected, injectedNamespaces, injectorBackends };
}

/** Each object's tier and wave: after everything it needs, at least its component's floor; keep policies. */
function placementsOf(docs: Doc[], webhooks: WebhookInfo[], needs: Map<string, Set<string>>, floor: Map<string, TierName | undefined>): Map<string, Placement> {
  // servers of admission webhooks: their component is at least "controllers"
  const serving = new Set(webhooks.flatMap((w) => w.backends.map((b) => docs.find((x) => x.o.key === b)!.component)));
  const byKey = new Map(docs.map((x) => [x.o.key, x]));
  const tierOf = new Map<string, number>();
  const visiting = new Set<string>();
  const compute = (key: string): number => {
    const known = tierOf.get(key);
    if (known !== undefined) return known;
    const x = byKey.get(key)!;
    if (x.o.kind === 'CustomResourceDefinition') return setTier(key, tierIndex('crds'));
    if (x.o.kind === 'Namespace') return setTier(key, tierIndex('namespaces'));
    if (visiting.has(key)) return tierIndex('apps');
    visiting.add(key);
    let t = tierIndex(floor.get(x.component) ?? (serving.has(x.component) ? 'controllers' : 'apps'));
    const isWebhook = x.o.kind.endsWith('WebhookConfiguration');
    for (const n of needs.get(key) ?? []) {
      const dep = byKey.get(n)!;
      // a webhook configuration goes in its server's wave; a certificate's consumer may share its wave
      const bump = isWebhook || (dep.o.kind === 'Certificate' && group(dep.o.apiVersion) === 'cert-manager.io') ? 0 : 1;
      t = Math.max(t, compute(n) + bump);
    }
    visiting.delete(key);
    // never capped: a dependency chain deeper than the tier table gets more waves
    return setTier(key, t);
  };
  function setTier(key: string, t: number): number {
    tierOf.set(key, t);
    return t;
  }

  // user data: PVCs, the namespaces holding them, and Profiles (they own user namespaces)
  const dataNamespaces = new Set<string>();
  for (const x of docs) {
    if (x.o.kind === 'PersistentVolumeClaim' || (x.o.kind === 'StatefulSet' && x.d.spec?.volumeClaimTemplates?.length)) if (x.o.namespace) dataNamespaces.add(x.o.namespace);
  }
  const deploymentOf = (k: string) => byKey.get(k)?.o;
  const gated = new Map(
    webhooks
      .filter((w) => w.admits.length > 0)
      .map((w) => [
        w.key,
        {
          servers: [
            ...new Set(
              w.backends
                .map(deploymentOf)
                .filter((o) => o?.kind === 'Deployment')
                .map((o) => `${o!.namespace}/${o!.name}`),
            ),
          ].sort(),
        },
      ]),
  );
  const placements = new Map<string, Placement>();
  for (const x of docs) {
    const t = compute(x.o.key);
    const keep = x.o.kind === 'CustomResourceDefinition' || x.o.kind === 'PersistentVolumeClaim' || (x.o.kind === 'Namespace' && dataNamespaces.has(x.o.name)) || (x.o.kind === 'Profile' && group(x.o.apiVersion) === 'kubeflow.org');
    placements.set(x.o.key, { tier: TIERS[Math.min(t, TIERS.length - 1)].name, wave: t, ...(gated.has(x.o.key) ? { gatedWebhook: gated.get(x.o.key) } : {}), ...(keep ? { keep: true } : {}) });
  }
  return placements;
}

/** The parts of a CRD the ordering needs, read without parsing megabytes of schema. */
export function crdHead(raw: string): any {
  const m = (re: RegExp) =>
    re
      .exec(raw)?.[1]
      ?.trim()
      .replace(/^["']|["']$/g, '');
  const strategy = m(/^ {2}conversion:\n(?: {4}.*\n)*? {4}strategy: (.+)$/m);
  return { metadata: { name: m(/^ {2}name: (.+)$/m) }, spec: { group: m(/^ {2}group: (.+)$/m), names: { kind: m(/^ {4}kind: (.+)$/m), plural: m(/^ {4}plural: (.+)$/m) }, ...(strategy ? { conversion: { strategy } } : {}) } };
}

/** The install order of every object of every configuration of an analysed release. */
export function orderingOf(a: Analysis): OrderingModel {
  // component files name only known tiers (components/component.schema.json; test/contract-schema.test.ts ties its enum to TIERS)
  // defaults first: where variants differ, the default content describes the object (namespace labels, ...)
  const first = a.components.map((c) => ({ name: c.plan.name, tier: c.plan.config?.tier, objects: c.configs[0]?.objects ?? [] }));
  const rest = a.components.map((c) => ({ name: c.plan.name, tier: c.plan.config?.tier, objects: c.configs.slice(1).flatMap((x) => x.objects) }));
  return computeOrdering([...first, ...rest]);
}
