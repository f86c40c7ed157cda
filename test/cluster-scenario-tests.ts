import path from 'node:path';
import { expect, it } from 'vitest';
import { describeCluster } from './cluster.js';
import { releaseObjects, wellKnownInCluster } from './cluster-checks.js';
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
    it.each(scenarios)('%s: helm install --wait, every object exists, no well-known credential, helm uninstall', async (scenario) => {
      const c = cluster();
      const files = scenario.split('+').map((f) => path.join(UMBRELLA_DIR, 'ci', f));
      await prepareFor(c, await render(c, UMBRELLA_DIR, files), UMBRELLA_DIR);
      await c.helm(4, ['install', RELEASE, UMBRELLA_DIR, ...INSTALL, ...files.flatMap((f) => ['-f', f])]);
      expect(await missingObjects(c, await releaseObjects(c, RELEASE, RELEASE_NS))).toEqual([]);
      expect(await wellKnownInCluster(c)).toEqual([]);
      await c.helm(4, ['uninstall', RELEASE, '-n', RELEASE_NS, '--wait', '--timeout', '10m']);
    });
  });
}
