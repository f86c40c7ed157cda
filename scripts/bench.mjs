#!/usr/bin/env zx
// Benchmark of the chart build, printed as ratios to `kubectl kustomize example`
// measured in the same run (speed targets live here, never in tests):
//   cold full build / kustomize example   target <= 2.5
//   no-change rebuild / cold full build   target <= 0.1
//   peak memory of the build              target <= 512 MiB
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';

$.verbose = false;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { findKustomize } = await import(path.join(root, 'packages/generator/dist/core/toolchain.js'));
const { resolveRelease } = await import(path.join(root, 'packages/generator/dist/upstream/release.js'));
const { cacheDir } = await import(path.join(root, 'packages/generator/dist/core/paths.js'));
const runs = Number(process.env.BENCH_RUNS ?? 3);
const cli = path.join(root, 'packages/generator/dist/cli.js');
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

const release = await resolveRelease();
const k = await findKustomize();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs a command; returns wall seconds and the peak RSS (KiB) of the process and its children. */
async function timed(cmd, args, env = {}) {
  const argv = gnuTime ? [gnuTime, '-f', 'KFC_MAXRSS=%M', cmd, ...args] : [cmd, ...args];
  const t0 = performance.now();
  const p = await $({ env: { ...process.env, ...env, KFC_STATS: '1' }, nothrow: true })`${argv}`;
  const secs = (performance.now() - t0) / 1000;
  if (p.exitCode !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${p.stderr}`);
  const rss = [...p.stderr.matchAll(/KFC_MAXRSS=(\d+)|"maxRssKiB":(\d+)/g)].map((m) => Number(m[1] ?? m[2]));
  return { secs, rssKiB: rss.length ? Math.max(...rss) : NaN };
}

// A private cache (the extracted tools are shared) so the cold build really is cold.
function freshCache() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-bench-cache-'));
  if (existsSync(path.join(cacheDir(), 'tools'))) symlinkSync(path.join(cacheDir(), 'tools'), path.join(dir, 'tools'));
  return dir;
}

const kustomize = [];
const cold = [];
const rebuild = [];
let peakKiB = 0;
for (let i = 0; i < runs; i++) {
  kustomize.push((await timed(k.path, [...k.args, path.join(release.dir, 'example')])).secs);
  const cache = freshCache();
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-bench-out-')), 'charts');
  const c = await timed('node', [cli, 'build', '--out', out], { KFC_CACHE_DIR: cache });
  cold.push(c.secs);
  peakKiB = Math.max(peakKiB, c.rssKiB);
  const r = await timed('node', [cli, 'build', '--out', out], { KFC_CACHE_DIR: cache });
  rebuild.push(r.secs);
  rmSync(cache, { recursive: true, force: true });
  rmSync(path.dirname(out), { recursive: true, force: true });
}
const turbo = await timed(path.join(root, 'node_modules/.bin/turbo'), ['run', 'charts', '--output-logs=none']);
const turbo2 = await timed(path.join(root, 'node_modules/.bin/turbo'), ['run', 'charts', '--output-logs=none']);

const kx = median(kustomize);
const cb = median(cold);
const rb = median(rebuild);
const row = (label, secs, ratio, target) => console.log(`${label.padEnd(38)}${secs.toFixed(2).padStart(7)} s${ratio === undefined ? '' : `   ratio ${ratio.toFixed(3).padStart(6)}x  (target <= ${target}x) ${ratio <= target ? 'ok' : 'OVER'}`}`);
console.log(`bench: ${release.tag}, ${k.version} (${k.source}), ${os.availableParallelism()} CPUs, median of ${runs}`);
row('kubectl kustomize example', kx);
row('cold full build', cb, cb / kx, 2.5);
row('no-change rebuild (kfc build)', rb, rb / cb, 0.1);
row('no-change rebuild (turbo run charts)', turbo2.secs, turbo2.secs / cb, 0.1);
const mib = peakKiB / 1024;
console.log(`${'peak memory (build, incl. kustomize)'.padEnd(38)}${mib.toFixed(0).padStart(7)} MiB  (target <= 512 MiB) ${mib <= 512 ? 'ok' : 'OVER'}${gnuTime ? '' : ' [node process only: /usr/bin/time missing]'}`);
void turbo;
