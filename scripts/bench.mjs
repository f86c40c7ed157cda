#!/usr/bin/env zx
// The project's speed and memory targets, each printed with its ratio, measured in one run
// (targets live here, never in tests):
//   npm test wall time                                  target <= 600 s (control plane warm)
//   cold chart build / `kubectl kustomize example`      target <= 1.5x (both with the pinned kubectl)
//   helm template umbrella (defaults) / static chart    target <= 1.5x (CPU time; wall time printed too)
//   peak memory of the build (process tree)             target <= 512 MiB
//
//   no-change rebuild / cold chart build               target <= 0.1x
//
// npm test: the bench reads the wall time the last full `npm test` recorded (vitest's run,
// global setup included: .cache/kfc/last-full-test-run.json, written by test/timing-reporter.ts;
// else the last partial run, marked so); `--run-tests` runs `npm test` first. BENCH_RUNS (default 3) sets the repetitions (medians are printed).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (m) => import(path.join(root, 'packages/generator/dist', m));
const { pinnedBinary, findHelm } = await dist('core/toolchain.js');
const { resolveRelease } = await dist('upstream/release.js');
const { cacheDir } = await dist('core/paths.js');
const { splitObjects } = await dist('core/model.js');
const { escapeBraces } = await dist('templatize/template-doc.js');
const runs = Number(process.env.BENCH_RUNS ?? 3);
const cli = path.join(root, 'packages/generator/dist/cli.js');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kubectl = pinnedBinary('v35', 'kubectl');

/** Sums the resident memory (KiB) of `pid` and its descendants, from /proc. */
function treeRssKiB(pid) {
  const children = new Map();
  const rss = new Map();
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(f[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(p));
      rss.set(Number(p), (Number(f[21]) * 4096) / 1024);
    } catch {
      /* gone */
    }
  }
  let total = 0;
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop();
    total += rss.get(p) ?? 0;
    todo.push(...(children.get(p) ?? []));
  }
  return total;
}

