import { Option } from 'commander';
import { defineCommand, EXIT_OK } from '../core/command-line.js';

export const argocdCommand = defineCommand({
  name: 'argocd',
  summary: 'write the Argo CD examples (default examples/argocd/)',
  description: `Write the Argo CD Applications of examples/argocd/ from the built charts: the umbrella from the
chart repository (values inline), from the OCI registry, and an app-of-apps with one Application
per component in sync waves, with the ignoreDifferences the charts need.`,
  options: [new Option('--charts <dir>', 'the built charts (default: charts/)'), new Option('--out <dir>', 'where to write (default: examples/argocd/)')],
  examples: [['argocd', 'regenerate examples/argocd/ (npm run examples)']],
  exitCodes: [
    [0, 'examples written'],
    [1, 'the charts could not be read or rendered'],
  ],
  run: async (o: { charts?: string; out?: string }) => {
    const { writeArgocdExamples } = await import('../commands/argocd.js');
    const files = await writeArgocdExamples({ charts: o.charts, out: o.out });
    process.stderr.write(`wrote ${files.length} Argo CD examples\n`);
    return EXIT_OK;
  },
});
