import YAML from 'yaml';
import { podTemplate, WORKLOAD_KINDS } from '../core/model.js';
import type { MeshMode } from './authz.js';
import { evalExpr, evalLabels, type Actor, type TrafficModel } from './traffic-model.js';

/**
 * A render as the traffic check sees it: its pods (from workloads and Pod objects, with the
 * namespace Helm gives objects that name none), Services, namespaces and Istio objects, plus
 * the stand-in pods the traffic model places where the values say a user's pods run, and one
 * unlabelled "bystander" pod per namespace (any other pod there).
 */

export interface PodInfo {
  /** how the NetworkPolicy analyzer names it: `ns/name[Kind]` */
  id: string;
  namespace: string;
  name: string;
  kind: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  serviceAccount: string;
  ports: Array<{ name?: string; containerPort: number }>;
  args: string[];
  /** the actor it stands in for */
  standIn?: string;
  /** an unlabelled pod standing for "any other pod of this namespace" */
  bystander?: boolean;
  mode: MeshMode;
}

/** A Kubernetes object of a render as the traffic check reads it (parsed YAML: the fields read, typed; nothing validated). */
export interface Doc {
  apiVersion?: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: DocSpec;
  data?: Record<string, string>;
  /** (Validating|Mutating)WebhookConfiguration */
  webhooks?: Array<{ name?: string; clientConfig?: { service?: ServiceRef } }>;
}

export interface ServiceRef {
  namespace: string;
  name: string;
  port?: number;
}

export interface Container {
  name?: string;
  image?: string;
  command?: string[];
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: DocSpec;
}

interface Route {
  route?: Array<{ destination?: { host?: string; port?: { number?: number } } }>;
}

/** The spec fields the traffic check reads, by kind. */
export interface DocSpec {
  // Pod
  containers?: Container[];
  initContainers?: Container[];
  serviceAccountName?: string;
  serviceAccount?: string;
  // Service
  selector?: Record<string, string>;
  ports?: Array<{ name?: string; port: number; targetPort?: number | string }>;
  // Gateway (Gateway API)
  gatewayClassName?: string;
  // VirtualService, DestinationRule, ServiceEntry
  gateways?: string[];
  http?: Route[];
  tcp?: Route[];
  tls?: Route[];
  host?: string;
  hosts?: string[];
  // HTTPRoute
  rules?: Array<{ backendRefs?: Array<{ kind?: string; name: string; namespace?: string }> }>;
  // RequestAuthentication
  jwtRules?: Array<{ jwksUri?: string; issuer?: string }>;
  // CustomResourceDefinition
  conversion?: { webhook?: { clientConfig?: { service?: ServiceRef } } };
}

export interface RenderModel {
  docs: Doc[];
  releaseNamespace: string;
  values: unknown;
  pods: PodInfo[];
  namespaces: Map<string, Record<string, string>>;
  services: Doc[];
  /** the namespace Istio's control plane (and root policies) live in, when there is a mesh */
  rootNamespace?: string;
  /** documents added for the analyzer (stand-ins, bystanders, namespaces) */
  added: Doc[];
}

const NAMESPACED = new Set([
  ...Object.keys(WORKLOAD_KINDS),
  'Pod',
  'Service',
  'NetworkPolicy',
  'ConfigMap',
  'Secret',
  'ServiceAccount',
  'AuthorizationPolicy',
  'RequestAuthentication',
  'PeerAuthentication',
  'VirtualService',
  'DestinationRule',
  'Gateway',
  'HTTPRoute',
  'ServiceEntry',
  'Sidecar',
]);

/** Objects as Helm installs them: a namespaced object without namespace lands in the release's. */
export function withNamespaces(docs: Doc[], releaseNamespace: string): Doc[] {
  return docs.map((d) => (NAMESPACED.has(d?.kind) && !d.metadata?.namespace ? { ...d, metadata: { ...d.metadata, namespace: releaseNamespace } } : d));
}

