#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { build } from './commands/build.js';
import { consoleLogger } from './core/log.js';
import { isKfcError, KfcError } from './core/errors.js';

const USAGE = `kfc: Helm charts for Kubeflow, generated from the upstream manifests release

Usage:
  kfc init   [--out DIR] [--force] [--answers FILE] [--answer NAME=VALUE]... [--defaults] [--charts DIR]
                                   ask how your cluster looks, write values.yaml and what your delivery
                                   (helm, Argo CD, Flux) needs, print the readiness check
  kfc build  [--lock FILE] [--upstream DIR [--tag TAG]] [--out DIR] [--force]
  kfc verify [--lock FILE] [--upstream DIR [--tag TAG]] [--charts DIR] [--chart NAME]
  kfc repo   [--charts DIR] [--out DIR] [--url URL] [--merge INDEX] [--force]
                                   package charts into a chart repository (default repo/), merged
                                   into its index.yaml (or INDEX): earlier versions are kept
  kfc repo   --oci oci://REGISTRY/PATH [--plain-http] [--merge INDEX] [--digests FILE] [--force]
                                   push every chart with helm push (after helm registry login)
  kfc argocd [--charts DIR] [--out DIR]
                                   write the Argo CD examples (default examples/argocd/)
  kfc flux   [--charts DIR] [--out DIR]
                                   write the Flux examples (default examples/flux/)
  kfc previous --index INDEX [--chart NAME] [--charts DIR]
                                   the highest version in INDEX below the built chart's (empty: none)
  kfc images [--chart DIR] [-f VALUES]... [--set K=V]...   every image a values file deploys (for mirroring)
  kfc diff   <tagA|dirA> <tagB|dirB> [-v]                  what changes for users between two releases
  kfc plan   [--chart DIR] [-f VALUES]... [--rendered FILE] [--engine helm3|helm4|argocd] [-v] [--summary]
  kfc validate CHART -f VALUES [-f VALUES]... [--charts DIR]
                   check values files against CHART's values.schema.json (CHART: a directory
                   or a name in charts/; for the umbrella, subchart keys against their charts)

Options:
  --lock FILE      release pin (default: upstream.lock.json; env KFC_LOCK)
  --upstream DIR   use this kubeflow/manifests tree (env KFC_UPSTREAM_DIR)
  --tag TAG        the upstream tag of that tree (env KFC_UPSTREAM_TAG); without it the
                   tree is an untagged snapshot (chart version 0.0.0-snapshot.<id>)
  --out DIR        where charts are written (default: charts/)
  --force          rebuild even if nothing changed
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      lock: { type: 'string' },
      upstream: { type: 'string' },
      tag: { type: 'string' },
      out: { type: 'string' },
      charts: { type: 'string' },
      chart: { type: 'string', multiple: true },
      values: { type: 'string', short: 'f', multiple: true },
      set: { type: 'string', multiple: true },
      rendered: { type: 'string' },
      engine: { type: 'string', multiple: true },
      verbose: { type: 'boolean', short: 'v' },
      summary: { type: 'boolean' },
      url: { type: 'string' },
      merge: { type: 'string' },
      oci: { type: 'string' },
      'plain-http': { type: 'boolean' },
      digests: { type: 'string' },
      index: { type: 'string' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      answers: { type: 'string' },
      answer: { type: 'string', multiple: true },
      defaults: { type: 'boolean' },
    },
  });
  if (!cmd || values.help || cmd === 'help') {
    process.stdout.write(USAGE);
    return cmd ? 0 : 2;
  }
  const common = { lockFile: values.lock, upstreamDir: values.upstream, upstreamTag: values.tag, logger: consoleLogger };
  switch (cmd) {
    case 'init': {
      const { runInit } = await import('./commands/init.js');
      return runInit({ out: values.out, charts: values.charts, force: values.force, answers: values.answers, answer: values.answer, defaults: values.defaults });
    }
    case 'build': {
      await build({ ...common, out: values.out, force: values.force });
      return 0;
    }
    case 'verify': {
      const { verify, printReport } = await import('./verify/verify.js');
      const report = await verify({ ...common, charts: values.charts ?? values.out, only: values.chart });
      printReport(report, process.stdout);
      return report.ok ? 0 : 1;
    }
    case 'repo': {
      if (values.oci) {
        const { publishOci } = await import('./commands/oci.js');
        const r = await publishOci({ charts: values.charts ?? 'charts', ref: values.oci, merge: values.merge, plainHttp: values['plain-http'], force: values.force, digests: values.digests });
        for (const d of r.digests) process.stdout.write(`${d}\n`);
        process.stderr.write(`${values.oci}: ${r.pushed.length} pushed, ${r.replaced.length} replaced, ${r.unchanged.length} already there\n`);
        return 0;
      }
      const { buildRepo } = await import('./commands/repo.js');
      const r = buildRepo({ charts: values.charts, out: values.out, url: values.url, merge: values.merge, force: values.force });
      process.stderr.write(`${r.dir}: index.yaml with ${r.added.length} new, ${r.replaced.length} replaced, ${r.unchanged.length} unchanged chart versions (earlier versions kept)\n`);
      return 0;
    }
    case 'argocd': {
      const { writeArgocdExamples } = await import('./commands/argocd.js');
      const files = await writeArgocdExamples({ charts: values.charts, out: values.out });
      process.stderr.write(`wrote ${files.length} Argo CD examples\n`);
      return 0;
    }
    case 'flux': {
      const { writeFluxExamples } = await import('./commands/flux.js');
      const files = await writeFluxExamples({ charts: values.charts, out: values.out });
      process.stderr.write(`wrote ${files.length} Flux examples\n`);
      return 0;
    }
    case 'previous': {
      const { previousVersion } = await import('./commands/previous.js');
      const v = previousVersion({ index: values.index, chart: values.chart?.[0], charts: values.charts });
      if (v) process.stdout.write(`${v}\n`);
      return 0;
    }
    case 'plan': {
      const { runPlan } = await import('./commands/plan.js');
      return runPlan({ chart: values.chart?.[0], values: values.values ?? [], rendered: values.rendered, engines: values.engine, verbose: values.verbose, summary: values.summary }, process.stdout);
    }
    case 'images': {
      const { listImages } = await import('./commands/images.js');
      const images = await listImages({ chart: values.chart?.[0], values: values.values ?? [], set: values.set ?? [] });
      process.stdout.write(`${images.join('\n')}\n`);
      return 0;
    }
    case 'diff': {
      if (positionals.length !== 2) throw new KfcError('kfc diff needs two releases: tags (resolved like the pin) or release directories', 'e.g. kfc diff v1.11.0 26.03');
      const { diffReleases, formatDiff } = await import('./diff/diff.js');
      const r = await diffReleases(positionals[0], positionals[1], { lockFile: values.lock }, consoleLogger);
      process.stdout.write(formatDiff(r, values.verbose));
      return 0;
    }
    case 'validate': {
      const { runValidate } = await import('./commands/validate.js');
      if (positionals.length !== 1) {
        process.stderr.write(`kfc validate: name one chart (got ${positionals.length ? positionals.join(' ') : 'none'})\n\n${USAGE}`);
        return 2;
      }
      return runValidate({ chart: positionals[0], values: values.values ?? [], charts: values.charts }, process.stdout);
    }
    default:
      process.stderr.write(`kfc: unknown command "${cmd}"\n\n${USAGE}`);
      return 2;
  }
}

function stats(): void {
  if (process.env.KFC_STATS) process.stderr.write(`kfc-stats ${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS })}\n`);
}

main(process.argv.slice(2)).then(
  (code) => {
    stats();
    process.exit(code);
  },
  (e) => {
    if (isKfcError(e)) process.stderr.write(`kfc: ${e.format()}\n`);
    else process.stderr.write(`kfc: unexpected error: ${(e as Error)?.stack ?? e}\n`);
    process.exit(1);
  },
);
