import type { PlanObject } from './sequence.js';

/**
 * Objects an upgrade orphans: kept on uninstall (`helm.sh/resource-policy: keep`,
 * crds/) and gone from the new render. Helm leaves them in the cluster without a
 * word (a kept object is never deleted, even when the new chart drops it), so
 * the upstream diff names each with the command that removes it. This works on
 * two renders (values included, e.g. components a user enabled); `kfc diff`
 * (diff/diff.ts) reports the same from the two releases' analyses.
 */
export interface Orphan {
  kind: string;
  apiVersion: string;
  namespace?: string;
  name: string;
  /** kubectl command that removes it */
  command: string;
  /** what removing it loses */
  note: string;
}

const kept = (o: PlanObject) => o.fromCrdsDir || o.annotations['helm.sh/resource-policy'] === 'keep';

/** A resource type as kubectl names it unambiguously: `kind.group` (core kinds bare). */
function resourceType(o: Pick<PlanObject, 'kind' | 'apiVersion'>): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  return `${o.kind.toLowerCase()}${group ? `.${group}` : ''}`;
}

const NOTES: Record<string, string> = {
  CustomResourceDefinition: 'deleting a CRD deletes every custom resource of it, in all namespaces',
  PersistentVolumeClaim: 'deleting the claim may delete its volume and the data on it (reclaim policy)',
  Namespace: 'deleting a namespace deletes everything in it',
};

/** Kept objects of `before` that `after` no longer renders (by apiVersion-independent identity: group, kind, namespace, name). */
export function orphanedKeptObjects(before: PlanObject[], after: PlanObject[]): Orphan[] {
  const id = (o: PlanObject) => `${resourceType(o)}/${o.namespace ?? ''}/${o.name}`;
  const now = new Set(after.map(id));
  const seen = new Set<string>();
  const out: Orphan[] = [];
  for (const o of before) {
    if (!kept(o) || now.has(id(o)) || seen.has(id(o))) continue;
    seen.add(id(o));
    out.push({
      kind: o.kind,
      apiVersion: o.apiVersion,
      ...(o.namespace ? { namespace: o.namespace } : {}),
      name: o.name,
      command: removeCommand(o.key),
      note: NOTES[o.kind] ?? 'kept on uninstall because it holds user data',
    });
  }
  return out.sort((a, b) => a.command.localeCompare(b.command));
}

/** The orphans as text for the upstream diff. */
export function formatOrphans(orphans: Orphan[]): string {
  if (!orphans.length) return 'No kept object (CRD, PVC, Namespace, Profile) is orphaned by this upgrade.';
  return [
    `${orphans.length} kept object(s) are no longer part of the chart; Helm leaves them in the cluster. Remove them once their data is no longer needed:`,
    ...orphans.map((o) => `  ${o.command}   # ${o.note}`),
  ].join('\n');
}

/** An object key (`apiVersion/kind/namespace/name`) split into its parts. */
export function keyParts(key: string): { group: string; kind: string; namespace: string; name: string } {
  const p = key.split('/');
  const [group, kind, namespace, name] = p.length === 5 ? [p[0], p[2], p[3], p[4]] : ['', p[1], p[2], p[3]];
  return { group, kind, namespace, name };
}

/** The kubectl command that removes an object Helm left behind. */
export function removeCommand(key: string): string {
  const { group, kind, namespace, name } = keyParts(key);
  return `kubectl delete ${kind.toLowerCase()}${group ? `.${group}` : ''} ${name}${namespace ? ` -n ${namespace}` : ''}`;
}
