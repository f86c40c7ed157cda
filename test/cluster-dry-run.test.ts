import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { expect, it } from 'vitest';
import { describeCluster } from './cluster.js';
import { dryRunServer, render } from './cluster-scenarios.js';
import { UMBRELLA_DIR } from './cluster-lifecycle.js';
import { chartNames, ciFiles } from './helpers.js';

const CHARTS = path.dirname(UMBRELLA_DIR);
const cases = chartNames(CHARTS).flatMap((chart) => ciFiles(path.join(CHARTS, chart)).map((f) => [chart, path.basename(f)] as const));

// "the schema took it, Kubernetes refused it" must be impossible: every ci file (each a values
// file the chart's schema accepts) renders objects the API server accepts, custom resources
// against their CRDs' schemas included
describeCluster('every ci values file of every chart passes kubectl apply --dry-run=server', (cluster) => {
  it('has ci files to check', () => expect(cases.length).toBeGreaterThan(40));
  it.each(cases)('%s %s', async (chart, file) => {
    const c = cluster();
    const values = path.join(CHARTS, chart, 'ci', file);
    const objs = await render(c, path.join(CHARTS, chart), [values]);
    if (!objs.length) {
      // a chart whose defaults render nothing ships only upstream's demo content (the example profile):
      // its defaults file is empty and devMode renders that content, which then gets the dry run
      expect(parse(readFileSync(values, 'utf8')) ?? {}, `${chart} ${file} renders nothing`).toEqual({});
      const demo = path.join(c.tmp, `${chart}-devmode.yaml`);
      writeFileSync(demo, 'global:\n  devMode: true\n');
      objs.push(...(await render(c, path.join(CHARTS, chart), [values, demo])));
      expect(objs.length, `${chart} renders nothing, with devMode too`).toBeGreaterThan(0);
    }
    await dryRunServer(c, objs, UMBRELLA_DIR, `${chart}-${file}`);
  });
});
