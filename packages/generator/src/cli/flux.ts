import { Option } from 'commander';
import { defineCommand, EXIT_OK } from '../core/command-line.js';

export const fluxCommand = defineCommand({
  name: 'flux',
  summary: 'write the Flux examples (default examples/flux/)',
  description: `Write the Flux objects of examples/flux/ from the built charts: the umbrella from the chart
repository (HelmRepository + HelmRelease) and from the OCI registry (OCIRepository + HelmRelease),
and one HelmRelease per component with dependsOn following the install order; values from a
ConfigMap and a Secret through valuesFrom.`,
  options: [new Option('--charts <dir>', 'the built charts (default: charts/)'), new Option('--out <dir>', 'where to write (default: examples/flux/)')],
  examples: [['flux', 'regenerate examples/flux/ (npm run examples)']],
  exitCodes: [
    [0, 'examples written'],
    [1, 'the charts could not be read or rendered'],
  ],
  run: async (o: { charts?: string; out?: string }) => {
    const { writeFluxExamples } = await import('../commands/flux.js');
    const files = await writeFluxExamples({ charts: o.charts, out: o.out });
    process.stderr.write(`wrote ${files.length} Flux examples\n`);
    return EXIT_OK;
  },
});
