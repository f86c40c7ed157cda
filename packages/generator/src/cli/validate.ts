import { Option } from 'commander';
import { defineCommand, repeatable } from '../core/command-line.js';

export const validateCommand = defineCommand({
  name: 'validate <chart>',
  summary: "check values files against a chart's values.schema.json",
  description: `Check values files, merged as Helm merges them, against <chart>'s values.schema.json. <chart> is
a chart directory or a chart name in charts/; for the umbrella, each component's keys are checked
against its own chart. Every problem names the values path, the file setting it, what the schema
expects and, for an unknown key, the closest known key.`,
  options: [repeatable('-f, --values <file>', 'values file (repeatable; at least one)').makeOptionMandatory(), new Option('--charts <dir>', 'where chart names are looked up (default: charts/)')],
  examples: [
    ['validate kubeflow -f my-values.yaml', 'check values for the umbrella'],
    ['validate charts/katib -f a.yaml -f b.yaml', 'two files, merged, against one chart'],
  ],
  exitCodes: [
    [0, 'the values are valid'],
    [1, 'the values are not (each problem listed), or a file or the chart could not be read'],
  ],
  run: async (chart: string, o: { values: string[]; charts?: string }) => {
    const { runValidate } = await import('../commands/validate.js');
    return runValidate({ chart, values: o.values, charts: o.charts }, process.stdout);
  },
});
