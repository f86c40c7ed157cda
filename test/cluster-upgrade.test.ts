import path from 'node:path';
import { expect, it } from 'vitest';
import { describeCluster } from './cluster.js';
import { clusterScoped, generatedSecrets, liveKey, type Obj, parseManifest, releaseObjects, wellKnownInCluster } from './cluster-checks.js';
import { INSTALL, missingObjects, RELEASE, RELEASE_NS, secretData, UMBRELLA_DIR } from './cluster-lifecycle.js';
import { BY_VERSION, chartsFor, PINNED } from './releases.js';

/** The supported release before the pinned one: what users upgrade from. */
const PREVIOUS = BY_VERSION[BY_VERSION.indexOf(PINNED) - 1];
const UPGRADE = ['--namespace', RELEASE_NS, '--reset-then-reuse-values', '--wait', '--timeout', '20m'];

/** `Kind/namespace/name/container` -> image of every workload of a manifest. */
function workloadImages(objs: Obj[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of objs) {
    const spec = o.spec?.template?.spec ?? o.spec?.jobTemplate?.spec?.template?.spec;
    if (!spec?.containers || o.kind === 'Job') continue;
    for (const ct of [...(spec.initContainers ?? []), ...spec.containers]) out[`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}/${ct.name}`] = ct.image;
  }
  return out;
}

describeCluster(`upgrade ${PREVIOUS} -> ${PINNED} on a real control plane, the way the README says (Helm 4)`, (cluster) => {
  let secrets = new Map<string, Record<string, string>>();
  let upgraded = 0;
  const revision = async () => JSON.parse(String((await cluster().helm(4, ['status', RELEASE, '-n', RELEASE_NS, '-o', 'json'])).stdout)).version as number;

  let old: Obj[] = [];

  it(`installs the umbrella built from ${PREVIOUS}`, async () => {
    const c = cluster();
    await c.helm(4, ['install', RELEASE, path.join(chartsFor(PREVIOUS), 'kubeflow'), ...INSTALL]);
    old = await releaseObjects(c, RELEASE, RELEASE_NS);
    const names = [...generatedSecrets(old, RELEASE_NS).keys()];
    secrets = await secretData(c, names);
    expect(secrets.size).toBe(names.length);
  });

  it('applies the new CRDs with the command the NOTES print, then helm upgrade --reset-then-reuse-values succeeds (the pre-upgrade CRD check runs for real)', async () => {
    const c = cluster();
    const notes = String((await c.helm(4, ['get', 'notes', RELEASE, '-n', RELEASE_NS])).stdout);
    const line = /^\s*for c in ([\w\s-]+); do helm show crds kubeflow-charts\/\$c --version <new version> \| kubectl apply --server-side --force-conflicts -f -; done$/m.exec(notes);
    expect(line, 'the NOTES print the CRD upgrade command').not.toBeNull();
    // before the CRDs: the pre-upgrade check refuses the upgrade, naming the stale CRDs
    const refused = await c.helm(4, ['upgrade', RELEASE, UMBRELLA_DIR, ...UPGRADE], { reject: false });
    expect(refused.exitCode).not.toBe(0);
    for (const chart of line![1].trim().split(/\s+/)) {
      const crds = String((await c.helm(4, ['show', 'crds', path.join(path.dirname(UMBRELLA_DIR), chart)])).stdout);
      if (crds.trim()) await c.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input: crds });
    }
    await c.helm(4, ['upgrade', RELEASE, UMBRELLA_DIR, ...UPGRADE]);
    upgraded = await revision();
    const now = await releaseObjects(c, RELEASE, RELEASE_NS);
    expect(await missingObjects(c, now)).toEqual([]);
    // --reset-then-reuse-values: every container runs the new release's image (--reuse-values would keep old ones)
    const want = workloadImages(parseManifest(String((await c.helm(4, ['template', RELEASE, UMBRELLA_DIR, '-n', RELEASE_NS])).stdout)));
    expect(workloadImages(now)).toEqual(want);
    // kept objects the new release dropped stay in the cluster (Helm never deletes what keep marks)
    const scoped = await clusterScoped(c);
    const nowKeys = new Set(now.map((o) => liveKey(o, scoped, RELEASE_NS)));
    const dropped = old.filter((o) => o.metadata.annotations?.['helm.sh/resource-policy'] === 'keep' && !nowKeys.has(liveKey(o, scoped, RELEASE_NS)));
    expect(await missingObjects(c, dropped)).toEqual([]);
    const after = await secretData(c, [...secrets.keys()]);
    for (const [name, data] of secrets) expect(after.get(name), `${name} kept its values`).toEqual(data);
    expect(await wellKnownInCluster(c)).toEqual([]);
  });

  it('helm upgrade with a new global.imageRegistry and new scheduling values of every Job succeeds (no immutable Job template)', async () => {
    const c = cluster();
    const values = ['global.imageRegistry=registry.example.internal', 'hooks.nodeSelector.kubernetes\\.io/os=linux'];
    for (const chart of ['dex', 'oauth2-proxy', 'katib', 'pipelines']) values.push(`${chart}.secretsJob.nodeSelector.kubernetes\\.io/os=linux`);
    await c.helm(4, ['upgrade', RELEASE, UMBRELLA_DIR, ...UPGRADE, ...values.flatMap((v) => ['--set', v])]);
    const images = String((await c.kubectl(['get', 'deployments', '-A', '-o', 'jsonpath={range .items[*].spec.template.spec.containers[*]}{.image}{"\\n"}{end}'])).stdout)
      .split('\n')
      .filter(Boolean);
    expect(images.length).toBeGreaterThan(20);
    expect(images.filter((i) => !i.startsWith('registry.example.internal/'))).toEqual([]);
  });

  it('helm rollback to the first upgrade succeeds', async () => {
    const c = cluster();
    expect(upgraded).toBeGreaterThan(1);
    await c.helm(4, ['rollback', RELEASE, String(upgraded), '-n', RELEASE_NS, '--wait', '--timeout', '20m']);
    const images = String((await c.kubectl(['get', 'deployments', '-A', '-o', 'jsonpath={range .items[*].spec.template.spec.containers[*]}{.image}{"\\n"}{end}'])).stdout)
      .split('\n')
      .filter(Boolean);
    expect(images.filter((i) => i.startsWith('registry.example.internal/'))).toEqual([]);
    expect(await missingObjects(c, await releaseObjects(c, RELEASE, RELEASE_NS))).toEqual([]);
  });
});
