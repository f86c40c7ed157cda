#!/usr/bin/env node
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isKfcError } from '@kubeflow-charts/generator/core/errors';
import { repoRoot } from '@kubeflow-charts/generator/core/paths';
import { readCtConfig } from './config.js';
import { EXIT, install, lint, lintAndInstall, type Status } from './ct.js';

const USAGE = `kfc-ct: chart-testing for the generated charts (npm run ct -- <command>)

Usage:
  kfc-ct lint              [--config FILE] [--chart-dirs DIR]... [--offline] [-- CT_ARGS]
  kfc-ct install           [--config FILE] [--charts DIR]...     [-- CT_ARGS]
  kfc-ct lint-and-install  [--config FILE] [--chart-dirs DIR]... [--charts DIR]... [-- CT_ARGS]

With ct on PATH (or $CT_BIN) it runs \`ct <command> --config ct.yaml\`; install
needs a reachable cluster too and installs the umbrella chart. Without ct, lint
runs the same checks offline (helm lint --strict on helm 4 and 3 per ci values
file, yamllint with ct's rules, Chart.yaml against ct's chart schema,
maintainer/version rules as ct.yaml sets them).

Exit status: 0 passed, 1 failed, 2 usage, 3 skipped (install could not run:
it prints "skipped: <reason>"; a skipped install is not a pass).
`;

async function main(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const ctArgs = dash < 0 ? [] : argv.slice(dash + 1);
  const { values, positionals } = parseArgs({
    args: own,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      'chart-dirs': { type: 'string', multiple: true },
      charts: { type: 'string', multiple: true },
      offline: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [cmd, ...extra] = positionals;
  if (values.help || !cmd || extra.length) {
    process.stdout.write(USAGE);
    return values.help ? 0 : EXIT.usage;
  }
  const cfg = readCtConfig(path.resolve(values.config ?? path.join(repoRoot(), 'ct.yaml')));
  if (values['chart-dirs']?.length) cfg.chartDirs = values['chart-dirs'].map((d) => path.resolve(d));
  const o = { cfg, offline: values.offline, installCharts: values.charts, ctArgs };
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(isKfcError(e) ? `kfc-ct: ${e.format()}\n` : `kfc-ct: unexpected error: ${(e as Error)?.stack ?? e}\n`);
    process.exit(EXIT.failed);
  },
);
