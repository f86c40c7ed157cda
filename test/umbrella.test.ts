import { spawnSync } from 'node:child_process';
import { execa } from 'execa';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { helmRun } from '../packages/generator/src/core/helm.js';
import { parseYaml, splitObjects } from '../packages/generator/src/core/model.js';
import { TIERS } from '../packages/generator/src/order/tiers.js';
import { plan } from '../packages/generator/src/commands/plan.js';
import { buildRepo } from '../packages/generator/src/commands/repo.js';
import { planSummary } from '../packages/generator/src/order/sequence.js';
import { findHelm } from '../packages/generator/src/core/toolchain.js';
import { repoRoot } from '../packages/generator/src/core/paths.js';
import { ciFiles } from './helpers.js';
import { chartsFor, PINNED, UPGRADES, versionOf } from './releases.js';
import { render, renderResult } from './renders.js';
import { readYaml } from './helpers.js';
import { renderJobs } from '../packages/generator/src/core/render-cache.js';
import { pool } from '../packages/generator/src/core/util.js';

const umbrellaOf = (tag: string) => path.join(chartsFor(tag), 'kubeflow');

/** The stored release as Helm keeps it in its Secret: gzip, then base64, of the release JSON. */
async function releaseRecordBytes(chart: string, valuesFiles: string[]): Promise<number> {
  const res = await helmRun(['install', 'kubeflow', chart, '--dry-run=client', '-o', 'json', '--namespace', 'kubeflow-charts', ...valuesFiles.flatMap((f) => ['-f', f])]);
  if (res.exitCode !== 0) throw new Error(res.stderr);
  const { gzipSync } = await import('node:zlib');
  return gzipSync(Buffer.from(JSON.stringify(JSON.parse(res.stdout)))).toString('base64').length;
}

/** The rendered manifest with one object's text changed (the change must happen). */
function edit(rendered: string, which: (o: { kind: string; name: string }) => boolean, change: (raw: string) => string): string {
  let hit = 0;
  const out = splitObjects(rendered, 'rendered')
    .map((o) => {
      if (!which(o)) return o.raw;
      const raw = change(o.raw);
      if (raw !== o.raw) hit++;
      return raw;
    })
    .join('---\n');
  if (!hit) throw new Error('the edit changed nothing');
  return out;
}

/** The script of a rendered gate Job. */
function jobScript(rendered: string, name: string): string {
  const job = splitObjects(rendered, 'umbrella').find((o) => o.kind === 'Job' && o.name.endsWith(name));
  if (!job) throw new Error(`no job ${name}`);
  return parseYaml(job.raw).spec.template.spec.containers[0].args[0];
}

/** Runs a gate script with a fake kubectl that answers from `state` and records what it was asked. */
function runWithFakeKubectl(script: string, responder: string): { status: number | null; out: string; calls: string[] } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-fake-kubectl-'));
  const log = path.join(dir, 'calls.log');
  writeFileSync(path.join(dir, 'kubectl'), `#!/bin/sh\necho "$*" >> ${log}\n${responder}\n`);
  chmodSync(path.join(dir, 'kubectl'), 0o755);
  const r = spawnSync('sh', ['-ec', script], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, TIMEOUT: '5s' }, encoding: 'utf8' });
  let calls: string[] = [];
  try {
    calls = readFileSync(log, 'utf8').trim().split('\n');
  } catch {
    /* no calls */
  }
  return { status: r.status, out: r.stdout + r.stderr, calls };
}

