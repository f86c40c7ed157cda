import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { LIFECYCLE_LABEL } from '../packages/generator/src/core/chart-model.js';
import { helmTemplate } from '../packages/generator/src/core/helm.js';
import { planObjects, type PlanObject } from '../packages/generator/src/order/sequence.js';
import { onPath } from '../packages/generator/src/core/toolchain.js';
import { describeCluster } from './cluster.js';
import { chartNames, ciFiles, readYaml } from './helpers.js';
import { fixtures, kube, wrongAnswers, type Ask, type Kube } from './kube.js';
import { chartsFor, PINNED } from './releases.js';

/**
 * Least privilege of the Jobs the charts ship (issue 15), on the render: no ClusterRole of ours creates
 * Secrets; the secrets Jobs get Roles in exactly the namespaces of the Secrets they create or read, an
 * admission policy naming exactly their Secrets, and delete only their own bindings; nothing creates
 * Namespaces; every other rule names its objects. On a control plane (describeCluster) the same is asked
 * of the real authorizer with `kubectl auth can-i` and of admission with dry runs (skipped visibly without one).
 */
const dir = chartsFor(PINNED);
const label = (x: PlanObject) => `${x.kind} ${x.namespace ? `${x.namespace}/` : ''}${x.name}`;
const ours = (objs: PlanObject[]) => objs.filter((o) => o.labels[LIFECYCLE_LABEL]);

async function renders(): Promise<Array<[string, PlanObject[]]>> {
  const umbrella = path.join(dir, 'kubeflow');
  const all = ciFiles(umbrella).find((f) => f.endsWith('all-components-values.yaml'));
  const out: Array<[string, PlanObject[]]> = [['kubeflow', planObjects(await helmTemplate(umbrella, { includeCrds: true, valuesFiles: all ? [all] : [] }))]];
  for (const c of chartNames(dir).filter((x) => x !== 'kubeflow')) out.push([c, planObjects(await helmTemplate(path.join(dir, c), { release: 'x', namespace: 'kubeflow-charts' }))]);
  return out;
}

