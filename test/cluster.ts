import { existsSync } from 'node:fs';

/**
 * The local Kubernetes control plane the tests run Helm, kubectl, Argo CD's sync and ct against
 * (`npm run cluster -- up`; issue 14). Tests that need it:
 *
 *   const cluster = testCluster();
 *   it.skipIf(!cluster.kubeconfig)(`... ${cluster.reason}`, ...)
 *
 * Under CI=true a missing control plane fails (`requireCluster()` throws) instead of skipping.
 */
export interface TestCluster {
  /** kubeconfig of the running control plane, when one is up */
  kubeconfig?: string;
  /** why there is none (for the skip message) */
  reason: string;
}

export function testCluster(): TestCluster {
  const kubeconfig = process.env.KFC_TEST_KUBECONFIG;
  if (kubeconfig && existsSync(kubeconfig)) return { kubeconfig, reason: '' };
  const reason = 'no control plane (npm run cluster -- up; KFC_TEST_KUBECONFIG)';
  if (process.env.CI === 'true') throw new Error(`CI=true needs the control plane: ${reason}`);
  return { reason };
}
