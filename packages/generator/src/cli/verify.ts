import { Option } from 'commander';
import { defineCommand, repeatable } from '../core/command-line.js';
import { consoleLogger } from '../core/log.js';
import { releaseOptions, resolveOptions, type ReleaseFlags } from './release-options.js';

export const verifyCommand = defineCommand({
  name: 'verify',
  summary: 'prove every chart and variant renders what kustomize build renders, as a table',
  description: `Render every chart with every variant (helm template, global.devMode) and compare it with
upstream's kustomize build of the same release; feature scenarios are checked against their
expectations. Prints one row per chart and variant.`,
  options: [...releaseOptions(), new Option('--charts <dir>', 'the built charts (default: charts/)'), repeatable('--chart <name>', 'only this chart (repeatable)')],
  examples: [
    ['verify', 'every chart of charts/ against the pinned release'],
    ['verify --chart katib --chart pipelines', 'two charts only'],
  ],
  exitCodes: [
    [0, 'every row matches'],
    [1, 'a row differs or could not be rendered (the table says which)'],
  ],
  run: async (o: ReleaseFlags & { charts?: string; chart?: string[] }) => {
    const { verify, printReport } = await import('../verify/verify.js');
    const report = await verify({ ...resolveOptions(o), logger: consoleLogger, charts: o.charts, only: o.chart });
    printReport(report, process.stdout);
    return report.ok ? 0 : 1;
  },
});