describe(`RBAC of the charts' Jobs (${PINNED})`, async () => {
  const all = await renders();

  it('no ClusterRole of ours grants create on Secrets, nothing of ours touches Namespaces, every other rule names its objects', () => {
    for (const [chart, objs] of all) {
      for (const r of ours(objs).filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')) {
        for (const rule of r.doc.rules ?? []) {
          const res: string[] = rule.resources ?? [];
          expect(res, `${chart}: ${label(r)}`).not.toContain('namespaces');
          if (r.kind === 'ClusterRole') expect(res.includes('secrets') && rule.verbs.includes('create'), `${chart}: ${label(r)}`).toBe(false);
          const unnamed = (rule.verbs as string[]).filter((v) => !(v === 'create' && res.join() === 'secrets') && !(v === 'list' && res.join() === 'pods'));
          if (unnamed.length) expect(rule.resourceNames?.length, `${chart}: ${label(r)} ${JSON.stringify(rule)}`).toBeGreaterThan(0);
        }
      }
    }
  });

  it('each secrets Job: Roles in exactly its namespaces, a policy naming exactly its Secrets, its own bindings to revoke', () => {
    let jobs = 0;
    for (const [chart, objs] of all) {
      for (const job of objs.filter((o) => o.kind === 'Job' && o.labels[LIFECYCLE_LABEL] === 'secrets')) {
        jobs++;
        const env = Object.fromEntries(job.doc.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
        const specs = String(env.KFC_SECRETS)
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l));
        const sa = job.doc.spec.template.spec.serviceAccountName;
        const bindings = objs.filter((o) => o.kind === 'RoleBinding' && o.doc.subjects?.some((s: any) => s.name === sa));
        const roles = objs.filter((o) => o.kind === 'Role' && bindings.some((b) => b.namespace === o.namespace && b.doc.roleRef.name === o.name));
        const reads = specs.flatMap((s: any) => Object.values<any>(s.keys).flatMap((r) => [r.copy, r.bcrypt].filter((x) => typeof x === 'string' && x.split('/').length === 3).map((x: string) => x.split('/')[0])));
        expect(new Set(roles.map((r) => r.namespace)), `${chart}`).toEqual(new Set([...specs.map((s: any) => s.namespace), ...reads]));
        for (const r of roles) {
          const creates = (r.doc.rules as any[]).some((x) => x.verbs.includes('create'));
          expect(creates, `${chart}: ${label(r)}`).toBe(specs.some((s: any) => s.namespace === r.namespace));
        }
        expect(new Set(JSON.parse(env.KFC_BINDINGS))).toEqual(new Set(bindings.map((b) => `${b.namespace}/${b.name}`)));
        expect(
          objs.some((o) => o.kind === 'ClusterRoleBinding' && o.doc.subjects?.some((s: any) => s.name === sa)),
          chart,
        ).toBe(false);
        const policy = objs.find((o) => o.kind === 'ValidatingAdmissionPolicy' && o.name === env.KFC_GUARD);
        expect(policy, chart).toBeDefined();
        const expr: string = policy!.doc.spec.validations[0].expression;
        // each Secret by namespace, name and its declared type (Opaque unless the feature names one)
        for (const s of specs) expect(expr, chart).toContain(`"${s.namespace}/${s.name}:${s.type ?? 'Opaque'}"`);
        expect(expr).toContain("(request.namespace + '/' + object.metadata.name + ':' + object.type) in [");
        expect(policy!.doc.spec.matchConditions[0].expression).toContain(`system:serviceaccount:${job.namespace}:${sa}`);
        expect(
          objs.some((o) => o.kind === 'ValidatingAdmissionPolicyBinding' && o.doc.spec.policyName === policy!.name),
          chart,
        ).toBe(true);
        expect(job.doc.spec.template.spec.containers[0].args[0]).not.toMatch(/'POST', '\/api\/v1\/namespaces'[,)]/);
      }
    }
    expect(jobs).toBeGreaterThanOrEqual(5);
  });

  it('the gate RBAC is a set of hooks deleted once the gate succeeded', () => {
    const objs = all[0][1];
    const gate = ours(objs).filter((o) => o.labels[LIFECYCLE_LABEL] === 'gate' && o.kind !== 'Job');
    expect(gate.length).toBeGreaterThan(5);
    for (const g of gate) {
      expect(g.annotations['helm.sh/hook'], label(g)).toBe('post-install,post-upgrade,pre-delete');
      expect(g.annotations['helm.sh/hook-delete-policy'], label(g)).toContain('hook-succeeded');
    }
  });

  it('a chart whose templates create a ValidatingAdmissionPolicy asks for a Kubernetes that serves it (>= 1.30)', () => {
    let charts = 0;
    for (const [chart, objs] of all) {
      if (!objs.some((o) => o.kind === 'ValidatingAdmissionPolicy')) continue;
      charts++;
      const min = Number(/^>=1\.(\d+)\./.exec(readYaml(path.join(dir, chart, 'Chart.yaml')).kubeVersion)?.[1]);
      expect(min, chart).toBeGreaterThanOrEqual(30);
    }
    expect(charts).toBeGreaterThanOrEqual(5);
  });
});

/** The secrets Jobs of a render: account, the Secrets they create, their bindings and admission policy, their Roles. */
function secretsJobs(objs: PlanObject[], releaseNs: string) {
  return objs
    .filter((o) => o.kind === 'Job' && o.labels[LIFECYCLE_LABEL] === 'secrets')
    .map((job) => {
      const c = job.doc.spec.template.spec.containers[0];
      const env: Record<string, string> = Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
      const sa: string = job.doc.spec.template.spec.serviceAccountName;
      const specs: Array<{ namespace: string; name: string }> = env.KFC_SECRETS.split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l));
      const bindings = objs.filter((o) => o.kind === 'RoleBinding' && o.doc.subjects?.some((x: any) => x.name === sa));
      const roles = bindings.map((b) => objs.find((o) => o.kind === 'Role' && o.namespace === b.namespace && o.name === b.doc.roleRef.name)!);
      return { job, env, script: String(c.args[0]), user: `system:serviceaccount:${releaseNs}:${sa}`, specs, bindings, roles, wave: Number(job.annotations['argocd.argoproj.io/sync-wave'] ?? 0) };
    });
}

/** A Secret as the secrets Job would create it (or as a forged one). */
const secretDoc = (ns: string, name: string, type = 'Opaque') =>
  YAML.stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    type,
    metadata: { name, namespace: ns, ...(type === 'kubernetes.io/service-account-token' ? { annotations: { 'kubernetes.io/service-account.name': 'default' } } : {}) },
    stringData: { k: 'v' },
  });

