import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { UMBRELLA } from '../packages/generator/src/core/chart-model.js';
import { formatRenderIssues } from '../packages/generator/src/verify/renders.js';
import { silentLogger } from '../packages/generator/src/core/log.js';
import { verify } from '../packages/generator/src/verify/verify.js';
import { chartsFor, lockFor, RELEASES } from './releases.js';
import { ciMatrix } from './renders.js';

export const PARITY_TEST = 'every chart x variant renders exactly its upstream overlay, and the enabled charts together render the example';

/** Parity of a release's charts with kustomize (kfc verify), every render valid against the schemas (verify.test.ts, verify-older.test.ts). */
export async function checkParity(tag: string): Promise<void> {
  const dir = chartsFor(tag);
  const report = await verify({ lockFile: lockFor(tag), charts: dir, logger: silentLogger });
  const bad = report.rows.filter((r) => r.missing.length || r.extra.length || r.differing.length);
  expect(bad.map((r) => ({ chart: r.chart, variant: r.variant, missing: r.missing, extra: r.extra, differing: r.differing }))).toEqual([]);
  // every render verify made validates against the Kubernetes and CRD schemas: each row's render, and each enabled chart's defaults
  expect(formatRenderIssues(report.schema?.issues ?? [])).toBe('');
  const summary: Array<{ name: string; enabled: boolean }> = JSON.parse(readFileSync(path.join(dir, '.kfc-build.json'), 'utf8')).charts;
  expect(report.schema?.renders).toBe(report.rows.length - 1 + summary.filter((c) => c.enabled && c.name !== UMBRELLA).length);
  expect(report.ok).toBe(true);

  // Every object of `kustomize build example` lies in exactly one component chart.
  const union = report.rows.find((r) => r.variant === 'example');
  expect(union?.objects).toBe(RELEASES[tag].exampleObjects);

  // helm template kubeflow charts/kubeflow --include-crds equals the example, for defaults and every variant
  const umbrella = report.rows.filter((r) => r.chart === UMBRELLA);
  expect(umbrella.find((r) => r.variant === 'default')?.objects).toBe(RELEASES[tag].exampleObjects);

  // Every ci values file of every chart was rendered and compared: one row each.
  expect(
    report.rows
      .filter((r) => r.variant !== 'example')
      .map((r) => `${r.chart} ${r.valuesFile}`)
      .sort(),
  ).toEqual(
    ciMatrix(tag)
      .map((x) => `${x.chart} ${path.relative(dir, x.file)}`)
      .sort(),
  );
  // Model Registry, installed apart from the example, renders each of its overlays and options like kustomize
  const mr = report.rows.filter((r) => r.chart === 'model-registry').map((r) => r.variant);
  expect(mr.filter((v) => !v.startsWith('feature '))).toEqual(['db', 'postgres', 'db+istio=false', 'db+ui=false']);
  // and its features are checked by their scenarios' expectations
  expect(mr.filter((v) => v.startsWith('feature ')).sort()).toEqual(['feature externalDatabase', 'feature generatedCredentials', 'feature namespace']);
  if (tag === 'v1.11.0' || tag === '26.03') {
    const istio = report.rows.filter((r) => r.chart === 'istio' && !r.variant.startsWith('feature ')).map((r) => r.variant);
    expect(istio).toEqual(['oauth2-proxy', 'gke', 'ambient', 'ambient-gke']);
  }
}
