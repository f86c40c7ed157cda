import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../packages/generator/src/core/paths.js';
import type { TestCluster } from './cluster.js';
import { added, clusterObjects, clusterScoped, generatedSecrets, keyOf, liveKey, type Obj, readmeKeptKinds, releaseObjects, wellKnownInCluster } from './cluster-checks.js';
import { prepareFor, render } from './cluster-scenarios.js';

export const UMBRELLA_DIR = path.join(repoRoot(), 'charts', 'kubeflow');
export const RELEASE = 'kubeflow';
export const RELEASE_NS = 'kubeflow-charts';
/** what the README's install command passes (Helm's default of 5 minutes is too short for a cold cluster) */
export const INSTALL = ['--namespace', RELEASE_NS, '--create-namespace', '--wait', '--timeout', '20m'];

/** Reads the generated Secrets of a release: `namespace/name` -> data. */
export async function secretData(c: TestCluster, names: string[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  for (const n of names) {
    const [ns, name] = n.split('/');
    const r = await c.kubectl(['-n', ns, 'get', 'secret', name, '-o', 'json'], { reject: false });
    if (r.exitCode === 0) out.set(n, JSON.parse(String(r.stdout)).data ?? {});
  }
  return out;
}

/** Every object of the release exists in the cluster; the missing ones, by key. */
export async function missingObjects(c: TestCluster, objs: Obj[], ns = RELEASE_NS): Promise<string[]> {
  const [live, scoped] = [await clusterObjects(c), await clusterScoped(c)];
  const problems: string[] = [];
  for (const o of objs) {
    const k = liveKey(o, scoped, ns);
    if (!live.has(k)) problems.push(k);
    // a secrets Job revokes its own rights when done: its RoleBindings stay (release resources), without subjects
    else if (revokedByDesign(o) && (live.get(k)?.subjects ?? []).length) problems.push(`${k} (a secrets Job's binding, still granting after the Job ran)`);
  }
  return problems;
}

/** The RoleBindings of the secrets Jobs: the Job removes their subjects once it created the Secrets (least privilege). */
export const revokedByDesign = (o: Obj): boolean => o.kind === 'RoleBinding' && o.metadata.labels?.['kubeflow-charts.io/lifecycle'] === 'secrets';

/** Waits until no Namespace is Terminating (uninstall deletes namespaces asynchronously). */
async function namespacesSettled(c: TestCluster): Promise<void> {
  for (let i = 0; i < 240; i++) {
    const r = await c.kubectl(['get', 'namespaces', '-o', 'jsonpath={.items[?(@.status.phase=="Terminating")].metadata.name}']);
    if (!String(r.stdout).trim()) return;
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new Error('namespaces still Terminating after 2 minutes');
}

/**
 * Install, check, test, uninstall, compare what stays with the README, install again: the
 * lifecycle a platform team runs, with one Helm major version, against `cluster()`.
 */
export interface LifecycleHooks {
  /** what the user does before installing (e.g. the README's recipe) */
  prepare?: (c: TestCluster) => Promise<void>;
  /** further checks after the first install */
  check?: (c: TestCluster) => Promise<void>;
}

export function lifecycleTests(major: 3 | 4, cluster: () => TestCluster, values: string[], hooks: LifecycleHooks = {}): void {
  let before: Map<string, Obj>;
  let objs: Obj[] = [];
  let generated = new Map<string, string[]>();
  let secrets = new Map<string, Record<string, string>>();
  const vals = values.flatMap((v) => ['-f', v]);

  it(`helm ${major} install --wait succeeds; every release object exists; every generated Secret exists with data; no well-known credential in any Secret or ConfigMap`, async () => {
    const c = cluster();
    await hooks.prepare?.(c);
    // what the platform provides for these values (CRDs the charts expect, the user's Secrets they name)
    await prepareFor(c, await render(c, UMBRELLA_DIR, values), UMBRELLA_DIR);
    // what the user made before installing is theirs: uninstall leaves it, and it is not compared
    before = await clusterObjects(c);
    await c.helm(major, ['install', RELEASE, UMBRELLA_DIR, ...INSTALL, ...vals]);
    objs = await releaseObjects(c, RELEASE, RELEASE_NS, major);
    await hooks.check?.(c);
    expect(objs.length).toBeGreaterThan(300);
    expect(await missingObjects(c, objs)).toEqual([]);
    generated = generatedSecrets(objs, RELEASE_NS);
    expect([...generated.keys()]).toEqual(expect.arrayContaining(['auth/dex-oidc-client', 'kubeflow/mysql-secret']));
    secrets = await secretData(c, [...generated.keys()]);
    for (const [name, keys] of generated) {
      expect(secrets.has(name), `Secret ${name} exists`).toBe(true);
      for (const k of keys) expect(Buffer.from(secrets.get(name)![k] ?? '', 'base64').length, `${name} key ${k} is not empty`).toBeGreaterThan(0);
    }
    expect(await wellKnownInCluster(c)).toEqual([]);
  });

  it(`helm ${major} test: the checks that need no workload image pass, the ones that need a server fail by their probe, and no test Pod outlives helm test`, async () => {
    const c = cluster();
    const r = await c.helm(major, ['test', RELEASE, '-n', RELEASE_NS, '--timeout', '10m'], { reject: false });
    const out = String(r.stdout) + String(r.stderr);
    // rollout checks run for real; HTTP probes need the servers, whose images do not run here: the one test pod fails
    expect(r.exitCode, out).not.toBe(0);
    expect(out).toMatch(/kubeflow-test/);
    // its log, as the node wrote it (the pod itself is gone): every component reported, each failure an HTTP probe
    const podDirs = readdirSync(path.join(c.state.dir, 'pods')).filter((d) => d.startsWith(`${RELEASE_NS}_${RELEASE}-test_`));
    expect(podDirs.length).toBeGreaterThan(0);
    const log = podDirs.map((d) => readFileSync(path.join(c.state.dir, 'pods', d, 'test.log'), 'utf8')).join('\n');
    const sections = log.split(/^== /m).slice(1);
    expect(sections.map((x) => x.split('\n')[0]).sort()).toEqual(['centraldashboard', 'dex', 'istio', 'oauth2-proxy']);
    expect(log).toMatch(/^PASS centraldashboard$/m);
    // a failed component failed at its HTTP probe: no status (an HTTP-only check), or right after its rollout checks passed
    for (const x of sections.filter((x) => /^FAIL /m.test(x))) expect(x, x).toMatch(/(answered nothing|successfully rolled out)\nFAIL /);
    expect(log).toMatch(/^failed:/m);
    const pods = await c.kubectl(['get', 'pods', '-A', '-l', 'kubeflow-charts.io/lifecycle', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.metadata.labels.kubeflow-charts\\.io/lifecycle}{"\\n"}{end}']);
    const tests = String(pods.stdout)
      .split('\n')
      .filter((l) => / (helm-)?test/.test(l));
    expect(tests).toEqual([]);
  });

  it(`helm ${major} uninstall leaves exactly what the README's table lists (both ways), and every kept object by its rule`, async () => {
    const c = cluster();
    await c.helm(major, ['uninstall', RELEASE, '-n', RELEASE_NS, '--wait', '--timeout', '10m']);
    await expectLeftAsReadme(c, before, generated);
  });

  it(`helm ${major} install again succeeds: it adopts what was kept and the generated Secrets keep their values`, async () => {
    const c = cluster();
    await c.helm(major, ['install', RELEASE, UMBRELLA_DIR, ...INSTALL, ...vals]);
    const again = await secretData(c, [...generated.keys()]);
    for (const [name, data] of secrets) expect(again.get(name), name).toEqual(data);
    expect(await missingObjects(c, await releaseObjects(c, RELEASE, RELEASE_NS, major))).toEqual([]);
  });

  it(`helm ${major} uninstall --no-hooks leaves the same (the gates are hooks; nothing of the release depends on them to go)`, async () => {
    const c = cluster();
    await c.helm(major, ['uninstall', RELEASE, '-n', RELEASE_NS, '--no-hooks', '--wait', '--timeout', '10m']);
    await expectLeftAsReadme(c, before, generated);
  });
}

/** After an uninstall: exactly the kinds of the README's table stay (both ways), each kept object by its rule, every generated Secret. */
async function expectLeftAsReadme(c: TestCluster, before: Map<string, Obj>, generated: Map<string, string[]>): Promise<void> {
  await namespacesSettled(c);
  const left = added(before, await clusterObjects(c));
  const table = readmeKeptKinds();
  expect([...new Set(left.map((o) => o.kind))].sort()).toEqual([...table.keys()].sort());
  const keptByRule = (o: Obj): boolean => {
    switch (o.kind) {
      case 'CustomResourceDefinition':
        return true;
      case 'PersistentVolumeClaim':
      case 'Profile':
      case 'PodDefault':
      case 'ServiceAccount':
        return o.metadata.annotations?.['helm.sh/resource-policy'] === 'keep';
      case 'Namespace':
        return o.metadata.name === RELEASE_NS || o.metadata.annotations?.['helm.sh/resource-policy'] === 'keep';
      case 'Secret':
        return generated.has(`${o.metadata.namespace}/${o.metadata.name}`) && o.metadata.labels?.['kubeflow-charts.io/generated'] === 'true';
      default:
        return false;
    }
  };
  expect(left.filter((o) => !keptByRule(o)).map(keyOf)).toEqual([]);
  // and nothing the rules keep went missing: every generated Secret stayed (one the user made before installing is theirs, not compared)
  const secret = (objs: Iterable<Obj>, k: string) => [...objs].some((o) => o.kind === 'Secret' && `${o.metadata.namespace}/${o.metadata.name}` === k);
  expect([...generated.keys()].filter((k) => !secret(before.values(), k) && !secret(left, k))).toEqual([]);
}
