import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { KfcError } from '@kubeflow-charts/generator/core/errors';

/** What the wrapper reads of ct.yaml; ct reads the file itself for everything else. */
export interface CtConfig {
  /** the ct.yaml file */
  file: string;
  /** directories holding chart directories, resolved against ct.yaml's directory */
  chartDirs: string[];
  /** yamllint configuration set in ct.yaml (default: ct's own etc/lintconf.yaml) */
  lintConf?: string;
  /** Chart.yaml schema set in ct.yaml (default: ct's own etc/chart_schema.yaml) */
  chartYamlSchema?: string;
}

/** The options chart-testing v3.14 reads from its configuration file (its flags and config keys). */
const KNOWN = new Set([
  'additional-commands',
  'all',
  'build-id',
  'chart-dirs',
  'chart-repos',
  'chart-yaml-schema',
  'charts',
  'check-version-increment',
  'debug',
  'exclude-deprecated',
  'excluded-charts',
  'github-groups',
  'helm-dependency-extra-args',
  'helm-extra-args',
  'helm-extra-set-args',
  'helm-lint-extra-args',
  'helm-repo-extra-args',
  'kubectl-timeout',
  'lint-conf',
  'namespace',
  'print-logs',
  'release-label',
  'release-name',
  'remote',
  'since',
  'skip-clean-up',
  'skip-helm-dependencies',
  'skip-missing-values',
  'target-branch',
  'upgrade',
  'use-helmignore',
  'validate-chart-schema',
  'validate-maintainers',
  'validate-yaml',
]);

/** Reads ct.yaml; an unknown key is an error (ct would ignore a misspelt option silently). */
export function readCtConfig(file: string): CtConfig {
  if (!existsSync(file)) throw new KfcError(`no chart-testing configuration at ${file}`, 'run from the repository, or pass --config FILE');
  let raw: Record<string, unknown>;
  try {
    raw = YAML.parse(readFileSync(file, 'utf8')) ?? {};
  } catch (e) {
    throw new KfcError(`${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`, 'fix ct.yaml');
  }
  for (const k of Object.keys(raw)) if (!KNOWN.has(k)) throw new KfcError(`${file}: unknown chart-testing option "${k}"`, 'see `ct lint --help` and `ct install --help` for the option names');
  const dir = path.dirname(path.resolve(file));
  const v = raw['chart-dirs'] ?? ['charts'];
  const dirs =
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : v;
  if (!Array.isArray(dirs) || dirs.some((x) => typeof x !== 'string')) throw new KfcError(`${file}: chart-dirs must be a list of strings`, 'fix ct.yaml');
  const pathOf = (k: string) => {
    if (raw[k] === undefined) return undefined;
    const p = path.resolve(dir, String(raw[k]));
    if (!existsSync(p)) throw new KfcError(`${file}: ${k} names ${p}, which does not exist`, `fix it, or remove ${k} to use ct's own`);
    return p;
  };
  return {
    file: path.resolve(file),
    chartDirs: (dirs as string[]).map((d) => path.resolve(dir, d)),
    lintConf: pathOf('lint-conf'),
    chartYamlSchema: pathOf('chart-yaml-schema'),
  };
}
