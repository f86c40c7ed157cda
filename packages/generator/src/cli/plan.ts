import { Option } from 'commander';
import { defineCommand, repeatable } from '../core/command-line.js';

export const planCommand = defineCommand({
  name: 'plan',
  summary: 'install order on Helm 3, Helm 4 and Argo CD, with the dependency and lifecycle checks',
  description: `Render the umbrella chart (or read a rendered manifest) and print the order in which Helm 3,
Helm 4 and Argo CD install its objects, check it against the dependency rules (CRDs before their
custom resources, webhook servers before the objects they admit, ...) and check that nothing of
the release outlives helm uninstall. See docs/ordering.md.`,
  options: [
    new Option('--chart <dir>', 'chart directory (default: charts/kubeflow)'),
    repeatable('-f, --values <file>', 'values file (repeatable)'),
    new Option('--rendered <file>', 'plan this output of helm template --include-crds instead of rendering'),
    repeatable('--engine <engine>', 'only this engine: helm3, helm4 or argocd (repeatable; default: all)', ['helm3', 'helm4', 'argocd']),
    new Option('-v, --verbose', 'list every object of every stage'),
    new Option('--summary', 'print only the install tiers'),
  ],
  examples: [
    ['plan', 'the umbrella with its defaults on every engine'],
    ['plan -f my-values.yaml --engine argocd -v', 'Argo CD sync waves for these values, every object'],
  ],
  exitCodes: [
    [0, 'every dependency rule holds'],
    [1, 'an ordering or lifecycle violation (listed), or the chart could not be rendered'],
  ],
  run: async (o: { chart?: string; values?: string[]; rendered?: string; engine?: string[]; verbose?: boolean; summary?: boolean }) => {
    const { runPlan } = await import('../commands/plan.js');
    return runPlan({ chart: o.chart, values: o.values ?? [], rendered: o.rendered, engines: o.engine, verbose: o.verbose, summary: o.summary }, process.stdout);
  },
});
