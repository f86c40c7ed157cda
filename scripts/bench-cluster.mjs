#!/usr/bin/env node
// The control plane's numbers, measured in one run (part of `npm run bench`):
//   control plane start, warm (binaries built)         target <= 60 s
//   helm install --wait of the umbrella (defaults, Helm 4)
//   helm upgrade --wait from the previous release's umbrella (CRDs applied first, as the README says)
// Each on a fresh control plane in a temporary data directory.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { up, down, kubectlBin, ensureBuilt } = await import(path.join(root, 'packages/cluster/dist/index.js'));
const { findHelm } = await import(path.join(root, 'packages/generator/dist/core/toolchain.js'));
const { cacheDir } = await import(path.join(root, 'packages/generator/dist/core/paths.js'));
const { readLock } = await import(path.join(root, 'packages/generator/dist/upstream/release.js'));
const { chartVersion, compareVersions } = await import(path.join(root, 'packages/generator/dist/upstream/version.js'));

const secs = (t0) => (performance.now() - t0) / 1000;
const helm = (await findHelm(4)).path;
const charts = path.join(root, 'charts');
const umbrella = path.join(charts, 'kubeflow');
const install = ['--namespace', 'kubeflow-charts', '--create-namespace', '--wait', '--timeout', '20m'];

ensureBuilt();
async function withCluster(f) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-bench-cluster-'));
  const t0 = performance.now();
  const { state } = await up(() => {}, dir);
  const start = secs(t0);
  const env = { ...process.env, KUBECONFIG: state.kubeconfig, PATH: `${path.dirname(kubectlBin())}:${process.env.PATH}` };
  const run = (cmd, args, input) => execFileSync(cmd, args, { env, input, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30, encoding: 'utf8' });
  try {
    return { start, ...(await f(run)) };
  } finally {
    await down(dir);
  }
}

const fresh = await withCluster(async (run) => {
  const t0 = performance.now();
  run(helm, ['install', 'kubeflow', umbrella, ...install]);
  return { install: secs(t0) };
});

// the previous release: the highest one below the pin whose charts the tests built (test/releases.ts)
const pinned = readLock(path.join(root, 'upstream.lock.json')).tag;
const built = existsSync(path.join(cacheDir(), 'test-charts')) ? readdirSync(path.join(cacheDir(), 'test-charts')) : [];
const below = built.filter((t) => compareVersions(chartVersion(t, 0), chartVersion(pinned, 0)) < 0).sort((a, b) => compareVersions(chartVersion(a, 0), chartVersion(b, 0)));
const previous = process.env.BENCH_PREVIOUS ?? below.at(-1);
let upgrade;
if (previous) {
  const old = path.join(cacheDir(), 'test-charts', previous, 'kubeflow');
  upgrade = await withCluster(async (run) => {
    run(helm, ['install', 'kubeflow', old, ...install]);
    const notes = run(helm, ['get', 'notes', 'kubeflow', '-n', 'kubeflow-charts']);
    const line = /for c in ([\w\s-]+); do helm show crds/.exec(notes);
    const t0 = performance.now();
    for (const c of (line?.[1] ?? '').trim().split(/\s+/).filter(Boolean)) {
      const crds = run(helm, ['show', 'crds', path.join(charts, c)]);
      if (crds.trim()) run(kubectlBin(), ['apply', '--server-side', '--force-conflicts', '-f', '-'], crds);
    }
    run(helm, ['upgrade', 'kubeflow', umbrella, '--namespace', 'kubeflow-charts', '--reset-then-reuse-values', '--wait', '--timeout', '20m']);
    return { upgrade: secs(t0) };
  });
}

const row = (what, v, target) => console.log(`${what.padEnd(62)} ${v.toFixed(1).padStart(7)} s${target ? `   target <= ${target} s: ${v <= target ? 'ok' : 'OVER'}` : ''}`);
row('control plane start (warm)', fresh.start, 60);
row('helm install --wait, umbrella defaults (Helm 4)', fresh.install);
if (upgrade) row(`helm upgrade --wait ${previous} -> ${pinned} (CRDs applied first)`, upgrade.upgrade);
else console.log(`helm upgrade: no earlier release's charts under ${path.join(cacheDir(), 'test-charts')} (npm test builds them; or set BENCH_PREVIOUS)`);
