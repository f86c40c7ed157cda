import { Option } from 'commander';
import { defineCommand, EXIT_OK, repeatable } from '../core/command-line.js';

export const imagesCommand = defineCommand({
  name: 'images',
  summary: 'list every image a values file deploys (for mirroring)',
  description: `Render the chart (default charts/kubeflow) with the values given and print every image
reference it deploys, one per line, sorted: pod containers and the references upstream keeps in
env, args, custom resources and ConfigMaps. global.imageRegistry applies.`,
  options: [new Option('--chart <dir>', 'chart directory (default: charts/kubeflow)'), repeatable('-f, --values <file>', 'values file (repeatable)'), repeatable('--set <key=value>', 'set a value (repeatable)')],
  examples: [
    ['images -f my-values.yaml', 'what to mirror for these values'],
    ['images --set pipelines.enabled=false', 'without Pipelines'],
  ],
  exitCodes: [
    [0, 'printed the images'],
    [1, 'the chart could not be rendered with these values'],
  ],
  run: async (o: { chart?: string; values?: string[]; set?: string[] }) => {
    const { listImages } = await import('../commands/images.js');
    const images = await listImages({ chart: o.chart, values: o.values ?? [], set: o.set ?? [] });
    process.stdout.write(`${images.join('\n')}\n`);
    return EXIT_OK;
  },
});
