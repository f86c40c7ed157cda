import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { parseYaml, splitObjects } from '../packages/generator/src/core/model.js';
import { mutatedFields } from '../packages/generator/src/order/argocd.js';
import { planObjects, sequence, type PlanObject } from '../packages/generator/src/order/sequence.js';
import type { TestCluster } from './cluster.js';
import { clusterScoped, keyOf, type Obj, parseManifest } from './cluster-checks.js';
import { waitEstablished } from './kube.js';

/**
 * An Argo CD sync, run step by step against the control plane: Argo CD itself cannot be built
 * here (its gitops-engine module does not build from the Go module proxy), so its documented
 * procedure is carried out with the real API server: the Application's render (`helm template
 * --include-crds`, as the repo server runs it) is applied with server-side apply, phase by
 * phase (PreSync, Sync, PostSync; Helm hooks mapped the way Argo CD maps them) and wave by wave,
 * waiting for every wave to be healthy before the next; hooks are created fresh and deleted by
 * their policy; every object carries the tracking annotation, which pruning and deleting the
 * Application go by. The order itself comes from order/sequence.ts, the same code `kfc plan`
 * checks; here the cluster shows whether it works.
 */
export const FIELD_MANAGER = 'argocd-controller';
const TRACKING = 'argocd.argoproj.io/tracking-id';

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');
const syncOptions = (o: { annotations: Record<string, string> }) => (o.annotations['argocd.argoproj.io/sync-options'] ?? '').split(',').map((s) => s.trim());
const argoHook = (o: PlanObject) => o.annotations['argocd.argoproj.io/hook'] ?? (o.annotations['helm.sh/hook'] ? 'helm' : '');
/** Argo CD's hook delete policies, Helm's mapped onto them; BeforeHookCreation by default. */
function hookDeletePolicies(o: PlanObject): string[] {
  const argo = o.annotations['argocd.argoproj.io/hook-delete-policy'];
  if (argo) return argo.split(',').map((s) => s.trim());
  const helm = (o.annotations['helm.sh/hook-delete-policy'] ?? '').split(',').map((s) => s.trim());
  const map: Record<string, string> = { 'before-hook-creation': 'BeforeHookCreation', 'hook-succeeded': 'HookSucceeded', 'hook-failed': 'HookFailed' };
  const out = helm.map((p) => map[p]).filter(Boolean);
  return out.length ? out : ['BeforeHookCreation'];
}

export interface SyncOptions {
  app: string;
  namespace: string;
}

/** The render's objects for the sync, each with its whole document (planObjects reads CRDs' heads only). */
function syncObjects(rendered: string): PlanObject[] {
  const raw = new Map(splitObjects(rendered, 'render').map((o) => [o.key, o.raw]));
  return planObjects(rendered).map((o) => (o.kind === 'CustomResourceDefinition' ? { ...o, doc: parseYaml(raw.get(o.key)!) } : o));
}

/** `group/Kind` of cluster-scoped resources, as the API server serves them (set by `sync`/`outOfSync`). */
let scoped = new Set<string>();

/** The object as Argo CD applies it: a namespaced one without namespace goes to the destination, every one tracked. */
function withTracking(o: PlanObject, s: SyncOptions): Obj {
  const doc = structuredClone(o.doc) as Obj;
  if (!doc.metadata.namespace && !scoped.has(`${groupOf(doc.apiVersion)}/${doc.kind}`)) doc.metadata.namespace = s.namespace;
  if (scoped.has(`${groupOf(doc.apiVersion)}/${doc.kind}`)) delete doc.metadata.namespace;
  const ns = doc.metadata.namespace ?? '';
  doc.metadata.annotations = { ...(doc.metadata.annotations ?? {}), [TRACKING]: `${s.app}:${groupOf(doc.apiVersion)}/${doc.kind}:${ns}/${doc.metadata.name}` };
  return doc;
}

/** Waits until every object of a wave is healthy the way Argo CD's health checks read it. */
async function waitHealthy(c: TestCluster, objs: Obj[], ns: string): Promise<void> {
  for (const o of objs) {
    const n = ['-n', o.metadata.namespace ?? ns];
    const ref = `${o.kind.toLowerCase()}.${groupOf(o.apiVersion) || 'core'}/${o.metadata.name}`.replace('.core/', '/');
    switch (o.kind) {
      case 'Deployment':
      case 'StatefulSet':
      case 'DaemonSet':
        await c.kubectl(['rollout', 'status', ...n, ref, '--timeout=10m']);
        break;
      case 'Job': {
        const r = await c.kubectl(['wait', ...n, ref, '--for=condition=Complete', '--timeout=10m'], { reject: false });
        if (r.exitCode !== 0) {
          const st = await c.kubectl(['get', ...n, ref, '-o', 'jsonpath={.status.conditions}'], { reject: false });
          throw new Error(`Job ${o.metadata.name} did not complete: ${st.stdout}`);
        }
        break;
      }
      case 'PersistentVolumeClaim':
        await c.kubectl(['wait', ...n, ref, '--for=jsonpath={.status.phase}=Bound', '--timeout=5m']);
        break;
      case 'CustomResourceDefinition':
        await waitEstablished((a) => c.kubectl(a, { reject: false }), [o.metadata.name], 300);
        break;
      default:
    }
  }
}

async function apply(c: TestCluster, docs: Obj[], s: SyncOptions, tag: string): Promise<void> {
  if (!docs.length) return;
  const file = path.join(c.tmp, `argocd-${tag}.yaml`);
  writeFileSync(file, docs.map((d) => stringify(d)).join('---\n'));
  await c.kubectl(['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--force-conflicts', '-f', file]);
}

