import path from 'node:path';
import { expect, it } from 'vitest';
import { deleteApp, outOfSync, sync } from './argocd-sync.js';
import { describeCluster } from './cluster.js';
import { added, clusterObjects, keyOf, type Obj, readmeKeptKinds, wellKnownInCluster } from './cluster-checks.js';
import { RELEASE, RELEASE_NS, UMBRELLA_DIR } from './cluster-lifecycle.js';

const APP = { app: RELEASE, namespace: RELEASE_NS };
const PROFILES = path.join(UMBRELLA_DIR, 'ci', '19-user-namespace-profiles-values.yaml');

describeCluster('Argo CD sync of the umbrella on a real control plane (helm template --include-crds, phases and waves, server-side apply)', (cluster) => {
  let rendered = '';
  let before: Map<string, Obj>;
  let managed: Obj[] = [];

  it('syncs wave by wave, every wave healthy before the next; hooks run and are deleted by their policy', async () => {
    const c = cluster();
    before = await clusterObjects(c);
    // what Argo CD's repo server runs for a Helm source
    rendered = String((await c.helm(4, ['template', RELEASE, UMBRELLA_DIR, '--namespace', RELEASE_NS, '--include-crds', '-f', PROFILES])).stdout);
    managed = await sync(c, rendered, APP);
    expect(managed.length).toBeGreaterThan(300);
    expect(await wellKnownInCluster(c)).toEqual([]);
  });

  it('a second sync would change nothing once the documented ignoreDifferences apply', async () => {
    expect(await outOfSync(cluster(), rendered, APP)).toEqual([]);
  });

  it("deleting the Application removes everything but what the README's table keeps", async () => {
    const c = cluster();
    await deleteApp(c, managed);
    for (let i = 0; i < 240; i++) {
      const t = await c.kubectl(['get', 'namespaces', '-o', 'jsonpath={.items[?(@.status.phase=="Terminating")].metadata.name}']);
      if (!String(t.stdout).trim()) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const left = added(before, await clusterObjects(c));
    expect([...new Set(left.map((o) => o.kind))].sort()).toEqual([...readmeKeptKinds().keys()].sort());
    const opts = (o: Obj) => o.metadata.annotations?.['argocd.argoproj.io/sync-options'] ?? '';
    const keptByRule = (o: Obj) => opts(o).includes('Delete=false') || (o.kind === 'Namespace' && o.metadata.name === RELEASE_NS) || (o.kind === 'Secret' && o.metadata.labels?.['kubeflow-charts.io/generated'] === 'true');
    expect(left.filter((o) => !keptByRule(o)).map(keyOf)).toEqual([]);
  });
});
