import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { UMBRELLA } from '@kubeflow-charts/generator/core/chart-model';
import { cacheDir } from '@kubeflow-charts/generator/core/paths';
import { onPath, pinnedBinary } from '@kubeflow-charts/generator/core/toolchain';
import type { CtConfig } from './config.js';
import { lintOffline, type CheckResult } from './offline.js';

/**
 * Exit status of the wrapper: 0 passed, 1 failed, 3 skipped (install could
 * not run: no ct or no reachable cluster). A skipped install never counts as
 * passed, so CI that needs the install must treat 3 as a failure (`npm run ct`
 * does: only 0 is success).
 */
export const EXIT = { passed: 0, failed: 1, usage: 2, skipped: 3 } as const;

export type Status = 'passed' | 'failed' | 'skipped';

export interface RunOptions {
  cfg: CtConfig;
  /** run the offline lint even when ct exists */
  offline?: boolean;
  /** charts `install` installs (default: the umbrella of the first chart dir) */
  installCharts?: string[];
  /** extra arguments passed to ct */
  ctArgs?: string[];
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

/** `ct` from $CT_BIN or PATH, or undefined. */
export function findCt(): string | undefined {
  return process.env.CT_BIN || onPath('ct');
}

function kubectlBin(): string {
  return process.env.KUBECTL_BIN || onPath('kubectl') || pinnedBinary('v35', 'kubectl');
}

/** Whether a Kubernetes cluster answers (`kubectl get --raw /readyz`), with the reason when not. */
export async function clusterReachable(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const kubectl = kubectlBin();
  const r = await execa(kubectl, ['get', '--raw', '/readyz', '--request-timeout=10s'], { reject: false, timeout: 30_000 });
  if (r.exitCode === 0) return { ok: true };
  const why = (r.stderr || r.stdout || r.shortMessage || '').trim().split('\n').pop();
  return { ok: false, reason: `no reachable Kubernetes cluster (${path.basename(kubectl)} get --raw /readyz: ${why})` };
}

async function runCt(ct: string, args: string[], o: RunOptions): Promise<Status> {
  const argv = [...args, '--config', o.cfg.file, ...(o.ctArgs ?? [])];
  (o.err ?? process.stderr).write(`$ ${ct} ${argv.join(' ')}\n`);
  const r = await execa(ct, argv, { cwd: path.dirname(o.cfg.file), reject: false, stdout: 'inherit', stderr: 'inherit' });
  return r.exitCode === 0 ? 'passed' : 'failed';
}

function printResults(results: CheckResult[], out: NodeJS.WritableStream): Status {
  const failed = results.filter((r) => r.status === 'failed');
  const skipped = results.filter((r) => r.status === 'skipped');
  for (const r of [...failed, ...skipped]) out.write(`${r.status === 'failed' ? 'FAILED ' : 'skipped:'} ${r.chart}: ${r.check}${r.detail ? `\n${r.detail.replace(/^/gm, '    ')}` : ''}\n`);
  const charts = new Set(results.map((r) => r.chart)).size;
  out.write(`ct lint (offline): ${charts} charts, ${results.length} checks: ${results.length - failed.length - skipped.length} ok, ${failed.length} failing, ${skipped.length} skipped\n`);
  return failed.length ? 'failed' : 'passed';
}

/** `lint`: real `ct lint --config ct.yaml` when ct exists, else the offline lint. */
export async function lint(o: RunOptions): Promise<Status> {
  const ct = o.offline ? undefined : findCt();
  if (ct) return runCt(ct, ['lint'], o);
  const out = o.out ?? process.stdout;
  out.write(`ct not found${o.offline ? ' (--offline)' : ''}: linting offline with helm, yamllint and ct's chart schema\n`);
  return printResults(await lintOffline(o.cfg), out);
}

/**
 * What `install` hands to ct: the umbrella chart (it installs every component
 * in order; component charts alone depend on each other's CRDs and webhooks),
 * staged with its sibling charts (its dependencies resolve from file://../<name>)
 * and with only its first ci values file. ct installs a chart once per ci
 * file, and objects Helm keeps on uninstall (CRDs, Namespaces with volumes,
 * the user Profile) would make every later install fail on ownership; the
 * other ci files are linted, schema-checked and rendered against Kubernetes
 * schemas in `npm test`.
 */
export function installTargets(o: RunOptions): string[] {
  if (o.installCharts?.length) return o.installCharts.map((c) => path.resolve(c));
  const parent = o.cfg.chartDirs.find((d) => existsSync(path.join(d, UMBRELLA, 'Chart.yaml')));
  if (!parent) return [];
  const stage = path.join(cacheDir(), 'ct-install');
  rmSync(stage, { recursive: true, force: true });
  cpSync(parent, stage, { recursive: true });
  const ci = path.join(stage, UMBRELLA, 'ci');
  const files = existsSync(ci) ? readdirSync(ci).filter((f) => f.endsWith('-values.yaml')).sort() : [];
  for (const f of files.slice(1)) rmSync(path.join(ci, f));
  return [path.join(stage, UMBRELLA)];
}

/**
 * `install`: real `ct install` of the umbrella chart (component charts depend
 * on each other's CRDs and webhooks; the umbrella orders them). Without ct or
 * without a reachable cluster it prints `skipped: <reason>` and reports
 * `skipped`, never `passed`.
 */
export async function install(o: RunOptions): Promise<Status> {
  const out = o.out ?? process.stdout;
  const ct = findCt();
  if (!ct) {
    out.write('skipped: ct is not installed (install runs in the GitHub workflow, on kind)\n');
    return 'skipped';
  }
  const cluster = await clusterReachable();
  if (!cluster.ok) {
    out.write(`skipped: ${cluster.reason}\n`);
    return 'skipped';
  }
  const charts = installTargets(o);
  if (!charts.length) {
    out.write(`FAILED: no ${UMBRELLA} chart under ${o.cfg.chartDirs.join(', ')}: run \`npm run build\` first\n`);
    return 'failed';
  }
  // --all=false: ct.yaml's `all: true` would otherwise win over --charts
  return runCt(ct, ['install', '--all=false', '--charts', charts.join(',')], o);
}

/** `lint-and-install`: lint every chart, then install; failed wins over skipped, skipped over passed. */
export async function lintAndInstall(o: RunOptions): Promise<Status> {
  const l = await lint(o);
  if (l === 'failed') return 'failed';
  return install(o);
}
