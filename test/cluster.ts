import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type Result } from 'execa';
import { afterAll, beforeAll, describe } from 'vitest';
import { down, ensureBuilt, kubectlBin, type ClusterState, up } from '../packages/cluster/src/index.js';
import { findHelm } from '../packages/generator/src/core/toolchain.js';
import { ensureGoTool } from '../packages/generator/src/core/go-tools.js';

/**
 * The local Kubernetes control plane of the tests (packages/cluster; `npm run cluster -- up`
 * starts the same one by hand). Each test file that needs one gets its own, in a fresh data
 * directory, started in beforeAll and stopped in afterAll: files run in parallel without
 * sharing cluster-scoped objects (CRDs, Namespaces, webhooks) and every file starts empty.
 *
 * Outside CI a machine without the built control plane (`npm run setup`) skips these tests
 * visibly, with the reason; under CI=true it fails.
 */
export interface Availability {
  available: boolean;
  reason: string;
}

let availability: Availability | undefined;

/** Whether the control plane can start here: its binaries and kwok are built (setup builds them). */
export function clusterAvailability(): Availability {
  if (availability) return availability;
  try {
    ensureBuilt();
    ensureGoTool('kwok');
    availability = { available: true, reason: '' };
  } catch (e) {
    const reason = `no control plane: ${(e as Error).message.split('\n')[0]} (npm run setup builds it)`;
    if (process.env.CI === 'true') throw new Error(`CI=true needs the control plane: ${reason}`);
    availability = { available: false, reason };
  }
  return availability;
}

export interface TestCluster {
  state: ClusterState;
  kubeconfig: string;
  /** environment for helm/kubectl run against this cluster */
  env: NodeJS.ProcessEnv;
  kubectl(args: string[], o?: { input?: string; reject?: boolean }): Promise<Result>;
  helm(major: 3 | 4, args: string[], o?: { reject?: boolean }): Promise<Result>;
  /** a temporary directory of this file */
  tmp: string;
}

async function startCluster(): Promise<TestCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-test-cluster-'));
  const { state } = await up(() => {}, dir);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kfc-test-'));
  const env = { ...process.env, KUBECONFIG: state.kubeconfig, HELM_CACHE_HOME: path.join(tmp, 'helm-cache'), HELM_CONFIG_HOME: path.join(tmp, 'helm-config'), HELM_DATA_HOME: path.join(tmp, 'helm-data') };
  const fail = (what: string, r: Result) => new Error(`${what} failed (exit ${r.exitCode}):\n${String(r.stderr).trim().slice(-4000)}\n${String(r.stdout).trim().slice(-2000)}`);
  return {
    state,
    kubeconfig: state.kubeconfig,
    env,
    tmp,
    async kubectl(args, o = {}) {
      const r = await execa(kubectlBin(), args, { env, input: o.input, reject: false, maxBuffer: 1024 * 1024 * 1024 });
      if (r.exitCode !== 0 && o.reject !== false) throw fail(`kubectl ${args.join(' ')}`, r);
      return r;
    },
    async helm(major, args, o = {}) {
      const h = await findHelm(major);
      const r = await execa(h.path, args, { env, reject: false, maxBuffer: 1024 * 1024 * 1024 });
      if (r.exitCode !== 0 && o.reject !== false) throw fail(`helm ${major} ${args.join(' ')}`, r);
      return r;
    },
  };
}

/**
 * A describe block with its own control plane: `cluster()` returns it inside the tests.
 * Skipped (visibly, with the reason) where the control plane cannot run outside CI.
 */
export function describeCluster(name: string, body: (cluster: () => TestCluster) => void): void {
  const a = clusterAvailability();
  describe.skipIf(!a.available)(a.available ? name : `${name} (skipped: ${a.reason})`, () => {
    let c: TestCluster | undefined;
    beforeAll(async () => {
      c = await startCluster();
    }, 10 * 60_000);
    afterAll(async () => {
      if (c) {
        await down(c.state.dir);
        rmSync(c.tmp, { recursive: true, force: true });
      }
    });
    body(() => {
      if (!c) throw new Error('the control plane did not start (see beforeAll)');
      return c;
    });
  });
}

/** Writes `values` as a YAML/JSON file in the cluster's temp dir and returns its path. */
export function valuesFile(c: TestCluster, name: string, values: unknown): string {
  const f = path.join(c.tmp, name);
  writeFileSync(f, JSON.stringify(values, null, 2));
  return f;
}