export const labelsMatch = (selector: Record<string, string> | undefined, labels: Record<string, string>) => !!selector && Object.entries(selector).every(([k, v]) => labels[k] === v);

function podOf(d: Doc): PodInfo | undefined {
  if (d.kind !== 'Pod' && !WORKLOAD_KINDS[d.kind]) return undefined;
  const t: PodTemplate | undefined = d.kind === 'Pod' ? d : podTemplate(d, d.kind);
  if (!t?.spec) return undefined;
  const containers = [...(t.spec.containers ?? []), ...(t.spec.initContainers ?? [])];
  return {
    id: `${d.metadata.namespace}/${d.metadata.name}[${d.kind}]`,
    namespace: d.metadata.namespace!,
    name: d.metadata.name,
    kind: d.kind,
    labels: t.metadata?.labels ?? {},
    annotations: t.metadata?.annotations ?? {},
    serviceAccount: t.spec.serviceAccountName ?? t.spec.serviceAccount ?? 'default',
    ports: containers.flatMap((c) => c.ports ?? []),
    args: containers.flatMap((c) => [...(c.command ?? []), ...(c.args ?? [])].map(String)),
    mode: 'none',
  };
}

function isGatewayProxy(p: PodInfo, t: PodTemplate | undefined): boolean {
  return (t?.spec?.containers ?? []).some((c) => /proxyv2/.test(String(c.image)) && (c.args ?? []).includes('router'));
}

/**
 * The labels Istio's sidecar injector adds to a pod (NetworkPolicies select on them, e.g.
 * `service.istio.io/canonical-name`): set on the pod template the analyzer reads too.
 */
function injectLabels(p: PodInfo, t: PodTemplate): void {
  const canonical = p.labels['service.istio.io/canonical-name'] ?? p.labels['app.kubernetes.io/name'] ?? p.labels.app ?? p.name;
  const added = {
    'service.istio.io/canonical-name': canonical,
    'service.istio.io/canonical-revision': p.labels['service.istio.io/canonical-revision'] ?? p.labels['app.kubernetes.io/version'] ?? p.labels.version ?? 'latest',
    'security.istio.io/tlsMode': 'istio',
  };
  p.labels = { ...added, ...p.labels };
  t.metadata = { ...(t.metadata ?? {}), labels: p.labels };
}

/** How a pod takes part in the mesh (none when the render has no Istio control plane). */
function meshMode(p: PodInfo, nsLabels: Record<string, string>, mesh: boolean, gateway: boolean): MeshMode {
  if (!mesh) return 'none';
  if (gateway) return 'gateway';
  const inject = p.labels['sidecar.istio.io/inject'] ?? p.annotations['sidecar.istio.io/inject'];
  // the injector's webhook skips namespaces labelled istio-injection=disabled, whatever the pod says
  if (inject === 'true' && nsLabels['istio-injection'] !== 'disabled') return 'sidecar';
  if (inject !== 'false' && (nsLabels['istio-injection'] === 'enabled' || nsLabels['istio.io/rev'])) return 'sidecar';
  if (nsLabels['istio.io/dataplane-mode'] === 'ambient' && p.labels['istio.io/dataplane-mode'] !== 'none') return 'ambient';
  return 'none';
}

function standInLabels(a: Actor, ctx: { values: unknown; releaseNamespace: string }, docs: Doc[]): { ns: string; labels: Record<string, string>; nsLabels: Record<string, string> } | undefined {
  const s = a.standIn!;
  if (!standInApplies(s.when, ctx, docs)) return undefined;
  const ns = String(evalExpr(s.namespace, ctx) ?? '');
  if (!ns) return undefined;
  const labels = evalLabels(s.labels, ctx);
  const nsLabels: Record<string, string> = { ...(s.namespaceLabels ?? {}) };
  if (s.namespaceLabelsFrom) {
    const [cmNs, cmName] = s.namespaceLabelsFrom.configMap.split('/');
    const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.namespace === cmNs && (d.metadata.name === cmName || d.metadata.name.startsWith(`${cmName}-`)));
    const extra = cm ? (YAML.parse(cm.data?.[s.namespaceLabelsFrom.key] ?? '') ?? {}) : {};
    for (const [k, v] of Object.entries<string>(extra)) {
      if (v === '') delete nsLabels[k];
      else nsLabels[k] = String(v);
    }
  }
  return { ns, labels: { ...labels, 'kubeflow-charts.io/stand-in': a.name }, nsLabels };
}

