import path from 'node:path';
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
    const objs = await render(c, path.join(CHARTS, chart), [path.join(CHARTS, chart, 'ci', file)]);
    expect(objs.length).toBeGreaterThan(0);
    await dryRunServer(c, objs, UMBRELLA_DIR, `${chart}-${file}`);
  });
});