describe(`umbrella chart kubeflow, ${PINNED}`, () => {
  const tag = PINNED;
  const chart = umbrellaOf(tag);

  it('the plan passes for defaults and every ci values file on Helm 3, Helm 4 and Argo CD', async () => {
    const files = ciFiles(chart);
    expect(files.length).toBeGreaterThan(0);
    const results = await pool([undefined, ...files], renderJobs(), async (f) => ({ f, r: await plan({ chart, values: f ? [f] : [] }) }));
    for (const { f, r } of results) {
      expect(r.violations, `${f ?? 'defaults'}:\n${r.text}`).toEqual([]);
      expect(r.text).toMatch(/OK: \d+ objects, every dependency rule holds on helm3, helm4, argocd/);
    }
    expect(results).toHaveLength(files.length + 1);
  });

  it('the stored release stays under 256 KiB, with defaults and with every component', async () => {
    const all = ciFiles(chart).find((f) => f.endsWith('all-components-values.yaml'))!;
    const defaults = await releaseRecordBytes(chart, []);
    const everything = await releaseRecordBytes(chart, [all]);
    console.log(`${tag} release record (gzip+base64 of the release JSON): defaults ${(defaults / 1024).toFixed(1)} KiB, all components ${(everything / 1024).toFixed(1)} KiB`);
    expect(defaults).toBeLessThanOrEqual(256 * 1024);
    expect(everything).toBeLessThanOrEqual(256 * 1024);
    expect(everything).toBeGreaterThan(defaults);
    // CRDs never sit in the umbrella's own files
    for (const f of readdirSync(chart)) expect(f).not.toBe('crds');
    const own = readdirSync(path.join(chart, 'templates'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    for (const f of own) expect(readFileSync(path.join(f.parentPath, f.name), 'utf8')).not.toContain('kind: CustomResourceDefinition');
  });

  it('rendered like Argo CD, every object carries a wave of the tier table; big CRDs server-side apply', async () => {
    const objs = (await render(chart, { extraArgs: ['--kube-version', '1.33.0', '--api-versions', 'argoproj.io/v1alpha1'] })).objects;
    const waves = new Set(TIERS.map((_t, i) => String(i)));
    let bigCrds = 0;
    for (const o of objs) {
      const meta = o.kind === 'CustomResourceDefinition' ? parseYaml(o.raw.split('\nspec:')[0]).metadata : parseYaml(o.raw).metadata;
      const a = meta.annotations ?? {};
      if ((a['helm.sh/hook'] || a['argocd.argoproj.io/hook'] === 'Skip') && !a['argocd.argoproj.io/sync-wave']) {
        // the umbrella's own lifecycle objects: Argo CD skips them; tests it ignores
        expect(['Skip', undefined], `${o.key}`).toContain(a['argocd.argoproj.io/hook']);
        continue;
      }
      expect(waves.has(a['argocd.argoproj.io/sync-wave']), `${o.key} wave ${a['argocd.argoproj.io/sync-wave']}`).toBe(true);
      if (o.kind === 'CustomResourceDefinition') {
        expect(a['argocd.argoproj.io/sync-wave']).toBe('0');
        expect(a['helm.sh/resource-policy']).toBe('keep');
        if (Buffer.byteLength(o.raw) > 256 * 1024) {
          bigCrds++;
          expect(a['argocd.argoproj.io/sync-options']).toContain('ServerSideApply=true');
        }
      }
    }
    expect(bigCrds).toBeGreaterThan(0);
  });

  it('uninstall loses no data; webhook configurations are release resources Helm deletes itself', async () => {
    const objs = (await render(chart)).objects.map((o) => ({ o, meta: o.kind === 'CustomResourceDefinition' ? parseYaml(o.raw.split('\nspec:')[0]).metadata : parseYaml(o.raw).metadata }));
    const keep = (kind: string) => {
      const of = objs.filter((x) => x.o.kind === kind);
      expect(of.length, kind).toBeGreaterThan(0);
      return of.every((x) => x.meta.annotations?.['helm.sh/resource-policy'] === 'keep');
    };
    expect(keep('CustomResourceDefinition')).toBe(true);
    expect(keep('PersistentVolumeClaim')).toBe(true);
    expect(objs.find((x) => x.o.kind === 'Namespace' && x.o.name === 'kubeflow')?.meta.annotations?.['helm.sh/resource-policy']).toBe('keep');
    const webhooks = objs.filter((x) => x.o.kind.endsWith('WebhookConfiguration'));
    expect(webhooks.length).toBeGreaterThan(0);
    for (const w of webhooks) {
      expect(w.meta.annotations?.['helm.sh/hook'], w.o.name).toBeUndefined();
      expect(w.meta.annotations?.['helm.sh/resource-policy'], w.o.name).toBeUndefined();
    }
    expect(objs.some((x) => x.o.kind === 'Job' && x.meta.annotations?.['helm.sh/hook'] === 'pre-delete')).toBe(false);
  });

  it('global.imageRegistry and global.imagePullSecrets reach every workload of every component', async () => {
    const set = ['global.imageRegistry=mirror.example.com', 'global.imagePullSecrets[0].name=regcred'];
    const workloads = (await render(chart, { set })).objects.filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'].includes(o.kind));
    // every workload of the default render (a secrets Job's name carries a hash of its inputs, global.* among them: a new Job for new values)
    const unhashed = (k: string) => k.replace(/-secrets-[0-9a-f]{8}$/, '-secrets-<hash>');
    expect(workloads.map((w) => unhashed(w.key))).toEqual((await render(chart)).objects.filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'].includes(o.kind)).map((o) => unhashed(o.key)));
    expect(workloads.length).toBeGreaterThan(0);
    for (const w of workloads) {
      const d = parseYaml(w.raw);
      const pod = w.kind === 'CronJob' ? d.spec.jobTemplate.spec.template.spec : d.spec.template.spec;
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) expect(c.image, `${w.key} ${c.name}`).toMatch(/^mirror\.example\.com\//);
      expect(pod.imagePullSecrets, w.key).toContainEqual({ name: 'regcred' });
    }
  });

  it('NOTES say how to reach the dashboard and watch readiness; helm test checks dashboard and auth', async () => {
    const res = await helmRun(['install', 'kubeflow', chart, '--dry-run=client', '--namespace', 'kubeflow-charts']);
    expect(res.stdout).toContain('kubectl port-forward -n istio-system svc/istio-ingressgateway 8080:80');
    expect(res.stdout).toContain('helm test kubeflow');
    expect(res.stdout).toMatch(/kubectl wait --for=condition=Available/);
    const tests = (await render(chart)).objects.filter((o) => /helm.sh\/hook: test/.test(o.raw) && o.kind === 'Pod');
    expect(tests.map((t) => t.name)).toEqual(['kubeflow-test']);
    for (const c of ['centraldashboard', 'dex', 'istio', 'oauth2-proxy']) expect(tests[0].raw).toContain(`echo "== ${c}"`);
  });
});

describe('ordering checks', () => {
  const chart = umbrellaOf(PINNED);

  it('a deliberately broken ordering fails, naming the objects', async () => {
    const out = (await render(chart)).text;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-broken-'));
    const write = (name: string, text: string) => {
      const f = path.join(dir, name);
      writeFileSync(f, text);
      return f;
    };
    // 1. KServe's runtime validator fails closed at install: Helm 4 registers it before the runtimes.
    const unhooked = edit(
      out,
      (o) => o.kind === 'ValidatingWebhookConfiguration' && o.name === 'clusterservingruntime.serving.kserve.io',
      (raw) => raw.replace(/ {4}kubeflow-charts\.io\/install-failure-policy: .*\n/, ''),
    );
    let r = await plan({ rendered: write('unhooked.yaml', unhooked), values: [] });
    expect(r.violations.some((v) => v.engine === 'helm4' && /ClusterServingRuntime kserve-\S+ is admitted by ValidatingWebhookConfiguration clusterservingruntime\.serving\.kserve\.io/.test(v.message))).toBe(true);
    // 2. Argo CD: a workload of an injected namespace in istiod's wave.
    const early = edit(
      out,
      (o) => o.kind === 'Deployment' && o.name === 'centraldashboard',
      (raw) => raw.replace(/argocd\.argoproj\.io\/sync-wave: "\d+"/, 'argocd.argoproj.io/sync-wave: "4"'),
    );
    r = await plan({ rendered: write('early.yaml', early), values: [], engines: ['argocd'] });
    expect(r.violations.map((v) => v.message)).toContain(
      'Deployment kubeflow/centraldashboard runs in a sidecar-injected namespace but may start before Deployment istio-system/istiod serves istio-sidecar-injector, and nothing restarts it',
    );
    // 3. Helm without the sidecar gate: every injected workload is named.
    const noRestart = out.replace(/\n {10}restart (\S+) (deployment|statefulset|daemonset) .*/g, '');
    r = await plan({ rendered: write('no-restart.yaml', noRestart), values: [], engines: ['helm3'] });
    expect(r.violations.some((v) => v.rule === 'sidecar-after-istiod' && v.message.startsWith('Deployment kubeflow/ml-pipeline '))).toBe(true);
    // the CLI exits non-zero
    const cli = spawnSync(process.execPath, [path.join(repoRoot(), 'packages/generator/dist/cli.js'), 'plan', '--rendered', path.join(dir, 'early.yaml'), '--engine', 'argocd'], { encoding: 'utf8' });
    expect(cli.stdout).toContain('Deployment kubeflow/centraldashboard runs in a sidecar-injected namespace');
    expect(cli.status).toBe(1);
    rmSync(dir, { recursive: true, force: true });
  });

  it('docs/ordering.md carries exactly what the plan command prints as summary', () => {
    const doc = readFileSync(path.join(repoRoot(), 'docs', 'ordering.md'), 'utf8');
    const block = /<!-- plan-summary:start -->\n```\n([\s\S]*?)\n```\n<!-- plan-summary:end -->/.exec(doc)?.[1];
    expect(block).toBe(planSummary());
  });

  it('the gate restarts only workloads whose pods lack the sidecar (fake kubectl)', async () => {
    const script = jobScript((await render(chart)).text, 'gate-sidecars');
    // ml-pipeline's pod has no istio-proxy; every other pod has one
    const r = runWithFakeKubectl(script, `case "$*" in *"--ignore-not-found -o name"*) echo found ;; *"get pods -l app=ml-pipeline,"*) printf 'ml-pipeline-1:ml-pipeline ;' ;; *"get pods"*) printf 'x:app istio-proxy;' ;; esac`);
    expect(r.status).toBe(0);
    const restarts = r.calls.filter((c) => c.includes('rollout restart'));
    expect(restarts).toEqual(['-n kubeflow rollout restart deployment/ml-pipeline']);
  });
});

describe.each(UPGRADES)('CRD upgrades (%s -> %s), as far as they can be tested offline', (from, to) => {
  it('helm show crds carries every CRD of the new charts; the pre-upgrade check refuses stale CRDs until they are applied', async () => {
    const helm = await findHelm();
    const show = (tag: string) => {
      const r = spawnSync(helm.path, ['show', 'crds', umbrellaOf(tag)], { encoding: 'utf8', maxBuffer: 1 << 30 });
      return splitObjects(r.stdout, 'helm show crds');
    };
    const before = new Map(show(from).map((o) => [o.name, o.raw]));
    const after = show(to);
    const fromCharts = readdirSync(chartsFor(to)).flatMap((c) => {
      try {
        return readdirSync(path.join(chartsFor(to), c, 'crds')).length ? [c] : [];
      } catch {
        return [];
      }
    });
    expect(fromCharts.length).toBeGreaterThan(0);
    const [vFrom, vTo] = [versionOf(from), versionOf(to)];
    for (const o of after) expect(o.raw).toContain(`kubeflow-charts.io/version: "${vTo}"`);
    const added = after.filter((o) => !before.has(o.name)).map((o) => o.name);
    const changed = after.filter((o) => before.has(o.name) && before.get(o.name)!.replaceAll(`"${vFrom}"`, `"${vTo}"`) !== o.raw).map((o) => o.name);
    console.log(`CRDs ${from} -> ${to}: ${after.length} in the new charts, ${added.length} added, ${changed.length} changed`);
    expect(added.length + changed.length).toBeGreaterThan(0);

    // The pre-upgrade check, run against a fake cluster holding the old CRDs, then the new ones.
    const script = jobScript((await render(umbrellaOf(to))).text, 'crd-check');
    const installed = (version: string) => `case "$*" in *"get crd"*) echo "${version}" ;; esac`;
    const stale = runWithFakeKubectl(script, installed(vFrom));
    expect(stale.status).not.toBe(0);
    expect(stale.out).toContain(`(${vFrom})`);
    expect(stale.out).toMatch(/CRDs are not those of this chart version: \S+\(/);
    expect(stale.out).toContain(`helm show crds <this chart> --version ${vTo} | kubectl apply --server-side --force-conflicts -f -`);
    const current = runWithFakeKubectl(script, installed(vTo));
    expect(current.out).toContain('CRDs are current');
    expect(current.status).toBe(0);
    // it checks every CRD of the enabled charts (those in their crds/; variant-only CRDs are templates), and no other
    const checked = [...script.matchAll(/^check (\S+) /gm)].map((m) => m[1]).sort();
    const enabled = Object.entries<any>(readYaml(path.join(umbrellaOf(to), 'values.yaml')))
      .filter(([, v]) => v?.enabled === true)
      .map(([k]) => k);
    const shipped = enabled.flatMap((c) => {
      const dir = path.join(chartsFor(to), c, 'crds');
      return existsSync(dir) ? readdirSync(dir).flatMap((f) => splitObjects(readFileSync(path.join(dir, f), 'utf8'), f).map((o) => o.name)) : [];
    });
    expect(shipped.length).toBeGreaterThan(0);
    expect(checked).toEqual(shipped.sort());
  });
});

describe('chart repository', () => {
  it('the packaged umbrella resolves its dependencies from the repository', async () => {
    const { serveDir } = await import('./fixtures.js');
    const server = await serveDir(mkdtempSync(path.join(os.tmpdir(), 'kfc-repo-')));
    try {
      const repo = buildRepo({ charts: chartsFor(PINNED), out: server.root, url: server.url, created: '2026-01-01T00:00:00Z' });
      const index = parseYaml(readFileSync(path.join(repo.dir, 'index.yaml'), 'utf8'));
      expect(Object.keys(index.entries)).toContain('kubeflow');
      expect(index.entries.kubeflow[0].dependencies.every((d: any) => d.repository === server.url)).toBe(true);
      const home = mkdtempSync(path.join(os.tmpdir(), 'kfc-helm-home-'));
      const env = {
        HELM_REPOSITORY_CONFIG: path.join(home, 'repos.yaml'),
        HELM_REPOSITORY_CACHE: path.join(home, 'cache'),
        HELM_CACHE_HOME: path.join(home, 'c'),
        HELM_CONFIG_HOME: path.join(home, 'cfg'),
        HELM_DATA_HOME: path.join(home, 'd'),
      };
      const helm = (await findHelm()).path;
      // asynchronously: the repository is served by this process
      const run = async (...args: string[]) => {
        const r = await execa(helm, args, { env, cwd: home, reject: false });
        expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0);
        return r.stdout;
      };
      await run('repo', 'add', 'kubeflow-charts', server.url);
      await run('pull', 'kubeflow-charts/kubeflow', '--untar');
      rmSync(path.join(home, 'kubeflow', 'charts'), { recursive: true, force: true });
      mkdirSync(path.join(home, 'kubeflow', 'charts'));
      await run('dependency', 'update', 'kubeflow');
      expect(readdirSync(path.join(home, 'kubeflow', 'charts')).length).toBe(index.entries.kubeflow[0].dependencies.length);
      const rendered = await run('template', 'kubeflow', 'kubeflow-charts/kubeflow');
      // exactly what the local chart renders
      const local = await renderResult(umbrellaOf(PINNED), { release: 'kubeflow', namespace: 'default', crds: false });
      expect(local.exitCode).toBe(0);
      expect(rendered === local.stdout, 'the repository umbrella renders like the local one').toBe(true);
      expect(server.hits.some((h) => h.endsWith('.tgz'))).toBe(true);
      // packages are reproducible
      const again = buildRepo({ charts: chartsFor(PINNED), out: path.join(home, 'again'), url: server.url, created: '2026-01-01T00:00:00Z' });
      expect(readFileSync(path.join(again.dir, 'index.yaml'), 'utf8')).toBe(readFileSync(path.join(repo.dir, 'index.yaml'), 'utf8'));
      expect(gunzipSync(readFileSync(path.join(repo.dir, `katib-${versionOf(PINNED)}.tgz`))).length).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });
});
