import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Tool } from './toolchain.js';
import { sha256, stableStringify, writeFileAtomic } from './util.js';

/**
 * A cache of `helm template` results shared by every process of one run, opt-in
 * with `KFC_RENDER_CACHE=<dir>` (the test suite points it at a directory of the
 * run). A render is keyed by the helm binary, its arguments, the content of its
 * values files and the build of the chart; it runs once: a process that needs a
 * render another process is making waits for it (a lock file per key), and at
 * most `KFC_RENDER_JOBS` (default: the CPUs) helm processes run at a time over
 * all processes (slot files). Failed renders are cached like good ones.
 */
export interface HelmResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function renderCacheDir(): string | undefined {
  return process.env.KFC_RENDER_CACHE || undefined;
}

/** How many helm renders may run at once over all processes sharing the cache. */
export function renderJobs(): number {
  const n = Number(process.env.KFC_RENDER_JOBS);
  return Number.isInteger(n) && n > 0 ? n : Math.max(1, os.availableParallelism());
}

const POLL_MS = 25;

/** What identifies the chart's build: its Chart.yaml and the build record beside it (rebuilt charts get new ones). */
function chartStamp(chartDir: string): string | undefined {
  const chartYaml = path.join(chartDir, 'Chart.yaml');
  if (!existsSync(chartYaml)) return undefined;
  const record = path.join(path.dirname(chartDir), '.kfc-build.json');
  const m = (f: string) => (existsSync(f) ? `${statSync(f).mtimeMs}:${statSync(f).size}` : '-');
  return `${path.resolve(chartDir)}|${m(chartYaml)}|${m(record)}`;
}

/** The cache key of a render, or undefined when it cannot be cached (no chart directory, unreadable values). */
export function renderKey(helm: Tool, args: string[], chartDir: string, valuesFiles: string[]): string | undefined {
  const chart = chartStamp(chartDir);
  if (!chart) return undefined;
  try {
    const values = valuesFiles.map((f) => sha256(readFileSync(f)));
    return sha256(stableStringify({ helm: [helm.path, helm.version], args, values, chart }));
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote `file` (its pid inside) is gone. */
function staleLock(file: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(file, 'utf8'));
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function tryLock(file: string): boolean {
  try {
    const fd = openSync(file, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    if (staleLock(file)) rmSync(file, { force: true });
    return false;
  }
}

/** Runs `f` holding one of the run's helm slots. */
async function withSlot<T>(dir: string, f: () => Promise<T>): Promise<T> {
  const slots = path.join(dir, 'slots');
  mkdirSync(slots, { recursive: true });
  const n = renderJobs();
  for (;;) {
    for (let i = 0; i < n; i++) {
      const slot = path.join(slots, String(i));
      if (!tryLock(slot)) continue;
      try {
        return await f();
      } finally {
        rmSync(slot, { force: true });
      }
    }
    await sleep(POLL_MS);
  }
}

function readEntry(dir: string, key: string): HelmResult | undefined {
  const meta = path.join(dir, `${key}.json`);
  if (!existsSync(meta)) return undefined;
  const m = JSON.parse(readFileSync(meta, 'utf8')) as { exitCode: number; stderr: string };
  return { ...m, stdout: readFileSync(path.join(dir, `${key}.out`), 'utf8') };
}

const inFlight = new Map<string, Promise<HelmResult>>();

/** `run()` (a helm template) through the cache when KFC_RENDER_CACHE is set; else `run()`. */
export function cachedRender(key: string | undefined, run: () => Promise<HelmResult>): Promise<HelmResult> {
  const dir = renderCacheDir();
  if (!dir || !key) return run();
  let p = inFlight.get(key);
  if (!p) {
    p = obtain(dir, key, run).finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}

async function obtain(dir: string, key: string, run: () => Promise<HelmResult>): Promise<HelmResult> {
  mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, `${key}.lock`);
  for (;;) {
    const done = readEntry(dir, key);
    if (done) return done;
    if (tryLock(lock)) {
      try {
        const again = readEntry(dir, key);
        if (again) return again;
        const r = await withSlot(dir, run);
        writeFileAtomic(path.join(dir, `${key}.out`), r.stdout);
        writeFileAtomic(path.join(dir, `${key}.json`), JSON.stringify({ exitCode: r.exitCode, stderr: r.stderr }));
        return r;
      } finally {
        rmSync(lock, { force: true });
      }
    }
    await sleep(POLL_MS);
  }
}
