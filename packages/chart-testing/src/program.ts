import path from 'node:path';
import { type Command, Option } from 'commander';
import { defineCommand, program, repeatable, UsageError } from '@kubeflow-charts/generator/core/command-line';
import { repoRoot } from '@kubeflow-charts/generator/core/paths';
import { readCtConfig } from './config.js';
import { EXIT, install, lint, lintAndInstall, type RunOptions, type Status } from './ct.js';

interface CtFlags {
  config?: string;
  chartDirs?: string[];
  charts?: string[];
  set?: string[];
  helm?: string;
}

const EXIT_CODES: Array<[number, string]> = [
  [EXIT.passed, 'passed'],
  [EXIT.failed, 'failed'],
  [EXIT.skipped, 'skipped: ct could not run, or install found no reachable cluster; it prints "skipped: <reason>" and is not a pass'],
];

const configOption = () => new Option('--config <file>', 'chart-testing configuration (default: ct.yaml)');
const chartDirsOption = () => repeatable('--chart-dirs <dir>', "lint the charts in this directory instead of ct.yaml's chart-dirs (repeatable)");
const chartsOption = () => repeatable('--charts <dir>', 'install this chart (repeatable; default: the umbrella)');
const helmOption = () => new Option('--helm <major>', 'the Helm major version ct runs').choices(['3', '4']).default('4');
const setOption = () => repeatable('--set <key=value>', "a value of the installed release (ct's --helm-extra-set-args; repeatable), e.g. tests.enabled=false");

function step(ctArgs: string[], name: string, summary: string, description: string, options: Option[], examples: Array<[string, string]>, run: (o: RunOptions) => Promise<Status>) {
  return defineCommand({
    name,
    summary,
    description: `${description}\n\nArguments after -- go to ct unchanged.`,
    options,
    examples,
    exitCodes: EXIT_CODES,
    run: async (f: CtFlags) => {
      // ct splits --helm-extra-set-args at whitespace
      const bad = (f.set ?? []).find((x) => !/^[^=\s]+=\S*$/.test(x));
      if (bad !== undefined) throw new UsageError(`--set ${JSON.stringify(bad)}: expected KEY=VALUE without whitespace`);
      const cfg = readCtConfig(path.resolve(f.config ?? path.join(repoRoot(), 'ct.yaml')));
      if (f.chartDirs?.length) cfg.chartDirs = f.chartDirs.map((d) => path.resolve(d));
      return EXIT[await run({ cfg, installCharts: f.charts, set: f.set, helm: f.helm === '3' ? 3 : 4, ctArgs })];
    },
  });
}

const LINT = `Runs the real chart-testing ($CT_BIN, else ct built from the Go module proxy at its pin) as ct lint --config ct.yaml, on copies of the charts, with ct's own lint rules and Chart.yaml schema, the pinned helm (--helm) and kubectl, and yamllint/yamale from PyPI.`;
const INSTALL = `Runs ct install of the umbrella chart (it orders the components) staged with its sibling charts and its first ci values file; needs a reachable cluster (KUBECONFIG), else prints "skipped: <reason>" and exits 3. --set values go to that release.`;

/** The kfc-ct program; `ctArgs` (what followed `--`) go to ct unchanged. */
export function ctProgram(ctArgs: string[] = []): Command {
  const lintExamples: Array<[string, string]> = [
    ['lint', 'ct lint with ct.yaml'],
    ['lint --helm 3 --chart-dirs /tmp/charts', 'other charts, with Helm 3'],
  ];
  const installExamples: Array<[string, string]> = [
    ['install', 'ct install of the umbrella on the current cluster'],
    ['install --set tests.enabled=false', 'without helm test (where no image runs, e.g. the local control plane)'],
    ['install -- --helm-extra-args "--timeout 25m"', 'with arguments for ct'],
  ];
  return program('kfc-ct', 'chart-testing for the generated charts (npm run ct -- <command>)', [
    step(ctArgs, 'lint', 'lint every chart with the real ct lint', LINT, [configOption(), chartDirsOption(), helmOption()], lintExamples, lint),
    step(ctArgs, 'install', 'install the umbrella chart with ct install (needs a cluster)', INSTALL, [configOption(), chartsOption(), setOption(), helmOption()], installExamples, install),
    step(
      ctArgs,
      'lint-and-install',
      'lint, then install',
      `${LINT}\n\n${INSTALL}`,
      [configOption(), chartDirsOption(), chartsOption(), setOption(), helmOption()],
      [['lint-and-install', 'both steps, as the lint-test workflow does']],
      lintAndInstall,
    ),
  ]);
}
