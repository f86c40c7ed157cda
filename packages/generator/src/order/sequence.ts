import YAML from 'yaml';
import { LIFECYCLE_LABEL } from '../core/chart-model.js';
import { metadataBlock, parseYaml, podTemplate, splitObjects, WORKLOAD_KINDS, type KObject } from '../core/model.js';
import { BUILTIN_GROUPS, crdHead, HOOK_WEIGHTS, INSTALL_POLICY_ANNOTATION, selectorMatches, SYSTEM_NAMESPACES, TIERS, webhookMatches } from './tiers.js';

/**
 * The install sequence of a rendered release as Helm 3, Helm 4 and Argo CD
 * execute it, and the dependency rules checked on it (the `plan` command).
 */
export type Engine = 'helm3' | 'helm4' | 'argocd';

/** Annotation on objects a feature places in a namespace the user's platform owns (e.g. their Istio's). */
export const EXTERNAL_NAMESPACE = 'kubeflow-charts.io/external-namespace';
export const ENGINES: Engine[] = ['helm3', 'helm4', 'argocd'];

/** Helm 4's kind order (pkg/release/util/kind_sorter.go); Helm 3 lacks the webhook kinds. */
const HELM4_ORDER = [
  'PriorityClass',
  'Namespace',
  'NetworkPolicy',
  'ResourceQuota',
  'LimitRange',
  'PodSecurityPolicy',
  'PodDisruptionBudget',
  'ServiceAccount',
  'Secret',
  'SecretList',
  'ConfigMap',
  'StorageClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleList',
  'ClusterRoleBinding',
  'ClusterRoleBindingList',
  'Role',
  'RoleList',
  'RoleBinding',
  'RoleBindingList',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicationController',
  'ReplicaSet',
  'Deployment',
  'HorizontalPodAutoscaler',
  'StatefulSet',
  'Job',
  'CronJob',
  'IngressClass',
  'Ingress',
  'APIService',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
];
const HELM3_ORDER = HELM4_ORDER.filter((k) => !k.endsWith('WebhookConfiguration'));
/** Argo CD (gitops-engine) orders a wave's resources by kind like this, custom resources last. */
const ARGO_ORDER = HELM3_ORDER.filter((k) => k !== 'PriorityClass');

export interface PlanObject {
  key: string;
  kind: string;
  apiVersion: string;
  namespace?: string;
  name: string;
  source: string;
  fromCrdsDir: boolean;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  doc?: any;
}

export interface Stage {
  phase: string;
  /** Helm hook weight or Argo CD wave */
  order?: number;
  objects: PlanObject[];
  /** what the engine waits for before the next stage */
  waits: string;
  /** gate job semantics read from its script */
  gate?: Gate;
}

/** What gate jobs do, read from their scripts: wait for deployments and CRDs, restart workloads, set webhook policies back. */
export interface Gate {
  deployments: string[];
  crds: string[];
  restarts: string[];
  /** webhook configurations (by name) whose failurePolicy the gate sets back to upstream's */
  restores: string[];
}

export interface Violation {
  engine: Engine;
  rule: string;
  message: string;
  /** key of the object created too early, and of the objects it waits for */
  object?: string;
  needs?: string[];
}

function kindRank(order: string[], kind: string): [number, string] {
  const i = order.indexOf(kind);
  return i >= 0 ? [i, ''] : [order.length, kind];
}

function byKind(order: string[]) {
  return (a: PlanObject, b: PlanObject) => {
    const [ia, ka] = kindRank(order, a.kind);
    const [ib, kb] = kindRank(order, b.kind);
    return ia - ib || ka.localeCompare(kb);
  };
}

