import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { goModuleDir } from '../packages/generator/src/core/go-tools.js';
import type { TestCluster } from './cluster.js';
import { clusterScoped, generatedSecrets, type Obj, parseManifest } from './cluster-checks.js';
import { RELEASE, RELEASE_NS } from './cluster-lifecycle.js';
import { waitEstablished } from './kube.js';

const CHARTS = (umbrella: string) => path.dirname(umbrella);
const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');

/** helm template of a chart with a values file, as Helm would install it. */
export async function render(c: TestCluster, chart: string, values: string[], ns = RELEASE_NS, major: 3 | 4 = 4): Promise<Obj[]> {
  const r = await c.helm(major, ['template', RELEASE, chart, '-n', ns, '--include-crds', ...values.flatMap((v) => ['-f', v])]);
  return parseManifest(String(r.stdout));
}

async function applyFile(c: TestCluster, objs: Obj[], name: string, extra: string[] = []): Promise<void> {
  if (!objs.length) return;
  const file = path.join(c.tmp, name);
  writeFileSync(file, objs.map((o) => stringify(o)).join('---\n'));
  await c.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=helm', '-f', file, ...extra]);
}

const shippedCrds = new Map<string, Promise<Map<string, Obj>>>();

/** Every CRD the release's charts ship (crds/ and templates), by `group/Kind` (read once per umbrella: charts do not change during a run). */
export function releaseCrds(c: TestCluster, umbrella: string): Promise<Map<string, Obj>> {
  if (!shippedCrds.has(umbrella)) shippedCrds.set(umbrella, readReleaseCrds(c, umbrella));
  return shippedCrds.get(umbrella)!;
}

async function readReleaseCrds(c: TestCluster, umbrella: string): Promise<Map<string, Obj>> {
  const out = new Map<string, Obj>();
  const dir = CHARTS(umbrella);
  for (const chart of readdirSync(dir)) {
    const r = await c.helm(4, ['show', 'crds', path.join(dir, chart)], { reject: false });
    for (const crd of parseManifest(String(r.stdout))) out.set(`${crd.spec.group}/${crd.spec.names.kind}`, crd);
  }
  return out;
}

/** The Gateway API CRDs (pinned Go module sigs.k8s.io/gateway-api), as a cluster offering Gateway API has them. */
export function gatewayApiCrds(): Obj[] {
  const dir = goModuleDir('gateway-api-crds');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((f) => parseManifest(readFileSync(path.join(dir, f), 'utf8')))
    .filter((o) => o.kind === 'CustomResourceDefinition');
}

/**
 * What the platform provides before a scenario installs, derived from its render: CRDs of the
 * custom resources it uses but does not ship (your own cert-manager or Istio: the CRDs the
 * release's own charts would ship stand in; Gateway API: the upstream CRDs), and the Secrets
 * its workloads read that neither the render nor a secrets Job provides (`existingSecret`
 * values: created with placeholder data, as a platform team would before installing).
 */
export async function prepareFor(c: TestCluster, objs: Obj[], umbrella: string): Promise<void> {
  const shipped = new Set(objs.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => `${o.spec.group}/${o.spec.names.kind}`));
  const builtin = new Set(JSON.parse(String((await c.kubectl(['api-resources', '-o', 'json'])).stdout)).resources.map((r: { group?: string; kind: string }) => `${r.group ?? ''}/${r.kind}`));
  const needed = [...new Set(objs.map((o) => `${groupOf(o.apiVersion)}/${o.kind}`))].filter((k) => !shipped.has(k) && !builtin.has(k));
  if (needed.length) {
    const known = new Map([...(await releaseCrds(c, umbrella))].concat(gatewayApiCrds().map((crd) => [`${crd.spec.group}/${crd.spec.names.kind}`, crd])));
    const missing = needed.filter((k) => !known.has(k));
    if (missing.length) throw new Error(`no CRD for ${missing.join(', ')} in the release or the pinned Gateway API`);
    await applyFile(
      c,
      needed.map((k) => known.get(k)!),
      'platform-crds.yaml',
    );
    await waitEstablished(
      (a) => c.kubectl(a, { reject: false }),
      needed.map((k) => known.get(k)!.metadata.name),
    );
  }
  // namespaces the render puts objects in and does not create: the platform's (your Istio's, your gateway's)
  const created = new Set(objs.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name));
  for (const ns of new Set(objs.map((o) => o.metadata.namespace).filter((n): n is string => !!n && n !== RELEASE_NS && !created.has(n)))) {
    await c.kubectl(['create', 'namespace', ns], { reject: false });
  }
  const rendered = new Set(objs.filter((o) => o.kind === 'Secret').map((o) => `${o.metadata.namespace ?? RELEASE_NS}/${o.metadata.name}`));
  const generated = generatedSecrets(objs, RELEASE_NS);
  const wanted = new Map<string, Set<string>>();
  for (const o of objs) {
    const spec = o.kind === 'Pod' ? o.spec : (o.spec?.template?.spec ?? o.spec?.jobTemplate?.spec?.template?.spec);
    if (!spec?.containers) continue;
    const ns = o.metadata.namespace ?? RELEASE_NS;
    for (const ct of [...(spec.initContainers ?? []), ...spec.containers]) {
      for (const e of ct.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref && !ref.optional) (wanted.get(`${ns}/${ref.name}`) ?? wanted.set(`${ns}/${ref.name}`, new Set()).get(`${ns}/${ref.name}`)!).add(ref.key);
      }
    }
  }
  // Secrets the secrets Jobs copy from (a pull secret copied into each profile namespace): the user's
  for (const o of objs) {
    if (o.kind !== 'Job' || o.metadata.labels?.['kubeflow-charts.io/lifecycle'] !== 'secrets') continue;
    const env = o.spec.template.spec.containers[0].env as Array<{ name: string; value?: string }>;
    for (const line of (env.find((e) => e.name === 'KFC_SECRETS')?.value ?? '').split('\n').filter((l) => l.trim())) {
      const spec = JSON.parse(line) as { keys: Record<string, { copy?: string }> };
      for (const r of Object.values(spec.keys)) {
        if (!r.copy) continue;
        const [ns, name, key] = r.copy.split('/');
        (wanted.get(`${ns}/${name}`) ?? wanted.set(`${ns}/${name}`, new Set()).get(`${ns}/${name}`)!).add(key);
      }
    }
  }
  const user = [...wanted].filter(([k]) => !rendered.has(k) && !generated.has(k));
  for (const [k] of user) {
    const ns = k.split('/')[0];
    await ownedNamespace(c, ns, objs);
  }
  for (const [k, keys] of user) {
    const [ns, name] = k.split('/');
    // made for an earlier values set on this control plane: the user's Secret is there already
    if ((await c.kubectl(['-n', ns, 'get', 'secret', name], { reject: false })).exitCode === 0) continue;
    await c.kubectl(['-n', ns, 'create', 'secret', 'generic', name, ...[...keys].map((key) => `--from-literal=${key}=placeholder-${key}`)]);
  }
}