/** Runs a command; wall seconds, CPU seconds of it and its children, peak RSS of its process tree (sampled). */
function timed(cmd, args, env = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    let peak = 0;
    const sampler = existsSync('/proc') ? setInterval(() => (peak = Math.max(peak, treeRssKiB(child.pid))), 20) : undefined;
    child.on('close', (code) => {
      clearInterval(sampler);
      const secs = (performance.now() - t0) / 1000;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} failed (${code}):\n${stderr}`));
      resolve({ secs, peakKiB: peak });
    });
  });
}

/** CPU seconds (user + system) of a command and its children, via bash's `times`. */
function cpuOf(cmd, args) {
  const out = execFileSync('bash', ['-c', '"$@" > /dev/null; times', 'bench', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const [, children] = out.trim().split('\n');
  const secs = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return secs[0] + secs[1];
}

// A private cache (the extracted tools are shared) so that the cold build really is cold.
function freshCache() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-bench-cache-'));
  if (existsSync(path.join(cacheDir(), 'tools'))) symlinkSync(path.join(cacheDir(), 'tools'), path.join(dir, 'tools'));
  return dir;
}

/** A chart holding the umbrella's default render as static templates (CRDs in crds/). */
function staticChart(rendered) {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-bench-static-')), 'static');
  mkdirSync(path.join(dir, 'templates'), { recursive: true });
  mkdirSync(path.join(dir, 'crds'));
  writeFileSync(path.join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: static\nversion: 0.1.0\n');
  splitObjects(rendered, 'umbrella').forEach((o, i) => {
    const crd = o.kind === 'CustomResourceDefinition';
    writeFileSync(path.join(dir, crd ? 'crds' : 'templates', `${String(i).padStart(4, '0')}.yaml`), crd ? o.raw : escapeBraces(o.raw));
  });
  return dir;
}

function row(label, value, unit, ratio, target) {
  const v = `${value.toFixed(unit === 'MiB' ? 0 : 2).padStart(8)} ${unit}`;
  const r = ratio === undefined ? '' : `   ratio ${ratio.toFixed(2).padStart(5)}x  (target <= ${target}x) ${ratio <= target ? 'ok' : 'OVER'}`;
  console.log(`${label.padEnd(44)}${v}${r}`);
}
function limitRow(label, value, unit, limit) {
  console.log(`${label.padEnd(44)}${value.toFixed(unit === 'MiB' ? 0 : 1).padStart(8)} ${unit}   target <= ${limit} ${unit} ${value <= limit ? 'ok' : 'OVER'}`);
}

// 1. npm test
if (process.argv.includes('--run-tests')) execFileSync('npm', ['test'], { cwd: root, stdio: 'inherit' });
const testRecord = ['last-full-test-run.json', 'last-test-run.json'].map((f) => path.join(cacheDir(), f)).find((f) => existsSync(f));

// 2. cold build against kubectl kustomize example, pinned kubectl for both
const release = await resolveRelease();
const kustomize = [];
const cold = [];
const rebuild = [];
let peakKiB = 0;
for (let i = 0; i < runs; i++) {
  kustomize.push((await timed(kubectl, ['kustomize', path.join(release.dir, 'example')])).secs);
  const cache = freshCache();
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-bench-out-')), 'charts');
  const c = await timed('node', [cli, 'build', '--out', out], { KFC_CACHE_DIR: cache, KUBECTL_BIN: kubectl, KUSTOMIZE_BIN: '' });
  cold.push(c.secs);
  peakKiB = Math.max(peakKiB, c.peakKiB);
  rebuild.push((await timed('node', [cli, 'build', '--out', out], { KFC_CACHE_DIR: cache, KUBECTL_BIN: kubectl, KUSTOMIZE_BIN: '' })).secs);
  rmSync(cache, { recursive: true, force: true });
  rmSync(path.dirname(out), { recursive: true, force: true });
}

// 3. helm template of the umbrella with defaults against a static chart with the same objects
const helm = await findHelm(4);
const umbrella = path.join(root, 'charts', 'kubeflow');
if (!existsSync(path.join(umbrella, 'Chart.yaml'))) throw new Error('no charts/kubeflow: run `npm run build` first');
const args = (chart) => ['template', 'kubeflow', chart, '--namespace', 'kubeflow', '--include-crds'];
const rendered = execFileSync(helm.path, args(umbrella), { encoding: 'utf8', maxBuffer: 1 << 30 });
const stat = staticChart(rendered);
const same = execFileSync(helm.path, args(stat), { encoding: 'utf8', maxBuffer: 1 << 30 });
if (splitObjects(same, 'static').length !== splitObjects(rendered, 'umbrella').length) throw new Error('the static chart does not render the same objects');
const cpu = { umbrella: [], static: [] };
const wall = { umbrella: [], static: [] };
for (let i = 0; i < Math.max(5, runs); i++) {
  for (const [k, chart] of [
    ['umbrella', umbrella],
    ['static', stat],
  ]) {
    cpu[k].push(cpuOf(helm.path, args(chart)));
    wall[k].push((await timed(helm.path, args(chart))).secs);
  }
}
rmSync(path.dirname(stat), { recursive: true, force: true });

console.log(`bench: ${release.tag}, ${os.availableParallelism()} CPUs, load ${os.loadavg()[0].toFixed(1)}, median of ${runs} (helm template: of ${cpu.umbrella.length}), ${helm.version}, kubectl ${path.relative(root, kubectl)}`);
if (testRecord) {
  const t = JSON.parse(readFileSync(testRecord, 'utf8'));
  const what = `npm test (${t.full ? 'full suite' : `${t.files} files only`}, ${t.finishedAt}, ${t.cpus} CPUs)`;
  limitRow(what, t.wallSeconds, 's', 600);
  if (!t.full) console.log('  (not a full run: run `npm test`, or `npm run bench -- --run-tests`)');
} else console.log('npm test: no run recorded in .cache/kfc/last-test-run.json (run `npm test`, or `npm run bench -- --run-tests`)');
const kx = median(kustomize);
const cb = median(cold);
row('kubectl kustomize example (pinned kubectl)', kx, 's');
row('cold chart build (kfc build, fresh cache)', cb, 's', cb / kx, 1.5);
row('no-change rebuild / cold build', median(rebuild), 's', median(rebuild) / cb, 0.1);
const uc = median(cpu.umbrella);
const sc = median(cpu.static);
row('helm template static chart, CPU', sc, 's');
row('helm template umbrella (defaults), CPU', uc, 's', uc / sc, 1.5);
row('helm template static chart, wall', median(wall.static), 's');
row('helm template umbrella (defaults), wall', median(wall.umbrella), 's', median(wall.umbrella) / median(wall.static), 1.5);
limitRow('peak memory of the build (process tree)', peakKiB / 1024, 'MiB', 512);

// the control plane's numbers (start, install, upgrade): scripts/bench-cluster.mjs
if (!process.env.BENCH_NO_CLUSTER) execFileSync(process.execPath, [path.join(root, 'scripts/bench-cluster.mjs')], { stdio: 'inherit' });