/**
 * The same rights asked of the real authorizer and admission (issue 15): the umbrella's secrets-Job and gate
 * RBAC and admission policies (all components, a release of its own) applied to the control plane; the Jobs
 * themselves not run by Kubernetes but their script run here with the account's token.
 */
describeCluster(`RBAC and admission of the charts' Jobs on the control plane (${PINNED})`, (cluster) => {
  const id = Math.random().toString(36).slice(2, 7);
  const release = `rbac${id}`;
  const releaseNs = `kfc-rbac-${id}`;
  let k: Kube;
  let objs: PlanObject[] = [];
  let jobs: ReturnType<typeof secretsJobs> = [];
  let done: () => Promise<void> = async () => undefined;
  const created: string[] = [];

  beforeAll(async () => {
    k = kube(cluster().kubeconfig);
    const umbrella = path.join(dir, 'kubeflow');
    const allValues = ciFiles(umbrella).filter((f) => f.endsWith('all-components-values.yaml'));
    objs = planObjects(await helmTemplate(umbrella, { release, namespace: releaseNs, valuesFiles: allValues }));
    jobs = secretsJobs(objs, releaseNs).sort((a, b) => a.wave - b.wave);
    // the RBAC and policies of the secrets Jobs and of the gate, as Helm would create them (hooks included)
    const rbac = objs.filter((o) => ['secrets', 'gate'].includes(o.labels[LIFECYCLE_LABEL]) && !['Job', 'Pod'].includes(o.kind)).map((o) => o.doc);
    const f = await fixtures(k, rbac, [releaseNs]);
    f.track(rbac);
    done = async () => {
      for (const ref of created) await k.run(['delete', 'secret', '-n', ref.split('/')[0], ref.split('/')[1], '--ignore-not-found']);
      await f.cleanup();
    };
    const r = await k.run(['create', '-f', '-'], rbac.map((d) => YAML.stringify(d)).join('---\n'));
    if (r.exitCode !== 0) throw new Error(`applying the RBAC: ${r.stderr}`);
  }, 300_000);
  afterAll(() => done(), 120_000);

  it("each secrets Job's account: create Secrets and get its own by name in exactly its namespaces, nothing else", async () => {
    expect(jobs.length).toBeGreaterThanOrEqual(5);
    const problems: string[] = [];
    const everywhere = [...new Set(objs.map((o) => o.namespace).filter((x): x is string => !!x))];
    for (const j of jobs) {
      const asks: Ask[] = [];
      const writes = new Set(j.roles.filter((r) => r.doc.rules.some((x: any) => x.verbs.includes('create'))).map((r) => r.namespace!));
      for (const r of j.roles) {
        const names: string[] = r.doc.rules.find((x: any) => x.resources.includes('secrets') && x.resourceNames)?.resourceNames ?? [];
        for (const n of names) {
          asks.push({ verb: 'get', resource: `secrets/${n}`, ns: r.namespace, allowed: true, why: 'a Secret it creates or copies' });
          for (const verb of ['update', 'patch', 'delete']) asks.push({ verb, resource: `secrets/${n}`, ns: r.namespace, allowed: false, why: 'it never changes a Secret' });
        }
        asks.push({ verb: 'patch', resource: `rolebindings/${r.name}`, ns: r.namespace, allowed: true, why: 'its own binding, emptied when done' });
        asks.push({ verb: 'delete', resource: `rolebindings/${r.name}`, ns: r.namespace, allowed: false, why: 'the binding is a release resource: emptied, never deleted' });
        asks.push({ verb: 'patch', resource: `rolebindings/${release}-gate`, ns: r.namespace, allowed: false, why: "another account's binding" });
        for (const verb of ['get', 'list', 'watch']) asks.push({ verb, resource: 'secrets', ns: r.namespace, allowed: false, why: 'Secrets it does not name' });
        asks.push({ verb: 'get', resource: 'secrets/kfc-not-ours', ns: r.namespace, allowed: false, why: 'a Secret it does not name' });
        asks.push({ verb: 'create', resource: 'serviceaccounts', ns: r.namespace, allowed: false, why: 'no account of its own making' });
        asks.push({ verb: 'create', resource: 'rolebindings', ns: r.namespace, allowed: false, why: 'no rights of its own making' });
      }
      for (const ns of everywhere) asks.push({ verb: 'create', resource: 'secrets', ns, allowed: writes.has(ns), why: writes.has(ns) ? 'a namespace it writes' : 'a namespace it does not write' });
      asks.push({ verb: 'create', resource: 'secrets', ns: 'kube-system', allowed: false, why: 'kube-system' });
      asks.push({ verb: 'create', resource: 'secrets', ns: '*', allowed: false, why: 'cluster-wide' });
      asks.push({ verb: 'create', resource: 'namespaces', allowed: false, why: 'it creates no Namespace' });
      asks.push({ verb: 'create', resource: 'pods', ns: releaseNs, allowed: false, why: 'no workloads' });
      problems.push(...(await wrongAnswers(k, j.user, asks)));
    }
    expect(problems).toEqual([]);
  }, 600_000);

  it('the admission policy lets each account create only its own Opaque Secrets (dry runs as the account)', async () => {
    const problems: string[] = [];
    for (const j of jobs) {
      const guard = j.env.KFC_GUARD;
      const denied = (r: { exitCode: number; stderr: string }) => r.exitCode !== 0 && r.stderr.includes(`ValidatingAdmissionPolicy '${guard}'`);
      const create = (doc: string) => k.run(['create', '--dry-run=server', `--as=${j.user}`, '-f', '-'], doc);
      const first = j.specs[0];
      // the policy takes a moment to be in effect after it was created: the Job waits for it the same way
      let probe = await create(secretDoc(first.namespace, 'kfc-not-ours'));
      for (let i = 0; i < 30 && !denied(probe); i++) {
        await new Promise((r) => setTimeout(r, 2000));
        probe = await create(secretDoc(first.namespace, 'kfc-not-ours'));
      }
      if (!denied(probe)) problems.push(`${j.user}: an Opaque Secret ${first.namespace}/kfc-not-ours was not refused by ${guard}: ${probe.stderr || 'created'}`);
      for (const s of j.specs) {
        const own = await create(secretDoc(s.namespace, s.name));
        // admission runs before storage: "already exists" (the Secret is there) means the policy let it through
        if (own.exitCode !== 0 && !/already exists/.test(own.stderr)) problems.push(`${j.user}: its own Secret ${s.namespace}/${s.name} was refused: ${own.stderr}`);
        const token = await create(secretDoc(s.namespace, s.name, 'kubernetes.io/service-account-token'));
        if (!denied(token)) problems.push(`${j.user}: a service-account token Secret ${s.namespace}/${s.name} was not refused by ${guard}: ${token.stderr || 'created'}`);
      }
    }
    expect(problems).toEqual([]);
  }, 600_000);

  it("the Jobs' script, run with each account's token: creates or keeps its Secrets, then revokes its own bindings and keeps no right", async (ctx) => {
    if (!onPath('python3')) {
      if (process.env.CI === 'true') throw new Error("python3 is needed to run the secrets Jobs' script");
      ctx.skip("python3 is not on PATH (the secrets Jobs' script is Python)");
    }
    const cfg = JSON.parse((await k.run(['config', 'view', '--raw', '--minify', '-o', 'json'])).stdout).clusters[0].cluster;
    const ca = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-rbac-ca-')), 'ca.crt');
    writeFileSync(ca, cfg['certificate-authority-data'] ? Buffer.from(cfg['certificate-authority-data'], 'base64') : readFileSync(cfg['certificate-authority']));
    for (const j of jobs) {
      const sa = j.user.split(':').pop()!;
      const token = await k.run(['create', 'token', sa, '-n', releaseNs, '--duration=10m']);
      expect(token.exitCode, token.stderr).toBe(0);
      const env = { ...j.env, KFC_API_URL: cfg.server, KFC_API_TOKEN: token.stdout.trim(), SSL_CERT_FILE: ca };
      const r = await execa(onPath('python3')!, ['-c', j.script], { env, reject: false, extendEnv: false });
      expect(r.exitCode, `${j.user}: ${r.stdout}\n${r.stderr}`).toBe(0);
      for (const s of j.specs) {
        expect(r.stdout, j.user).toMatch(new RegExp(`^(created|kept) Secret ${s.namespace}/${s.name}$`, 'm'));
        if (new RegExp(`^created Secret ${s.namespace}/${s.name}$`, 'm').test(r.stdout)) created.push(`${s.namespace}/${s.name}`);
        const got = await k.run(['get', 'secret', '-n', s.namespace, s.name, '-o', 'json']);
        expect(got.exitCode, got.stderr).toBe(0);
        expect(JSON.parse(got.stdout).type).toBe('Opaque');
      }
      for (const b of JSON.parse(j.env.KFC_BINDINGS) as string[]) {
        expect(r.stdout, j.user).toContain(`emptied RoleBinding ${b}: this Job keeps no right`);
        // the binding stays (a release resource Helm 4's --wait waits for), with no subject
        const rb = await k.run(['get', 'rolebinding', '-n', b.split('/')[0], b.split('/')[1], '-o', 'json']);
        expect(rb.exitCode, rb.stderr).toBe(0);
        expect(JSON.parse(rb.stdout).subjects ?? [], b).toEqual([]);
      }
      const after: Ask[] = j.roles.flatMap((role) => [
        { verb: 'create', resource: 'secrets', ns: role.namespace, allowed: false, why: 'after the Job' },
        { verb: 'get', resource: `secrets/${j.specs[0].name}`, ns: role.namespace, allowed: false, why: 'after the Job' },
        { verb: 'patch', resource: `rolebindings/${role.name}`, ns: role.namespace, allowed: false, why: 'after the Job' },
      ]);
      expect(await wrongAnswers(k, j.user, after)).toEqual([]);
    }
  }, 600_000);

  it('the gate account: get/patch exactly the webhook configurations, CRDs and workloads it names, nothing else', async () => {
    const user = `system:serviceaccount:${releaseNs}:${release}-gate`;
    const gate = objs.filter((o) => o.labels[LIFECYCLE_LABEL] === 'gate');
    const asks: Ask[] = [];
    const sample = (xs: string[]) => xs.filter((_, i) => i % Math.ceil(xs.length / 8) === 0);
    for (const rule of gate.find((o) => o.kind === 'ClusterRole')!.doc.rules as any[]) {
      const res: string = rule.resources[0];
      for (const n of sample(rule.resourceNames ?? [])) for (const v of rule.verbs) asks.push({ verb: v, resource: `${res}/${n}`, allowed: true, why: 'named in its ClusterRole' });
      asks.push({ verb: rule.verbs.includes('patch') ? 'patch' : 'get', resource: `${res}/kfc-not-ours`, allowed: false, why: 'not named' });
      asks.push({ verb: 'delete', resource: `${res}/${rule.resourceNames?.[0] ?? 'kfc-not-ours'}`, allowed: false, why: 'it never deletes' });
      asks.push({ verb: 'create', resource: res, allowed: false, why: 'it never creates' });
    }
    asks.push({ verb: 'list', resource: 'customresourcedefinitions', allowed: false, why: 'only named CRDs' });
    asks.push({ verb: 'create', resource: 'namespaces', allowed: false, why: 'no Namespace' });
    for (const role of gate.filter((o) => o.kind === 'Role')) {
      for (const rule of role.doc.rules as any[]) {
        for (const v of rule.verbs) {
          if (!rule.resourceNames) asks.push({ verb: v, resource: rule.resources[0], ns: role.namespace, allowed: true, why: 'pods of the workloads it restarts' });
          else for (const n of sample(rule.resourceNames)) asks.push({ verb: v, resource: `deployments/${n}`, ns: role.namespace, allowed: true, why: 'named in its Role' });
        }
      }
      asks.push({ verb: 'patch', resource: 'deployments/kfc-not-ours', ns: role.namespace, allowed: false, why: 'not named' });
      asks.push({ verb: 'delete', resource: `deployments/${role.doc.rules[0].resourceNames[0]}`, ns: role.namespace, allowed: false, why: 'it never deletes' });
      for (const verb of ['get', 'list', 'create']) asks.push({ verb, resource: 'secrets', ns: role.namespace, allowed: false, why: 'no Secrets' });
      asks.push({ verb: 'create', resource: 'pods', ns: role.namespace, allowed: false, why: 'no workloads of its own' });
    }
    asks.push({ verb: 'patch', resource: 'deployments/coredns', ns: 'kube-system', allowed: false, why: 'a namespace it has no Role in' });
    expect(asks.length).toBeGreaterThan(40);
    expect(await wrongAnswers(k, user, asks)).toEqual([]);
  }, 600_000);
});
