import { Option } from 'commander';
import { defineCommand, EXIT_OK } from '../core/command-line.js';

export const previousCommand = defineCommand({
  name: 'previous',
  summary: "print the highest version in a published index below the built chart's (empty: none)",
  description: `Print the version an upgrade test starts from: the highest version of the chart in a
repository index.yaml below the version just built. Prints nothing when there is none.`,
  options: [new Option('--index <file>', 'the published index.yaml').makeOptionMandatory(), new Option('--chart <name>', 'the chart (default: kubeflow)'), new Option('--charts <dir>', 'the built charts (default: charts/)')],
  examples: [['previous --index published-index.yaml', 'the version the lint-test workflow upgrades from']],
  exitCodes: [
    [0, 'printed the version, or nothing when the index has no earlier one'],
    [1, 'the index or the built Chart.yaml could not be read'],
  ],
  run: async (o: { index: string; chart?: string; charts?: string }) => {
    const { previousVersion } = await import('../commands/previous.js');
    const v = previousVersion({ index: o.index, chart: o.chart, charts: o.charts });
    if (v) process.stdout.write(`${v}\n`);
    return EXIT_OK;
  },
});
