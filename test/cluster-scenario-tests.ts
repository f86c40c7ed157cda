import path from 'node:path';
import { expect, it } from 'vitest';
import { describeCluster } from './cluster.js';
import { type Obj, releaseObjects, wellKnownInCluster } from './cluster-checks.js';
import { INSTALL, missingObjects, RELEASE, RELEASE_NS, UMBRELLA_DIR } from './cluster-lifecycle.js';
import { prepareFor, render } from './cluster-scenarios.js';

/**
 * Full installs (helm install --wait, Helm 4) of umbrella scenarios, one after the other on one
 * control plane: each is installed with what its platform provides (prepareFor), checked,
 * and uninstalled; the next one adopts what the previous kept. A scenario of several ci files
 * (`a.yaml+b.yaml`) installs them together.
 */
export function scenarioTests(part: string, scenarios: string[]): void {
  describeCluster(`umbrella scenarios installed for real (${part})`, (cluster) => {
    it.each(scenarios)('%s: helm install --wait, every object exists, no well-known credential, every Service has endpoints and every route backend exists, helm uninstall', async (scenario) => {
      const c = cluster();
      const files = scenario.split('+').map((f) => path.join(UMBRELLA_DIR, 'ci', f));
      await prepareFor(c, await render(c, UMBRELLA_DIR, files), UMBRELLA_DIR);
      await c.helm(4, ['install', RELEASE, UMBRELLA_DIR, ...INSTALL, ...files.flatMap((f) => ['-f', f])]);
      const objs = await releaseObjects(c, RELEASE, RELEASE_NS);
      expect(await missingObjects(c, objs)).toEqual([]);
      expect(await wellKnownInCluster(c)).toEqual([]);
      expect(await unresolved(c, objs)).toEqual([]);
      await c.helm(4, ['uninstall', RELEASE, '-n', RELEASE_NS, '--wait', '--timeout', '10m']);
    });
  });
}

/** Services with a selector but no endpoints, and HTTPRoute backends that are no Service: what the scenario leaves unreachable. */
async function unresolved(c: ReturnType<Parameters<Parameters<typeof describeCluster>[1]>[0]>, release: Obj[]): Promise<string[]> {
  const items = async (what: string) => JSON.parse(String((await c.kubectl(['get', what, '-A', '-o', 'json'], { reject: false })).stdout) || '{"items":[]}').items as Obj[];
  const services = await items('services');
  const slices = await items('endpointslices');
  // pods the release runs, by namespace: a Service selecting them must have endpoints (one selecting
  // the user's own pods, e.g. their Istio gateway, is the platform's business)
  const pods = release.flatMap((o) => {
    const labels = (o.spec?.template?.metadata?.labels ?? {}) as Record<string, string>;
    return ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind) ? [{ ns: o.metadata.namespace ?? RELEASE_NS, labels }] : [];
  });
  const selectsRelease = (s: Obj) => pods.some((p) => p.ns === s.metadata.namespace && Object.entries(s.spec.selector as Record<string, string>).every(([k, v]) => p.labels[k] === v));
  const empty = services
    .filter((s) => s.spec.selector && Object.keys(s.spec.selector).length && selectsRelease(s))
    .filter((s) => !slices.some((e) => e.metadata.namespace === s.metadata.namespace && e.metadata.labels?.['kubernetes.io/service-name'] === s.metadata.name && (e.endpoints ?? []).length))
    .map((s) => `Service ${s.metadata.namespace}/${s.metadata.name} has no endpoints`);
  const routes = await items('httproutes.gateway.networking.k8s.io');
  const missing = routes.flatMap((r) =>
    (r.spec.rules ?? [])
      .flatMap((x: { backendRefs?: Array<{ name: string; namespace?: string }> }) => x.backendRefs ?? [])
      .filter((b: { name: string; namespace?: string }) => !services.some((s) => s.metadata.name === b.name && s.metadata.namespace === (b.namespace ?? r.metadata.namespace)))
      .map((b: { name: string }) => `HTTPRoute ${r.metadata.namespace}/${r.metadata.name} -> ${b.name}: no such Service`),
  );
  return [...empty, ...missing];
}