/** One sync of a rendered Application; returns the objects it manages (hooks excluded). */
export async function sync(c: TestCluster, rendered: string, s: SyncOptions): Promise<Obj[]> {
  const objs = syncObjects(rendered);
  scoped = await clusterScoped(c);
  await c.kubectl(['create', 'namespace', s.namespace], { reject: false }); // CreateNamespace=true
  const managed: Obj[] = [];
  // Argo CD deletes hooks with HookSucceeded once the whole operation succeeded, not after their wave
  // (gitops-engine sync_context: deleteHooks(hooksPendingDeletionSuccessful) when no task remains)
  const succeeded: PlanObject[] = [];
  for (const stage of sequence('argocd', objs)) {
    // custom resources' scope is known once their CRDs (an earlier wave) are established
    scoped = await clusterScoped(c);
    const hooks = stage.objects.filter((o) => argoHook(o));
    const resources = stage.objects.filter((o) => !argoHook(o));
    for (const h of hooks) {
      if (hookDeletePolicies(h).includes('BeforeHookCreation')) {
        await c.kubectl(['delete', '-f', '-', '--ignore-not-found', '--wait=true'], { input: stringify(withTracking(h, s)) });
      }
    }
    const docs = [...resources, ...hooks].map((o) => withTracking(o, s));
    await apply(c, docs, s, `${stage.phase}-${stage.order}`);
    managed.push(...resources.map((o) => withTracking(o, s)));
    await waitHealthy(c, docs, s.namespace);
    succeeded.push(...hooks.filter((h) => hookDeletePolicies(h).includes('HookSucceeded')));
  }
  for (const h of succeeded) await c.kubectl(['delete', '-f', '-', '--ignore-not-found'], { input: stringify(withTracking(h, s)) });
  return managed;
}

/** Removes array indices' generality: does a JSON pointer of an ignored field cover `p`? */
const covers = (ignored: string, p: string) => p === ignored || p.startsWith(`${ignored}/`);

/** The paths where `want` (a server-side dry-run of the desired object) differs from `live`. */
function differences(want: unknown, live: unknown, at = ''): string[] {
  if (JSON.stringify(want) === JSON.stringify(live)) return [];
  if (want && live && typeof want === 'object' && typeof live === 'object' && Array.isArray(want) === Array.isArray(live)) {
    const keys = new Set([...Object.keys(want as object), ...Object.keys(live as object)]);
    return [...keys].flatMap((k) => differences((want as any)[k], (live as any)[k], `${at}/${k}`));
  }
  return [at || '/'];
}

const VOLATILE = ['/metadata/managedFields', '/metadata/resourceVersion', '/metadata/generation', '/status'];

/**
 * What a second sync would change, after the documented ignoreDifferences (order/argocd.ts):
 * each desired object is server-side applied as a dry run and compared with the live one.
 */
export async function outOfSync(c: TestCluster, rendered: string, s: SyncOptions): Promise<string[]> {
  const objs = syncObjects(rendered).filter((o) => !argoHook(o));
  scoped = await clusterScoped(c);
  const ignored = mutatedFields(objs);
  const file = path.join(c.tmp, 'argocd-diff.yaml');
  writeFileSync(file, objs.map((o) => stringify(withTracking(o, s))).join('---\n'));
  const want = parseManifest(String((await c.kubectl(['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--force-conflicts', '--dry-run=server', '-f', file, '-o', 'yaml'])).stdout).replace(/^kind: List[\s\S]*?items:\n/m, ''));
  // the live objects in the versions the render names (kubectl get -f reads each object's apiVersion)
  const live = new Map(expandLists(parseManifest(String((await c.kubectl(['get', '-f', file, '-o', 'yaml'])).stdout))).map((o) => [keyOf(o), o]));
  const out: string[] = [];
  for (const w of expandLists(want)) {
    const ns = w.metadata.namespace;
    const o = objs.find((x) => x.kind === w.kind && x.name === w.metadata.name && groupOf(x.apiVersion) === groupOf(w.apiVersion) && (!x.namespace || x.namespace === ns));
    if (!o) continue;
    const l = live.get(keyOf(w));
    if (!l) {
      out.push(`${keyOf(w)} missing`);
      continue;
    }
    const skip = [...VOLATILE, ...ignored.filter((f) => f.kind === o.kind && f.name === o.name && (f.namespace ?? '') === (o.namespace ?? '')).map((f) => f.pointer)];
    for (const p of differences(w, l)) if (!skip.some((i) => covers(i, p))) out.push(`${keyOf(w)} ${p}`);
  }
  return out;
}

function expandLists(objs: Obj[]): Obj[] {
  return objs.flatMap((o) => (o.kind === 'List' ? (o.items as Obj[]) : [o]));
}

/** Deleting the Application (cascade): every tracked object goes but those with Delete=false. */
export async function deleteApp(c: TestCluster, managed: Obj[]): Promise<void> {
  const doomed = managed.filter((o) => !syncOptions({ annotations: o.metadata.annotations ?? {} }).includes('Delete=false'));
  const file = path.join(c.tmp, 'argocd-delete.yaml');
  writeFileSync(file, doomed.map((d) => stringify(d)).join('---\n'));
  await c.kubectl(['delete', '-f', file, '--ignore-not-found', '--wait=true', '--timeout=10m']);
}