/** `rendered <Kind> <ns/name>` (the object is in the render), or a values expression that must be non-empty. */
export function standInApplies(when: string, ctx: { values: unknown; releaseNamespace: string }, docs: Doc[]): boolean {
  const m = /^rendered (\S+) (\S+)$/.exec(when.trim());
  if (m) return docs.some((d) => d.kind === m[1] && `${d.metadata?.namespace}/${d.metadata?.name}` === m[2]);
  const v = evalExpr(when, ctx);
  return v !== undefined && v !== false && v !== '';
}

/** A Pod document for the analyzer. */
function podDoc(ns: string, name: string, labels: Record<string, string>, sa: string, ports: number[]): Doc {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels },
    spec: { serviceAccountName: sa, containers: [{ name: 'main', image: 'stand-in', ports: ports.map((p) => ({ containerPort: p })) }] },
  };
}

export function buildRender(rendered: unknown[], model: TrafficModel, values: unknown, releaseNamespace: string): RenderModel {
  const docs = withNamespaces(
    rendered.filter((d): d is Doc => !!d && typeof d === 'object' && !!(d as Partial<Doc>).kind),
    releaseNamespace,
  );
  const ctx = { values, releaseNamespace };
  const namespaces = new Map<string, Record<string, string>>();
  for (const d of docs.filter((x) => x.kind === 'Namespace')) namespaces.set(d.metadata.name, { ...(d.metadata.labels ?? {}), 'kubernetes.io/metadata.name': d.metadata.name });
  const added: Doc[] = [];
  const standIns: Array<{ actor: Actor; doc: Doc }> = [];
  for (const a of Object.values(model.actors)) {
    if (!a.standIn || (a.workload && findWorkload(docs, a.workload))) continue;
    const s = standInLabels(a, ctx, docs);
    if (!s) continue;
    if (!namespaces.has(s.ns)) namespaces.set(s.ns, { 'kubernetes.io/metadata.name': s.ns });
    Object.assign(namespaces.get(s.ns)!, s.nsLabels);
    const sa = String(evalExpr(a.standIn.serviceAccount ?? 'default', ctx) ?? 'default');
    const doc = podDoc(s.ns, `stand-in-${a.name}`, s.labels, sa, a.ports ?? [8080]);
    standIns.push({ actor: a, doc });
  }
  for (const ns of [...namespaces.keys(), releaseNamespace, 'elsewhere']) {
    if (!namespaces.has(ns)) namespaces.set(ns, { 'kubernetes.io/metadata.name': ns });
    added.push(podDoc(ns, 'bystander', {}, 'default', [8080]));
  }
  for (const [name, labels] of namespaces) {
    if (!docs.some((d) => d.kind === 'Namespace' && d.metadata.name === name)) added.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  }
  added.push(...standIns.map((s) => s.doc));
  // Istio deploys a waypoint's pods from its Gateway (class istio-waypoint)
  for (const g of docs.filter((d) => d.kind === 'Gateway' && d.apiVersion?.startsWith('gateway.networking.k8s.io') && d.spec?.gatewayClassName === 'istio-waypoint'))
    added.push(podDoc(g.metadata.namespace!, `waypoint-${g.metadata.name}`, { 'gateway.networking.k8s.io/gateway-name': g.metadata.name, 'istio.io/dataplane-mode': 'none' }, g.metadata.name, [15008]));
  const all = [...docs.filter((d) => d.kind !== 'Namespace'), ...docs.filter((d) => d.kind === 'Namespace').map((d) => ({ ...d, metadata: { ...d.metadata, labels: namespaces.get(d.metadata.name) } })), ...added];
  return finishRender(all, docs, model, values, releaseNamespace, namespaces, standIns, added);
}