/** A namespace created before the release, the way Helm adopts it when the release renders it too. */
export async function ownedNamespace(c: TestCluster, ns: string, objs: Obj[]): Promise<void> {
  const exists = (await c.kubectl(['get', 'namespace', ns], { reject: false })).exitCode === 0;
  if (exists) return;
  await c.kubectl(['create', 'namespace', ns]);
  if (objs.some((o) => o.kind === 'Namespace' && o.metadata.name === ns)) {
    await c.kubectl(['label', 'namespace', ns, 'app.kubernetes.io/managed-by=Helm']);
    await c.kubectl(['annotate', 'namespace', ns, `meta.helm.sh/release-name=${RELEASE}`, `meta.helm.sh/release-namespace=${RELEASE_NS}`]);
  }
}

const admitted = new WeakMap<TestCluster, Set<string>>();

/**
 * `kubectl apply --dry-run=server` of a render: the API server validates and admits every object
 * (schemas, defaults, built-in admission) without keeping it. Namespaces, CRDs and what the
 * platform provides are created for real first: a dry run cannot see what another dry run made.
 */
export async function dryRunServer(c: TestCluster, objs: Obj[], umbrella: string, tag: string): Promise<void> {
  // what this cluster already took (CRDs applied, objects the dry run admitted), by content: an object
  // identical to one admitted before is admitted again (its namespaces and CRDs stay), so the many ci
  // files of a chart cost what differs between them
  const seen = admitted.get(c) ?? new Set<string>();
  admitted.set(c, seen);
  const fresh = (list: Obj[]) => list.filter((o) => !seen.has(JSON.stringify(o)));
  await prepareFor(c, objs, umbrella);
  const crds = fresh(objs.filter((o) => o.kind === 'CustomResourceDefinition'));
  await applyFile(c, crds, `crds-${tag}.yaml`);
  await waitEstablished(
    (a) => c.kubectl(a, { reject: false }),
    crds.map((o) => o.metadata.name),
  );
  for (const o of crds) seen.add(JSON.stringify(o));
  const namespaces = new Set([RELEASE_NS, ...objs.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name), ...objs.map((o) => o.metadata.namespace).filter((n): n is string => !!n)]);
  // as Helm would adopt them: a later helm install of the same release takes them over
  for (const ns of namespaces) await ownedNamespace(c, ns, objs);
  // what `helm install` creates: not the test hooks (`helm test` creates them, once their ServiceAccount exists);
  // an object without a namespace goes to the release's, as Helm puts it (kubectl refuses -n with objects of other namespaces)
  const scoped = await clusterScoped(c);
  const installed = objs
    .filter((o) => o.kind !== 'CustomResourceDefinition' && o.kind !== 'Namespace' && !/(^|,)\s*test/.test(o.metadata.annotations?.['helm.sh/hook'] ?? ''))
    .map((o) => (scoped.has(`${groupOf(o.apiVersion)}/${o.kind}`) || o.metadata.namespace ? o : { ...o, metadata: { ...o.metadata, namespace: RELEASE_NS } }));
  const todo = fresh(installed);
  await applyFile(c, todo, `dry-run-${tag}.yaml`, ['--dry-run=server']);
  for (const o of todo) seen.add(JSON.stringify(o));
}
