#!/usr/bin/env node
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isKfcError } from '@kubeflow-charts/generator/core/errors';
import { repoRoot } from '@kubeflow-charts/generator/core/paths';
import { readCtConfig } from './config.js';
import { EXIT, install, lint, lintAndInstall, type Status } from './ct.js';

const USAGE = `kfc-ct: chart-testing for the generated charts (npm run ct -- <command>)

Usage:
  kfc-ct lint              [--config FILE] [--chart-dirs DIR]... [--helm 3|4] [-- CT_ARGS]
  kfc-ct install           [--config FILE] [--charts DIR]... [--set KEY=VALUE]... [--helm 3|4] [-- CT_ARGS]
  kfc-ct lint-and-install  [--config FILE] [--chart-dirs DIR]... [--charts DIR]... [--set KEY=VALUE]... [--helm 3|4] [-- CT_ARGS]

Runs the real chart-testing (\$CT_BIN, else ct built from the Go module proxy at
its pin) with ct.yaml, ct's own lint rules and Chart.yaml schema, the pinned
helm (--helm, default 4) and kubectl, and yamllint/yamale from PyPI. lint lints
copies of every chart; install needs a reachable cluster (KUBECONFIG) and
installs the umbrella chart with its first ci values file; --set values go to
that release (ct's --helm-extra-set-args).

Exit status: 0 passed, 1 failed, 2 usage, 3 skipped (ct could not run, or
install found no cluster: it prints "skipped: <reason>"; a skip is not a pass).
`;

const parse = (args: string[]) =>
  parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      'chart-dirs': { type: 'string', multiple: true },
      charts: { type: 'string', multiple: true },
      set: { type: 'string', multiple: true },
      helm: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });

async function main(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const ctArgs = dash < 0 ? [] : argv.slice(dash + 1);
  let parsed;
  try {
    parsed = parse(own);
  } catch (e) {
    process.stderr.write(`kfc-ct: ${(e as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const [cmd, ...extra] = positionals;
  if (values.help || !cmd || extra.length) {
    process.stdout.write(USAGE);
    return values.help ? 0 : EXIT.usage;
  }
  const usage = usageError(cmd, values.set ?? [], values.helm, values.charts ?? []);
  if (usage) {
    process.stderr.write(`kfc-ct: ${usage}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const cfg = readCtConfig(path.resolve(values.config ?? path.join(repoRoot(), 'ct.yaml')));
  if (values['chart-dirs']?.length) cfg.chartDirs = values['chart-dirs'].map((d) => path.resolve(d));
  const o = { cfg, installCharts: values.charts, set: values.set, helm: values.helm === '3' ? (3 as const) : (4 as const), ctArgs };
  let status: Status;
  switch (cmd) {
    case 'lint':
      status = await lint(o);
      break;
    case 'install':
      status = await install(o);
      break;
    case 'lint-and-install':
      status = await lintAndInstall(o);
      break;
    default:
      process.stderr.write(`kfc-ct: unknown command "${cmd}"\n\n${USAGE}`);
      return EXIT.usage;
  }
  return EXIT[status];
}

/** Flags that cannot be honoured: --set/--charts on lint, values ct would split, a Helm other than 3 or 4. */
function usageError(cmd: string, set: string[], helm: string | undefined, charts: string[]): string | undefined {
  if (helm !== undefined && helm !== '3' && helm !== '4') return `--helm must be 3 or 4, not "${helm}"`;
  if ((set.length || charts.length) && cmd === 'lint') return `${set.length ? '--set' : '--charts'} applies to install (and lint-and-install), not lint`;
  const bad = set.find((s) => !/^[^=\s]+=\S*$/.test(s));
  if (bad !== undefined) return `--set ${JSON.stringify(bad)}: expected KEY=VALUE without whitespace (ct splits --helm-extra-set-args at whitespace)`;
  return undefined;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(isKfcError(e) ? `kfc-ct: ${e.format()}\n` : `kfc-ct: unexpected error: ${(e as Error)?.stack ?? e}\n`);
    process.exit(EXIT.failed);
  },
);
