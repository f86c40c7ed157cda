import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { execa } from 'execa';
import YAML from 'yaml';
import { findHelm, onPath, type Tool } from '@kubeflow-charts/generator/core/toolchain';
import { pool } from '@kubeflow-charts/generator/core/util';
import { chartSchemaFile, type CtConfig } from './config.js';

/** The outcome of one check of one chart. `skipped` never counts as passed. */
export interface CheckResult {
  chart: string;
  check: string;
  status: 'passed' | 'failed' | 'skipped';
  /** what failed, or why it was skipped */
  detail?: string;
}

/** The chart directories ct would process: every chart under chart-dirs (all: true), minus excluded-charts. */
export function chartDirs(cfg: CtConfig): string[] {
  const out: string[] = [];
  for (const d of cfg.chartDirs) {
    if (!existsSync(d)) continue;
    for (const e of readdirSync(d, { withFileTypes: true }))
      if (e.isDirectory() && existsSync(path.join(d, e.name, 'Chart.yaml')) && !cfg.excludedCharts.includes(e.name)) out.push(path.join(d, e.name));
  }
  return out.sort();
}

/** ct lints with each `ci/*-values.yaml`; a chart without any is linted with its defaults. */
export function ciValuesFiles(chartDir: string): string[] {
  const ci = path.join(chartDir, 'ci');
  return existsSync(ci) ? readdirSync(ci).filter((f) => f.endsWith('-values.yaml')).sort().map((f) => path.join(ci, f)) : [];
}

let chartValidator: ReturnType<Ajv['compile']> | undefined;

