import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../packages/generator/src/core/paths.js';
import type { TestCluster } from './cluster.js';

/** What the checks of a real install compare: objects by `group/Kind/namespace/name`. */
export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: unknown[] };
  [k: string]: any;
}

export const keyOf = (o: Obj): string => `${o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : ''}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** `group/Kind` of every cluster-scoped resource the API server serves (CRDs included). */
export async function clusterScoped(c: TestCluster): Promise<Set<string>> {
  const r = await c.kubectl(['api-resources', '--namespaced=false', '-o', 'json']);
  const list = JSON.parse(String(r.stdout)) as { resources: Array<{ group?: string; kind: string }> };
  return new Set(list.resources.map((x) => `${x.group ?? ''}/${x.kind}`));
}

/** The key an object of a manifest has in the cluster: a cluster-scoped one has no namespace, whatever its manifest says. */
export function liveKey(o: Obj, scoped: Set<string>, defaultNs: string): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  const ns = scoped.has(`${group}/${o.kind}`) ? '' : (o.metadata.namespace ?? defaultNs);
  return `${group}/${o.kind}/${ns}/${o.metadata.name}`;
}

export function parseManifest(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Obj)
    .filter((o) => o && typeof o === 'object' && o.kind);
}

/** The objects of a release as Helm stored them (hooks excluded: they are not release objects). */
export async function releaseObjects(c: TestCluster, release: string, ns: string, major: 3 | 4 = 4): Promise<Obj[]> {
  const r = await c.helm(major, ['get', 'manifest', release, '-n', ns]);
  return parseManifest(String(r.stdout));
}

/** Every listable object of the cluster, by key. */
export async function clusterObjects(c: TestCluster): Promise<Map<string, Obj>> {
  const kinds = String((await c.kubectl(['api-resources', '--verbs=list', '-o', 'name'])).stdout)
    .split('\n')
    .filter(Boolean)
    // derived objects and records of what happened, not what was installed
    .filter(
      (k) =>
        !/^(events|events\.events\.k8s\.io|endpoints|endpointslices\.discovery\.k8s\.io|leases\.coordination\.k8s\.io|pods|replicasets\.apps|controllerrevisions\.apps|componentstatuses|nodes|persistentvolumes|csinodes\.storage\.k8s\.io|flowschemas\.flowcontrol\.apiserver\.k8s\.io|prioritylevelconfigurations\.flowcontrol\.apiserver\.k8s\.io)$/.test(
          k,
        ),
    );
  const r = await c.kubectl(['get', kinds.join(','), '-A', '-o', 'json'], { reject: false });
  const items: Obj[] = JSON.parse(String(r.stdout) || '{"items":[]}').items ?? [];
  return new Map(items.map((o) => [keyOf(o), o]));
}

/** Objects a namespace gets from Kubernetes itself (its default ServiceAccount and root CA). */
export const automatic = (o: Obj): boolean =>
  (o.kind === 'ServiceAccount' && o.metadata.name === 'default') ||
  (o.kind === 'ConfigMap' && o.metadata.name === 'kube-root-ca.crt') ||
  // the API server registers an APIService for every version a CRD serves
  (o.kind === 'APIService' && o.metadata.labels?.['kube-aggregator.kubernetes.io/automanaged'] === 'true');

/** Objects of `after` that were not in `before` (automatic ones left out). */
export function added(before: Map<string, Obj>, after: Map<string, Obj>): Obj[] {
  return [...after].filter(([k, o]) => !before.has(k) && !automatic(o)).map(([, o]) => o);
}

/** The Secrets each secrets Job of a manifest creates: `namespace/name` -> keys. */
export function generatedSecrets(objs: Obj[], releaseNs: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const o of objs) {
    if (o.kind !== 'Job' || o.metadata.labels?.['kubeflow-charts.io/lifecycle'] !== 'secrets') continue;
    const env = o.spec.template.spec.containers[0].env as Array<{ name: string; value?: string }>;
    const lines = env.find((e) => e.name === 'KFC_SECRETS')?.value ?? '';
    for (const line of lines.split('\n').filter((l) => l.trim())) {
      const s = JSON.parse(line) as { namespace: string; name: string; keys: Record<string, unknown> };
      out.set(`${s.namespace || releaseNs}/${s.name}`, Object.keys(s.keys));
    }
  }
  return out;
}

/** Credentials the upstream example ships (as they sit in Secrets and ConfigMaps, decoded). */
export const WELL_KNOWN = [
  '$2y$12$4K/VkmDd1q1Orb3xAt82zu8gk7Ad6ReFR4LCP9UeYE90NLiN9Df72', // Dex static user's hash (12341234)
  'pUBnBOY80SnXgjibTYM9ZWNzY2xreNGQok', // OIDC client secret of Dex and oauth2-proxy
  '7d16fee92f8d11b8940b081b3f8b8acb', // oauth2-proxy cookie secret
  'minio123', // Pipelines object store secret key
  '12341234', // Dex static user's password
];

/** Every well-known credential found in the cluster's Secrets and ConfigMaps: `key: credential`. */
export async function wellKnownInCluster(c: TestCluster): Promise<string[]> {
  const r = await c.kubectl(['get', 'secrets,configmaps', '-A', '-o', 'json']);
  const found: string[] = [];
  for (const o of JSON.parse(String(r.stdout)).items as Obj[]) {
    const values = Object.values<string>(o.data ?? {}).map((v) => (o.kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v));
    for (const w of WELL_KNOWN) if (values.some((v) => v.includes(w))) found.push(`${keyOf(o)}: ${w}`);
  }
  return found;
}

/**
 * The README's table of what `helm uninstall` keeps: kind -> description. The uninstall test
 * compares it with what really stays, both ways.
 */
export function readmeKeptKinds(): Map<string, string> {
  const readme = readFileSync(path.join(repoRoot(), 'README.md'), 'utf8');
  const section = /^### What `helm uninstall` keeps\n([\s\S]*?)(?=\n#{2,3} )/m.exec(readme)?.[1];
  if (!section) throw new Error('README.md has no section "### What `helm uninstall` keeps"');
  const rows = [...section.matchAll(/^\| `([A-Za-z]+)` \| (.+?) \|$/gm)];
  return new Map(rows.map((m) => [m[1], m[2]]));
}
