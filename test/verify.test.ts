import { describe, expect, it } from 'vitest';
import { silentLogger } from '../packages/generator/src/core/log.js';
import { verify } from '../packages/generator/src/verify/verify.js';
import { chartsFor, lockFor, RELEASES } from './releases.js';

describe.each(Object.keys(RELEASES))('parity with kustomize, %s', (tag) => {
  it('every chart x variant renders exactly its upstream overlay, and the enabled charts together render the example', async () => {
    const report = await verify({ lockFile: lockFor(tag), charts: chartsFor(tag), logger: silentLogger });
    const bad = report.rows.filter((r) => r.missing.length || r.extra.length || r.differing.length);
    expect(bad.map((r) => ({ chart: r.chart, variant: r.variant, missing: r.missing, extra: r.extra, differing: r.differing }))).toEqual([]);
    expect(report.ok).toBe(true);

    // Every object of `kustomize build example` lies in exactly one component chart.
    const union = report.rows.find((r) => r.variant === 'example');
    expect(union?.objects).toBe(RELEASES[tag].exampleObjects);

    // helm template kubeflow charts/kubeflow --include-crds equals the example, for defaults and every variant
    const umbrella = report.rows.filter((r) => r.chart === 'kubeflow');
    expect(umbrella.find((r) => r.variant === 'default')?.objects).toBe(RELEASES[tag].exampleObjects);
    expect(umbrella.length).toBeGreaterThan(3);

    // Every ci values file was rendered: at least one row per chart, all variants covered.
    const charts = new Set(report.rows.map((r) => r.chart));
    expect(charts.size).toBeGreaterThan(25);
    // Model Registry, installed apart from the example, renders each of its overlays and options like kustomize
    const mr = report.rows.filter((r) => r.chart === 'model-registry').map((r) => r.variant);
    expect(mr.filter((v) => !v.startsWith('feature '))).toEqual(['db', 'postgres', 'db+istio=false', 'db+ui=false']);
    // and its features are checked by their scenarios' expectations
    expect(mr.filter((v) => v.startsWith('feature ')).sort()).toEqual(['feature externalDatabase', 'feature generatedCredentials']);
    if (tag === 'v1.11.0' || tag === '26.03') {
      const istio = report.rows.filter((r) => r.chart === 'istio' && !r.variant.startsWith('feature ')).map((r) => r.variant);
      expect(istio).toEqual(['oauth2-proxy', 'gke', 'ambient', 'ambient-gke']);
    }
  });
});
