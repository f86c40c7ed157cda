import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { KfcError } from '@kubeflow-charts/generator/core/errors';

/** The options of ct.yaml the wrapper reads (ct's own names, kebab-case, in ct.yaml). */
export interface CtConfig {
  /** the ct.yaml file */
  file: string;
  /** directories holding chart directories, resolved against ct.yaml's directory */
  chartDirs: string[];
  all: boolean;
  targetBranch: string;
  checkVersionIncrement: boolean;
  validateMaintainers: boolean;
  validateChartSchema: boolean;
  validateYaml: boolean;
  helmExtraArgs: string[];
  /** yamllint configuration (ours, restating ct's defaults) */
  lintConf: string;
  excludedCharts: string[];
}

/** This package's directory (config/ holds the restated ct rules). */
export function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
}

/** Where our restatement of ct's Chart.yaml schema lives (JSON Schema). */
export function chartSchemaFile(): string {
  return path.join(packageRoot(), 'config', 'chart-schema.json');
}

const KNOWN = new Set(['chart-dirs', 'all', 'target-branch', 'check-version-increment', 'validate-maintainers', 'validate-chart-schema', 'validate-yaml', 'helm-extra-args', 'lint-conf', 'excluded-charts', 'charts', 'remote', 'namespace', 'release-label', 'debug', 'upgrade', 'skip-missing-values', 'build-id', 'chart-repos', 'helm-repo-extra-args', 'since', 'helm-lint-extra-args', 'kubectl-timeout', 'print-logs', 'skip-clean-up', 'github-groups', 'use-helmignore', 'chart-yaml-schema', 'additional-commands', 'exclude-deprecated', 'helm-dependency-extra-args']);

/** Reads ct.yaml; an unknown key is an error (ct would ignore a misspelt option silently). */
export function readCtConfig(file: string): CtConfig {
  if (!existsSync(file)) throw new KfcError(`no chart-testing configuration at ${file}`, 'run from the repository, or pass --config FILE');
  let raw: Record<string, unknown>;
  try {
    raw = YAML.parse(readFileSync(file, 'utf8')) ?? {};
  } catch (e) {
    throw new KfcError(`${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`, 'fix ct.yaml');
  }
  for (const k of Object.keys(raw)) if (!KNOWN.has(k)) throw new KfcError(`${file}: unknown chart-testing option "${k}"`, 'see `ct lint --help` for the option names');
  const dir = path.dirname(path.resolve(file));
  const bool = (k: string, d: boolean) => {
    const v = raw[k];
    if (v === undefined) return d;
    if (typeof v !== 'boolean') throw new KfcError(`${file}: ${k} must be true or false, not ${JSON.stringify(v)}`, 'fix ct.yaml');
    return v;
  };
  const list = (k: string, d: string[]) => {
    const v = raw[k];
    if (v === undefined) return d;
    if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new KfcError(`${file}: ${k} must be a list of strings`, 'fix ct.yaml');
    return v as string[];
  };
  const str = (k: string, d: string) => (raw[k] === undefined ? d : String(raw[k]));
  return {
    file: path.resolve(file),
    chartDirs: list('chart-dirs', ['charts']).map((d) => path.resolve(dir, d)),
    all: bool('all', false),
    targetBranch: str('target-branch', 'master'),
    checkVersionIncrement: bool('check-version-increment', true),
    validateMaintainers: bool('validate-maintainers', true),
    validateChartSchema: bool('validate-chart-schema', true),
    validateYaml: bool('validate-yaml', true),
    helmExtraArgs: str('helm-extra-args', '').split(/\s+/).filter(Boolean),
    lintConf: raw['lint-conf'] === undefined ? path.join(packageRoot(), 'config', 'lintconf.yaml') : path.resolve(dir, String(raw['lint-conf'])),
    excludedCharts: list('excluded-charts', []),
  };
}
