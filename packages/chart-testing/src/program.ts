import path from 'node:path';
import { type Command, Option } from 'commander';
import { defineCommand, program, repeatable } from '@kubeflow-charts/generator/core/command-line';
import { repoRoot } from '@kubeflow-charts/generator/core/paths';
import { readCtConfig } from './config.js';
import { EXIT, install, lint, lintAndInstall, type RunOptions, type Status } from './ct.js';

interface CtFlags {
  config?: string;
  chartDirs?: string[];
  charts?: string[];
  offline?: boolean;
}

const EXIT_CODES: Array<[number, string]> = [
  [EXIT.passed, 'passed'],
  [EXIT.failed, 'failed'],
  [EXIT.skipped, 'skipped: install could not run (no ct or no reachable cluster); it prints "skipped: <reason>" and is not a pass'],
];

const configOption = () => new Option('--config <file>', 'chart-testing configuration (default: ct.yaml)');
const chartDirsOption = () => repeatable('--chart-dirs <dir>', 'lint the charts in this directory instead of ct.yaml\'s chart-dirs (repeatable)');
const chartsOption = () => repeatable('--charts <dir>', 'install this chart (repeatable; default: the umbrella)');
const offlineOption = () => new Option('--offline', 'run the offline checks even when ct is on PATH');

function step(ctArgs: string[], name: string, summary: string, description: string, options: Option[], examples: Array<[string, string]>, run: (o: RunOptions) => Promise<Status>) {
  return defineCommand({
    name,
    summary,
    description: `${description}\n\nArguments after -- go to ct unchanged.`,
    options,
    examples,
    exitCodes: EXIT_CODES,
    run: async (f: CtFlags) => {
      const cfg = readCtConfig(path.resolve(f.config ?? path.join(repoRoot(), 'ct.yaml')));
      if (f.chartDirs?.length) cfg.chartDirs = f.chartDirs.map((d) => path.resolve(d));
      return EXIT[await run({ cfg, offline: f.offline, installCharts: f.charts, ctArgs })];
    },
  });
}

const LINT = `With ct on PATH (or $CT_BIN) runs ct lint --config ct.yaml. Without ct, runs the same checks offline with real tools: helm lint --strict on helm 4 and 3 per ci values file, yamllint with ct's rules, Chart.yaml against ct's chart schema, and the maintainer/version rules as ct.yaml sets them.`;
const INSTALL = `Runs ct install of the umbrella chart (it orders the components) with its default ci values; needs ct and a reachable cluster, else prints "skipped: <reason>" and exits 3.`;

/** The kfc-ct program; `ctArgs` (what followed `--`) go to ct unchanged. */
export function ctProgram(ctArgs: string[] = []): Command {
  const lintExamples: Array<[string, string]> = [
    ['lint', 'ct lint with ct.yaml, or offline without ct'],
    ['lint --offline --chart-dirs /tmp/charts', 'the offline checks on other charts'],
  ];
  const installExamples: Array<[string, string]> = [
    ['install', 'ct install of the umbrella on the current cluster'],
    ['install -- --helm-extra-args "--timeout 25m"', 'with arguments for ct'],
  ];
  return program('kfc-ct', 'chart-testing for the generated charts (npm run ct -- <command>)', [
    step(ctArgs, 'lint', 'lint every chart (ct lint, or the same checks offline)', LINT, [configOption(), chartDirsOption(), offlineOption()], lintExamples, lint),
    step(ctArgs, 'install', 'install the umbrella chart with ct install (needs ct and a cluster)', INSTALL, [configOption(), chartsOption()], installExamples, install),
    step(ctArgs, 'lint-and-install', 'lint, then install', `${LINT}\n\n${INSTALL}`, [configOption(), chartDirsOption(), chartsOption(), offlineOption()], [['lint-and-install', 'both steps, as the lint-test workflow does']], lintAndInstall),
  ]);
}
