import { LIFECYCLE_LABEL } from '../core/chart-model.js';
import type { PlanObject } from './sequence.js';

/**
 * What a release leaves in the cluster, simulated from its rendered manifest
 * the way Helm 3/4 run it (pkg/action: hooks run per event sorted by weight;
 * `before-hook-creation` deletes the previous one, `hook-failed` deletes the
 * failed hook, `hook-succeeded` deletes every hook of the event once all
 * succeeded; hooks are never part of the release, so uninstall does not
 * delete them; `helm.sh/resource-policy: keep` and crds/ stay by design).
 */
export interface LifecycleOptions {
  /** hooks run at install (false: `helm install --no-hooks`) */
  installHooks: boolean;
  /** `helm test` ran (its hooks succeeded) */
  test: boolean;
  /** hooks run at uninstall (false: `helm uninstall --no-hooks`) */
  uninstallHooks: boolean;
  /** name suffix of a hook Job that fails at install (the release is then failed, and uninstalled) */
  failingJob?: string;
}

export interface LifecycleResult {
  /** objects Helm leaves on purpose: crds/ and `helm.sh/resource-policy: keep` */
  kept: PlanObject[];
  /** every other object still in the cluster after uninstall */
  leftOver: PlanObject[];
}

export const hookEvents = (o: PlanObject) =>
  (o.annotations['helm.sh/hook'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const policies = (o: PlanObject) => (o.annotations['helm.sh/hook-delete-policy'] ?? 'before-hook-creation').split(',').map((s) => s.trim());
const weight = (o: PlanObject) => Number(o.annotations['helm.sh/hook-weight'] ?? 0);
const isKept = (o: PlanObject) => o.fromCrdsDir || o.annotations['helm.sh/resource-policy'] === 'keep';

export function simulateLifecycle(objs: PlanObject[], o: LifecycleOptions): LifecycleResult {
  const live = new Map<string, PlanObject>();
  /** runs the hooks of one event; false when one failed */
  const runHooks = (event: string): boolean => {
    const hooks = objs.filter((x) => hookEvents(x).includes(event)).sort((a, b) => weight(a) - weight(b) || a.key.localeCompare(b.key));
    for (const h of hooks) {
      if (policies(h).includes('before-hook-creation')) live.delete(h.key);
      live.set(h.key, h);
      const failed = event === 'post-install' && !!o.failingJob && h.kind === 'Job' && h.name.endsWith(o.failingJob);
      if (failed) {
        if (policies(h).includes('hook-failed')) live.delete(h.key);
        return false;
      }
    }
    for (const h of hooks) if (policies(h).includes('hook-succeeded')) live.delete(h.key);
    return true;
  };
  // install: crds/, then pre-install hooks, the release, post-install hooks
  for (const x of objs) if (x.fromCrdsDir) live.set(x.key, x);
  const release = objs.filter((x) => !x.fromCrdsDir && !hookEvents(x).length);
  let ok = true;
  if (o.installHooks) ok = runHooks('pre-install');
  if (ok) for (const x of release) live.set(x.key, x);
  if (ok && o.installHooks) ok = runHooks('post-install');
  if (ok && o.test) runHooks('test');
  // uninstall: pre-delete hooks, release resources (except keep), post-delete hooks
  if (o.uninstallHooks) runHooks('pre-delete');
  for (const x of release) if (!isKept(x)) live.delete(x.key);
  if (o.uninstallHooks) runHooks('post-delete');
  const left = [...live.values()];
  return { kept: left.filter(isKept), leftOver: left.filter((x) => !isKept(x)) };
}

/** The uninstall modes `kfc plan` reports and the tests check. */
export const UNINSTALL_MODES: Array<{ name: string; options: LifecycleOptions }> = [
  { name: 'install, helm test, uninstall', options: { installHooks: true, test: true, uninstallHooks: true } },
  { name: 'install --no-hooks, uninstall --no-hooks', options: { installHooks: false, test: false, uninstallHooks: false } },
  { name: 'install, uninstall --no-hooks', options: { installHooks: true, test: false, uninstallHooks: false } },
  { name: 'install with a failing gate-wait job, uninstall', options: { installHooks: true, test: false, uninstallHooks: true, failingJob: 'gate-wait' } },
];

/** Kinds that must never outlive the release: they would act on a cluster without Kubeflow. */
export const MUST_NOT_REMAIN = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'Job', 'Pod', 'ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'];

/**
 * Objects Argo CD runs as hooks on every sync (it maps Helm hooks to its own
 * phases and re-creates a hook each sync under the default BeforeHookCreation).
 */
export function argoEverySyncHooks(objs: PlanObject[]): PlanObject[] {
  return objs.filter((x) => {
    const argo = x.annotations['argocd.argoproj.io/hook'];
    if (argo) return argo.split(',').some((p) => ['PreSync', 'Sync', 'PostSync', 'SyncFail'].includes(p.trim()));
    return hookEvents(x).some((e) => ['pre-install', 'pre-upgrade', 'post-install', 'post-upgrade'].includes(e));
  });
}

/** The uninstall part of `kfc plan`: what each mode leaves behind. */
export function formatLifecycle(objs: PlanObject[]): { text: string; problems: string[] } {
  const lines = ['== Uninstall (simulated from the release manifest, hooks and their delete policies) =='];
  const problems: string[] = [];
  const label = (x: PlanObject) => `${x.kind} ${x.namespace ? `${x.namespace}/` : ''}${x.name}`;
  for (const m of UNINSTALL_MODES) {
    const r = simulateLifecycle(objs, m.options);
    const bad = r.leftOver.filter((x) => MUST_NOT_REMAIN.includes(x.kind));
    const kinds = [...new Set(r.kept.map((x) => x.kind))].sort().join(', ');
    lines.push(`- ${m.name}: kept on purpose ${r.kept.length} (${kinds || 'nothing'}); left over: ${r.leftOver.length ? r.leftOver.map(label).join(', ') : 'nothing'}`);
    for (const x of bad) problems.push(`${m.name}: ${label(x)} remains after helm uninstall`);
  }
  const argo = argoEverySyncHooks(objs);
  lines.push(`- Argo CD: hooks run on every sync: ${argo.length ? argo.map(label).join(', ') : 'none'}`);
  // the secrets Jobs' RBAC exists only while their Job runs (Sync hooks deleted when it succeeded): the Job's rights go with it
  for (const x of argo) if (x.kind !== 'Job' && x.labels[LIFECYCLE_LABEL] !== 'secrets') problems.push(`Argo CD: ${label(x)} is re-created on every sync`);
  return { text: lines.join('\n'), problems };
}