function finishRender(all: Doc[], docs: Doc[], model: TrafficModel, values: unknown, releaseNamespace: string, namespaces: Map<string, Record<string, string>>, standIns: Array<{ actor: Actor; doc: Doc }>, added: Doc[]): RenderModel {
  const istiod = model.actors.istiod;
  const istiodPod = istiod?.workload ? findWorkload(docs, istiod.workload) : undefined;
  const rootNamespace = istiodPod?.metadata.namespace ?? standIns.find((s) => s.actor.name === 'istiod')?.doc.metadata.namespace;
  const pods: PodInfo[] = [];
  for (const d of all) {
    const p = podOf(d);
    if (!p) continue;
    const standIn = standIns.find((s) => s.doc === d)?.actor;
    const t = d.kind === 'Pod' ? d : podTemplate(d, d.kind);
    const gateway = standIn ? standIn.mesh === 'gateway' : isGatewayProxy(p, t);
    p.standIn = standIn?.name;
    p.bystander = d.metadata.name === 'bystander' && added.includes(d);
    p.mode = standIn && standIn.mesh === 'none' ? 'none' : meshMode(p, namespaces.get(p.namespace) ?? {}, !!rootNamespace, gateway);
    if (p.mode === 'sidecar') injectLabels(p, t);
    pods.push(p);
  }
  return { docs: all, releaseNamespace, values, pods, namespaces, services: all.filter((d) => d.kind === 'Service'), rootNamespace, added };
}

/** A rendered workload by `ns/name` or `name` (any namespace). */
export function findWorkload(docs: Doc[], ref: string): Doc | undefined {
  const [ns, name] = ref.includes('/') ? ref.split('/') : [undefined, ref];
  return docs.find((d) => (WORKLOAD_KINDS[d.kind] || d.kind === 'Pod') && d.metadata?.name === name && (!ns || d.metadata.namespace === ns));
}

/** The pods of an actor in a render. */
export function actorPods(r: RenderModel, a: Actor): PodInfo[] {
  if (a.workload) {
    const w = findWorkload(r.docs, a.workload);
    if (w) return r.pods.filter((p) => p.namespace === w.metadata.namespace && p.name === w.metadata.name && p.kind === w.kind);
  }
  if (a.pods) {
    const glob = (pat: string, v: string | undefined) => v !== undefined && new RegExp(`^${pat.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(v);
    return r.pods.filter((p) => !p.standIn && Object.entries(a.pods!.labels).every(([k, v]) => glob(v, p.labels[k])));
  }
  return r.pods.filter((p) => p.standIn === a.name);
}

/** The pods a Service selects (stand-ins included). */
export function serviceBackends(r: RenderModel, svc: Doc): PodInfo[] {
  const sel = svc.spec?.selector;
  if (!sel || !Object.keys(sel).length) return [];
  return r.pods.filter((p) => !p.bystander && p.namespace === svc.metadata.namespace && labelsMatch(sel, p.labels));
}

/** A Service by host (`name`, `name.ns`, `name.ns.svc`, `name.ns.svc.cluster.local`), relative to `ns`. */
export function serviceByHost(r: RenderModel, host: string, ns?: string): Doc | undefined {
  const parts = host.replace(/\.svc(\.cluster\.local)?$/, '').split('.');
  if (parts.length > 2) return undefined;
  const [name, inNs] = parts.length === 2 ? parts : [parts[0], ns];
  return r.services.find((s) => s.metadata.name === name && (!inNs || s.metadata.namespace === inNs));
}