/** Reads just metadata (and the CRD's names) from a rendered document. */
export function planObjects(rendered: string): PlanObject[] {
  return splitObjects(rendered, 'rendered manifest').map((o: KObject) => {
    const source = /^# Source: (.+)$/m.exec(o.raw)?.[1] ?? '';
    const big = o.kind === 'CustomResourceDefinition';
    const doc = big ? crdHead(o.raw) : parseYaml(o.raw);
    const meta = big ? metadataOnly(o.raw) : (doc?.metadata ?? {});
    return { key: o.key, kind: o.kind, apiVersion: o.apiVersion, namespace: o.namespace, name: o.name, source, fromCrdsDir: /\/crds\//.test(source), annotations: meta.annotations ?? {}, labels: meta.labels ?? {}, doc };
  });
}

function metadataOnly(raw: string): { annotations?: Record<string, string>; labels?: Record<string, string> } {
  const lines = raw.split('\n');
  const block = metadataBlock(lines);
  if (!block) return {};
  return YAML.parse(lines.slice(block.start, block.end).join('\n'), { version: '1.1' })?.metadata ?? {};
}

const hookOf = (o: PlanObject) =>
  (o.annotations['helm.sh/hook'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const weightOf = (o: PlanObject) => Number(o.annotations['helm.sh/hook-weight'] ?? 0);
const waveOf = (o: PlanObject) => Number(o.annotations['argocd.argoproj.io/sync-wave'] ?? 0);

function readGate(o: PlanObject): Gate | undefined {
  if (o.kind !== 'Job') return undefined;
  const script = (o.doc?.spec?.template?.spec?.containers ?? []).flatMap((c: { command?: string[]; args?: string[] }) => [...(c.command ?? []), ...(c.args ?? [])]).join('\n');
  const deployments = [...script.matchAll(/kubectl -n (\S+) rollout status deployment\/([\w.-]+)/g)].map((m) => `${m[1]}/${m[2]}`);
  const crds = [...script.matchAll(/^\s*wait_crd ([\w.-]+)\s*$/gm)].map((m) => m[1]);
  const restarts = [...script.matchAll(/^\s*restart (\S+) (deployment|statefulset|daemonset) ([\w.-]+) /gm)].map((m) => `${m[1]}/${m[3]}`);
  const restores = [...script.matchAll(/^\s*restore_policy \S+ ([\w.-]+) /gm)].map((m) => m[1]);
  return deployments.length || crds.length || restarts.length || restores.length ? { deployments, crds, restarts, restores } : undefined;
}

function hookStages(objs: PlanObject[], event: string, order: string[]): Stage[] {
  const hooks = objs.filter((o) => hookOf(o).includes(event));
  const weights = [...new Set(hooks.map(weightOf))].sort((a, b) => a - b);
  return weights.map((w) => {
    const objects = hooks.filter((o) => weightOf(o) === w).sort(byKind(order));
    const jobs = objects.filter((o) => o.kind === 'Job' || o.kind === 'Pod');
    const gates = jobs.map(readGate).filter((g): g is Gate => !!g);
    const gate = gates.length ? { deployments: gates.flatMap((g) => g.deployments), crds: gates.flatMap((g) => g.crds), restarts: gates.flatMap((g) => g.restarts), restores: gates.flatMap((g) => g.restores) } : undefined;
    return { phase: event, order: w, objects, waits: jobs.length ? `${jobs.map((j) => `Job ${j.name}`).join(', ')} complete` : 'nothing (created, not waited for)', gate };
  });
}

/** The install sequence of one engine. */
export function sequence(engine: Engine, objs: PlanObject[]): Stage[] {
  const isTest = (o: PlanObject) => hookOf(o).some((h) => h.startsWith('test'));
  if (engine === 'argocd') {
    const argoHook = (o: PlanObject): string | undefined => {
      const a = o.annotations['argocd.argoproj.io/hook'];
      if (a) return a.split(',')[0].trim();
      const h = hookOf(o);
      if (!h.length) return undefined;
      if (h.some((x) => x === 'pre-install' || x === 'pre-upgrade')) return 'PreSync';
      if (h.some((x) => x === 'post-install' || x === 'post-upgrade')) return 'PostSync';
      if (h.includes('pre-delete')) return 'PreDelete';
      if (h.includes('post-delete')) return 'PostDelete';
      return 'Skip'; // tests and other Helm hooks: Argo CD ignores them
    };
    const stages: Stage[] = [];
    for (const phase of ['PreSync', 'Sync', 'PostSync']) {
      const inPhase = objs.filter((o) => (argoHook(o) ?? 'Sync') === phase && !isTest(o));
      const waves = [...new Set(inPhase.map(waveOf))].sort((a, b) => a - b);
      for (const w of waves) stages.push({ phase, order: w, objects: inPhase.filter((o) => waveOf(o) === w).sort(byKind(ARGO_ORDER)), waits: 'all resources of the wave healthy' });
    }
    return stages;
  }
  const order = engine === 'helm3' ? HELM3_ORDER : HELM4_ORDER;
  const crds = objs.filter((o) => o.fromCrdsDir);
  const main = objs.filter((o) => !o.fromCrdsDir && !hookOf(o).length).sort(byKind(order));
  return [
    { phase: 'crds', objects: crds, waits: 'CRDs Established' },
    ...hookStages(objs, 'pre-install', order),
    { phase: 'install', objects: main, waits: engine === 'helm3' ? 'nothing (all created at once in kind order; --wait: all ready)' : 'nothing (applied at once in kind order; --wait: all ready)' },
    ...hookStages(objs, 'post-install', order),
  ];
}

interface Position {
  stage: number;
  rank: number;
}

function positions(stages: Stage[], order: string[]): Map<string, Position> {
  const pos = new Map<string, Position>();
  stages.forEach((s, i) => s.objects.forEach((o) => pos.set(o.key, { stage: i, rank: kindRank(order, o.kind)[0] * 1000 + (kindRank(order, o.kind)[1] ? o.kind.charCodeAt(0) : 0) })));
  return pos;
}

const before = (a: Position, b: Position) => a.stage < b.stage || (a.stage === b.stage && a.rank < b.rank);
const label = (o: PlanObject) => `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;

/**
 * Checks the rules on one engine's sequence:
 * - every custom resource after its CRD is established;
 * - everything a webhook (failurePolicy Fail) admits is created before the webhook
 *   is registered, or after the webhook's server is ready (a gate or an earlier wave);
 * - every pod the sidecar injector mutates starts after istiod is ready and the
 *   injector registered, or is restarted by a gate after that;
 * - every namespaced object's namespace is declared by the release (or is one
 *   of the cluster's own), or is created by an object of an earlier wave (a
 *   Profile creates its namespace).
 */
/** What the dependency rules of one engine's sequence read. */
interface RuleContext {
  engine: Engine;
  stages: Stage[];
  pos: Map<string, Position>;
  all: PlanObject[];
  v: (rule: string, message: string, object?: PlanObject, needs?: PlanObject[]) => void;
  gateBetween: (from: Position, to: Position, what: (g: Gate) => boolean) => boolean;
  waveBefore: (a: PlanObject, b: PlanObject) => boolean;
  /** objects without a namespace land in the release's */
  releaseNamespace: string;
  /** CRDs by `group/Kind` */
  crds: Map<string, PlanObject>;
}

function crdRules(c: RuleContext): void {
  const { engine, pos, all, v, gateBetween, waveBefore, crds } = c;
  // 1. custom resources after their CRD
  for (const o of all) {
    const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
    const crd = crds.get(`${group}/${o.kind}`);
    if (!crd) continue;
    const pc = pos.get(crd.key)!;
    const po = pos.get(o.key)!;
    const ok = engine === 'argocd' ? waveBefore(crd, o) : pc.stage === 0 || (pc.stage < po.stage && gateBetween(pc, po, (g) => g.crds.includes(crd.name)));
    if (!ok) v('crd-before-resource', `${label(o)} is created before its CRD ${crd.name} is established`, o, [crd]);
  }
}

function namespaceRules(c: RuleContext): void {
  const { engine, pos, all, v, waveBefore, releaseNamespace } = c;
  // 4. namespaces: declared by the release (or the cluster's own), or created by an earlier object
  const declared = new Map(all.filter((o) => o.kind === 'Namespace').map((n) => [n.name, n]));
  const creators = new Map(all.filter((o) => !o.namespace && o.apiVersion.includes('/') && !BUILTIN_GROUPS.has(o.apiVersion.split('/')[0]) && o.kind !== 'CustomResourceDefinition').map((o) => [o.name, o]));
  for (const o of all) {
    const ns = o.namespace;
    // the release's own namespace exists before anything of it (helm --create-namespace, Argo CD CreateNamespace)
    if (!ns || ns === releaseNamespace || SYSTEM_NAMESPACES.has(ns) || o.annotations['helm.sh/hook']?.startsWith('test')) continue;
    // a namespace of the user's own platform (bring-your-own Istio) exists before the release
    if (o.annotations[EXTERNAL_NAMESPACE] === 'true') continue;
    const n = declared.get(ns);
    if (n) {
      const pn = pos.get(n.key)!;
      if (pn.stage > pos.get(o.key)!.stage) v('namespace-before-object', `${label(o)} is created before its Namespace ${ns}`, o, [n]);
      continue;
    }
    const creator = creators.get(ns);
    if (!creator) v('namespace-declared', `${label(o)} is in namespace ${ns}, which no object of the release declares or creates`);
    else if (engine !== 'argocd' || !waveBefore(creator, o))
      v('namespace-created-first', `${label(o)} is in namespace ${ns}, which only exists once ${label(creator)} is reconciled; ${engine === 'argocd' ? 'it needs a later wave' : 'Helm creates both at once'}`, o, [creator]);
  }
}

function webhookRules(c: RuleContext): void {
  const { engine, stages, pos, all, v, gateBetween, waveBefore, releaseNamespace, crds } = c;
  // 2. and 3. webhooks
  const nsLabels = new Map(all.filter((o) => o.kind === 'Namespace').map((n) => [n.name, n.labels]));
  const services = new Map(all.filter((o) => o.kind === 'Service').map((s) => [`${s.namespace}/${s.name}`, s]));
  const workloads = all.filter((o) => WORKLOAD_KINDS[o.kind]);
  const serverOf = (svc: { namespace?: string; name?: string } | undefined): PlanObject[] => {
    const s = svc && services.get(`${svc.namespace}/${svc.name}`);
    const sel = s?.doc?.spec?.selector;
    if (!sel) return [];
    return workloads.filter((w) => w.namespace === s!.namespace && selectorMatches({ matchLabels: sel }, podTemplate(w.doc, w.kind)?.metadata?.labels ?? {}));
  };
  const plural = new Map([...crds.values()].map((c) => [`${c.doc?.spec?.group}/${c.doc?.spec?.names?.kind}`, c.doc?.spec?.names?.plural]));
  for (const w of all.filter((o) => o.kind.endsWith('WebhookConfiguration'))) {
    const pw = pos.get(w.key)!;
    // managed: a hook is never deleted by helm uninstall, and Argo CD re-creates hooks on every sync
    if (hookOf(w).length) v('webhook-managed', `${label(w)} is a Helm hook (${hookOf(w).join(',')}): helm uninstall never deletes it`);
    const argo = w.annotations['argocd.argoproj.io/hook'];
    if (argo && argo !== 'Skip') v('webhook-managed', `${label(w)} is an Argo CD ${argo} hook: every sync deletes and re-creates it`);
    // fail-open while Helm installs it against a cluster where its server is not ready, until a gate sets upstream's policy back
    const failOpen = engine !== 'argocd' && w.annotations[INSTALL_POLICY_ANNOTATION] === 'Ignore';
    const restoredAt = stages.findIndex((st) => st.gate?.restores.includes(w.name));
    if (failOpen && restoredAt >= 0) {
      const servers = (w.doc?.webhooks ?? []).flatMap((h: { clientConfig?: { service?: { namespace?: string; name?: string } } }) => serverOf(h.clientConfig?.service));
      for (const s of servers) {
        const waited = stages.some((st, i) => i <= restoredAt && st.gate?.deployments.includes(`${s.namespace}/${s.name}`));
        if (!waited) v('webhook-restored-after-ready', `${label(w)} gets its failurePolicy back before ${label(s)} is ready`);
      }
    }
    for (const hook of w.doc?.webhooks ?? []) {
      const servers = serverOf(hook.clientConfig?.service);
      const injector = w.kind === 'MutatingWebhookConfiguration' && String(hook.name).includes('sidecar-injector');
      for (const x of all) {
        if (x === w || x.kind === 'CustomResourceDefinition' || x.kind === 'Namespace' || x.annotations['helm.sh/hook']?.startsWith('test')) continue;
        const px = pos.get(x.key)!;
        const group = x.apiVersion.includes('/') ? x.apiVersion.split('/')[0] : '';
        const res = plural.get(`${group}/${x.kind}`) ?? `${x.kind.toLowerCase()}s`;
        if (hook.failurePolicy !== 'Ignore' && webhookMatches(hook, { group, plural: res, namespace: x.namespace, labels: x.labels }, (ns) => nsLabels.get(ns) ?? {})) {
          // created before the webhook is registered (not admitted at all), or after its server is ready
          // fail-open until the restoring gate stage (no gate: until the next upgrade)
          const whileOpen = failOpen && (restoredAt < 0 || px.stage < restoredAt);
          const createdFirst = whileOpen || (engine === 'argocd' ? px.stage < pw.stage : before(px, pw));
          const serverReady = servers.length > 0 && servers.every((s) => (engine === 'argocd' ? waveBefore(s, x) : gateBetween(pos.get(s.key)!, px, (g) => g.deployments.includes(`${s.namespace}/${s.name}`))));
          const ok = createdFirst || serverReady;
          if (!ok) v('webhook-before-admitted', `${label(x)} is admitted by ${label(w)} (${hook.name}) but may be created before ${servers.map(label).join(', ') || 'its server'} is ready`, x, [w, ...servers]);
        }
        if (!injector || !WORKLOAD_KINDS[x.kind]) continue;
        const tmpl = podTemplate(x.doc, x.kind);
        if (tmpl?.metadata?.annotations?.['sidecar.istio.io/inject'] === 'false') continue;
        const xns = x.namespace ?? releaseNamespace;
        if (!tmpl || !webhookMatches(hook, { group: '', plural: 'pods', namespace: xns, labels: tmpl.metadata?.labels ?? {} }, (ns) => nsLabels.get(ns) ?? {})) continue;
        const ok =
          engine === 'argocd'
            ? waveBefore(w, x) && servers.every((s) => waveBefore(s, x))
            : servers.every((s) => {
                const ps = pos.get(s.key)!;
                const gatedAfter =
                  stages.some((st, i) => i > px.stage && st.gate?.deployments.includes(`${s.namespace}/${s.name}`)) &&
                  stages.some((st, i) => i >= px.stage && st.gate?.restarts.includes(`${xns}/${x.name}`) && stages.slice(0, i).some((g) => g.gate?.deployments.includes(`${s.namespace}/${s.name}`)));
                return gateBetween(ps, px, (g) => g.deployments.includes(`${s.namespace}/${s.name}`)) || gatedAfter;
              });
        if (!ok) v('sidecar-after-istiod', `${label(x)} runs in a sidecar-injected namespace but may start before ${servers.map(label).join(', ')} serves ${w.name}, and nothing restarts it`, x, [w, ...servers]);
      }
    }
  }
}

export function check(engine: Engine, stages: Stage[]): Violation[] {
  const out: Violation[] = [];
  const order = engine === 'helm3' ? HELM3_ORDER : engine === 'helm4' ? HELM4_ORDER : ARGO_ORDER;
  const pos = positions(stages, order);
  const all = stages.flatMap((s) => s.objects);
  const v = (rule: string, message: string, object?: PlanObject, needs: PlanObject[] = []) => out.push({ engine, rule, message, object: object?.key, needs: needs.map((n) => n.key) });
  const gateBetween = (from: Position, to: Position, what: (g: Gate) => boolean) => stages.some((s, i) => i >= from.stage && i < to.stage && s.gate && what(s.gate));
  const waveBefore = (a: PlanObject, b: PlanObject) => {
    const pa = pos.get(a.key)!;
    const pb = pos.get(b.key)!;
    return pa.stage < pb.stage;
  };

  const crds = new Map(all.filter((o) => o.kind === 'CustomResourceDefinition').map((c) => [`${c.doc?.spec?.group}/${c.doc?.spec?.names?.kind}`, c]));
  // objects without a namespace land in the release's: the namespace of its own lifecycle jobs
  const releaseNamespace = all.find((o) => o.kind === 'Job' && o.labels[LIFECYCLE_LABEL])?.namespace ?? '';

  const c: RuleContext = { engine, stages, pos, all, v, gateBetween, waveBefore, releaseNamespace, crds };
  crdRules(c);
  namespaceRules(c);
  webhookRules(c);
  return dedupe(out);
}

function dedupe(vs: Violation[]): Violation[] {
  const seen = new Set<string>();
  return vs.filter((x) => (seen.has(`${x.engine}${x.message}`) ? false : (seen.add(`${x.engine}${x.message}`), true)));
}

export const ENGINE_TITLES: Record<Engine, string> = {
  helm3: 'Helm 3 (helm install / upgrade --install, 3.17)',
  helm4: 'Helm 4 (helm install / upgrade --install, 4.1, server-side apply; --wait off or on)',
  argocd: 'Argo CD (helm template --include-crds, then sync phases and waves)',
};

/**
 * The release-independent part of the plan: the tier table and what each
 * engine does, step by step. docs/ordering.md carries this text verbatim.
 */
export function planSummary(): string {
  const lines = ['Tier table (Argo CD sync wave = tier number):', '', '| wave | tier | what |', '| --- | --- | --- |'];
  TIERS.forEach((t, i) => lines.push(`| ${i} | ${t.name} | ${t.what} |`));
  lines.push(
    '',
    `Helm 3 and Helm 4:`,
    '',
    "1. crds: every enabled chart's crds/ is created first; Helm waits until each CRD is Established.",
    '2. install: every other object except hooks, at once, in kind order (Helm 4 puts webhook configurations',
    '   before custom resources, Helm 3 sorts them with the custom resources, alphabetically). Admission webhook',
    '   configurations are ordinary release resources. Those that admit objects of the release are rendered with',
    '   failurePolicy Ignore while Helm installs them against a cluster where their server is not available',
    '   (lookup), so nothing created here is rejected by a webhook that cannot answer yet. The secrets Jobs',
    '   (namespaced Roles, an admission policy limiting them to their own Secrets) run here and empty their own',
    '   RoleBindings when done. With --wait Helm waits for every workload.',
    `3. post-install/post-upgrade hook weight ${HOOK_WEIGHTS.gateRbac}: the gate's ServiceAccount, ClusterRole and namespaced Roles`,
    '   (every rule by name where Kubernetes can restrict it), deleted once the gate jobs succeeded.',
    `4. hook weight ${HOOK_WEIGHTS.wait}: Job gate-wait: CRDs Established, every webhook server`,
    "   (cert-manager, istiod, controllers) rolled out, then upstream's failurePolicy (Fail) is set back on those",
    '   webhooks. Helm waits for the Job.',
    `5. hook weight ${HOOK_WEIGHTS.restart}: Job gate-sidecars: restarts workloads whose pods started without the Istio sidecar.`,
    "6. pre-upgrade (upgrades only): Job crd-check fails the upgrade while installed CRDs are not this version's.",
    "7. uninstall: pre-delete re-creates and deletes the gate's RBAC hooks (removing what a failed gate left); Helm",
    '   deletes every release resource, webhook configurations first (Helm 4) or with the rest (Helm 3), with or',
    '   without hooks; hook Jobs and their RBAC were removed when they succeeded or failed.',
    '',
    'Argo CD:',
    '',
    '1. PreSync: nothing (the gate jobs and their RBAC carry argocd.argoproj.io/hook: Skip).',
    '2. Sync, wave by wave in tier order; Argo CD waits until a wave is healthy before the next. The secrets Jobs',
    '   and their RBAC are Sync hooks of their wave, deleted once the Job succeeded (it keeps no right). Admission webhook',
    "   configurations are ordinary resources in their server's wave (upstream's failurePolicy: no cluster",
    '   lookup at render); CRDs use ServerSideApply=true,Prune=false,Delete=false, and what helm uninstall keeps (PVCs, data Namespaces, Profiles) Prune=false,Delete=false. A sync re-runs only the secrets Jobs (idempotent).',
    '3. PostSync, PreDelete: nothing. Deleting the Application deletes the webhook configurations with the rest.',
  );
  return lines.join('\n');
}

export function formatSequence(engine: Engine, stages: Stage[], verbose: boolean): string {
  const lines = [`== ${ENGINE_TITLES[engine]} ==`, 'step  phase         wave/weight  objects  kinds (in order)                                     then waits for'];
  stages.forEach((s, i) => {
    const kinds: string[] = [];
    for (const o of s.objects) if (kinds[kinds.length - 1] !== o.kind) kinds.push(o.kind);
    const k = kinds.join(', ');
    lines.push(
      `${String(i + 1).padStart(4)}  ${s.phase.padEnd(12)}  ${(s.order === undefined ? '-' : String(s.order)).padStart(11)}  ${String(s.objects.length).padStart(7)}  ${(k.length > 52 ? `${k.slice(0, 49)}...` : k).padEnd(52)} ${s.waits}`,
    );
    if (verbose) for (const o of s.objects) lines.push(`                                             ${label(o)}`);
  });
  return lines.join('\n');
}