/** Chart.yaml against ct's chart schema (our JSON Schema restatement), through ajv. */
export function checkChartYaml(chartDir: string): string[] {
  chartValidator ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(JSON.parse(readFileSync(chartSchemaFile(), 'utf8')));
  let doc: unknown;
  try {
    doc = YAML.parse(readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8'));
  } catch (e) {
    return [`Chart.yaml is not valid YAML: ${(e as Error).message.split('\n')[0]}`];
  }
  if (chartValidator(doc)) return [];
  return (chartValidator.errors ?? []).map((e) => {
    const at = e.instancePath.slice(1).replace(/\//g, '.') || '(top)';
    return e.keyword === 'additionalProperties' ? `${at}: key "${(e.params as { additionalProperty: string }).additionalProperty}" is not allowed by ct's chart schema` : `${at}: ${e.message}`;
  });
}

/** ct's maintainer rules, as far as they can be checked offline (account names need the network). */
export function checkMaintainers(chartDir: string): string[] {
  const doc = YAML.parse(readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8')) ?? {};
  const maintainers: Array<{ name?: string }> = doc.maintainers ?? [];
  if (doc.deprecated) return maintainers.length ? ['a deprecated chart must not have maintainers'] : [];
  if (!maintainers.length) return ['the chart has no maintainers'];
  return maintainers.filter((m) => !m?.name).map(() => 'a maintainer has no name');
}

export interface OfflineLintOptions {
  helms?: Tool[];
  concurrency?: number;
  /** report progress */
  onResult?: (r: CheckResult) => void;
}

/**
 * `ct lint` without ct: for every chart, the checks ct.yaml enables, with
 * real tools: Chart.yaml against ct's chart schema (ajv), yamllint with ct's
 * rules on Chart.yaml, values.yaml and the ci files, the maintainer and
 * version rules as ct.yaml sets them, and `helm lint --strict` with each ci
 * values file on every given helm (default: helm 4 and helm 3).
 */
export async function lintOffline(cfg: CtConfig, opts: OfflineLintOptions = {}): Promise<CheckResult[]> {
  const charts = chartDirs(cfg);
  const results: CheckResult[] = [];
  const add = (r: CheckResult) => {
    results.push(r);
    opts.onResult?.(r);
  };
  if (!charts.length) {
    add({ chart: '(none)', check: 'charts', status: 'failed', detail: `no chart directories under ${cfg.chartDirs.join(', ')}: run \`npm run build\` first` });
    return results;
  }
  for (const dir of charts) {
    const chart = path.basename(dir);
    if (cfg.validateChartSchema) {
      const errs = checkChartYaml(dir);
      add({ chart, check: "Chart.yaml against ct's chart schema", status: errs.length ? 'failed' : 'passed', detail: errs.join('\n') || undefined });
    }
    if (cfg.validateMaintainers) {
      const errs = checkMaintainers(dir);
      add({ chart, check: 'maintainers', status: errs.length ? 'failed' : 'passed', detail: errs.length ? errs.join('\n') : 'account names are not checked offline (they need the network)' });
    }
    if (cfg.checkVersionIncrement)
      add({ chart, check: `version increment against ${cfg.targetBranch}`, status: 'skipped', detail: `charts are build output, not in git: there is no version on ${cfg.targetBranch} to compare with (set check-version-increment: false in ct.yaml)` });
  }
  if (cfg.validateYaml) for (const r of await yamllint(cfg, charts)) add(r);
  const helms = opts.helms ?? [await findHelm(4), await findHelm(3)];
  const runs = charts.flatMap((dir) => {
    const files = ciValuesFiles(dir);
    return helms.flatMap((helm) => (files.length ? files : [undefined]).map((file) => ({ dir, helm, file })));
  });
  const lints = await pool(runs, opts.concurrency ?? 4, async ({ dir, helm, file }) => {
    const args = ['lint', '--strict', dir, ...(file ? ['--values', file] : [])];
    const res = await execa(helm.path, args, { reject: false, all: true });
    const check = `helm lint --strict (${helm.version})${file ? ` -f ci/${path.basename(file)}` : ''}`;
    return { chart: path.basename(dir), check, status: res.exitCode === 0 ? 'passed' : 'failed', detail: res.exitCode === 0 ? undefined : res.all } as CheckResult;
  });
  for (const r of lints) add(r);
  return results;
}

/** yamllint with our restatement of ct's rules, on the files ct lints: Chart.yaml, values.yaml, ci values. */
async function yamllint(cfg: CtConfig, charts: string[]): Promise<CheckResult[]> {
  const bin = process.env.YAMLLINT_BIN ?? onPath('yamllint');
  if (!bin) return charts.map((dir) => ({ chart: path.basename(dir), check: 'yamllint', status: 'failed', detail: 'yamllint is not installed: `apt-get install yamllint` (as .ci/run does) or `pip install yamllint`' }));
  const files = new Map<string, string>();
  for (const dir of charts) for (const f of [path.join(dir, 'Chart.yaml'), path.join(dir, 'values.yaml'), ...ciValuesFiles(dir)]) if (existsSync(f)) files.set(f, path.basename(dir));
  const res = await execa(bin, ['-f', 'parsable', '-c', cfg.lintConf, ...files.keys()], { reject: false });
  const problems = new Map<string, string[]>();
  for (const line of res.stdout.split('\n').filter(Boolean)) {
    const file = [...files.keys()].find((f) => line.startsWith(`${f}:`));
    const chart = file ? files.get(file)! : '(yamllint)';
    problems.set(chart, [...(problems.get(chart) ?? []), file ? path.relative(path.dirname(path.dirname(file)), line) : line]);
  }
  if (res.exitCode !== 0 && !problems.size) problems.set('(yamllint)', [res.stderr || `yamllint exited with ${res.exitCode}`]);
  const failed = (lines: string[]) => lines.some((l) => /\[error\]/.test(l)) || res.exitCode !== 0;
  const names = [...new Set([...charts.map((d) => path.basename(d)), ...problems.keys()])];
  return names.map((chart) => {
    const p = problems.get(chart) ?? [];
    const status = p.length && failed(p) && p.some((l) => /\[error\]/.test(l) || chart === '(yamllint)') ? 'failed' : 'passed';
    return { chart, check: "yamllint with ct's rules", status, detail: p.join('\n') || undefined };
  });
}
