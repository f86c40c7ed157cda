import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { KfcError } from '../core/errors.js';
import { helmTemplate } from '../core/helm.js';
import { parseYaml, splitObjects } from '../core/model.js';
import { findHelm, type Tool } from '../core/toolchain.js';
import { defaultConcurrency, pool, sha256 } from '../core/util.js';
import { KubeValidator, type SchemaIssue } from './kube-validate.js';

/** One schema violation in a render: chart, ci values file, object and path. */
export interface RenderIssue extends SchemaIssue {
  chart: string;
  valuesFile: string;
  /** apiVersion/kind/namespace/name */
  object: string;
}

export interface RenderSchemaReport {
  kubernetes: string;
  source: string;
  renders: number;
  /** objects over all renders */
  objects: number;
  /** distinct object texts (each validated once) */
  distinct: number;
  crds: number;
  issues: RenderIssue[];
}

/** Every chart directory of `chartsDir` with its ci values files. */
export function chartCiFiles(chartsDir: string): Array<{ chart: string; file: string }> {
  if (!existsSync(chartsDir)) throw new KfcError(`no charts in ${chartsDir}`, 'run `npm run build` first');
  return readdirSync(chartsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(chartsDir, d.name, 'Chart.yaml')))
    .map((d) => d.name)
    .sort()
    .flatMap((chart) => {
      const ci = path.join(chartsDir, chart, 'ci');
      return (existsSync(ci) ? readdirSync(ci).filter((f) => f.endsWith('-values.yaml')).sort() : []).map((f) => ({ chart, file: path.join(ci, f) }));
    });
}

/**
 * Renders every chart with each of its ci values files (`helm template
 * --include-crds`) and validates every object: built-in kinds against the
 * pinned Kubernetes definitions, custom resources against their CRD from any
 * of the charts. An object text that occurs in several renders is validated once.
 */
export async function validateRenders(opts: { charts: string; only?: string[]; helm?: Tool; validator?: KubeValidator; concurrency?: number }): Promise<RenderSchemaReport> {
  const helm = opts.helm ?? (await findHelm());
  const runs = chartCiFiles(opts.charts).filter((r) => !opts.only?.length || opts.only.includes(r.chart));
  if (!runs.length) throw new KfcError(`no chart with ci values files in ${opts.charts}${opts.only?.length ? ` named ${opts.only.join(', ')}` : ''}`, 'run `npm run build` first, or check the chart names');
  const texts = new Map<string, string>();
  const renders = await pool(runs, opts.concurrency ?? defaultConcurrency(), async (r) => {
    const out = await helmTemplate(path.join(opts.charts, r.chart), { helm, includeCrds: true, valuesFiles: [r.file], release: r.chart });
    return splitObjects(out, `helm template ${r.chart} -f ${path.basename(r.file)}`).map((o) => {
      const h = sha256(o.raw);
      if (!texts.has(h)) texts.set(h, o.raw);
      return { key: o.key, kind: o.kind, hash: h };
    });
  });
  const parsed = new Map<string, any>();
  const doc = (h: string) => {
    if (!parsed.has(h)) parsed.set(h, parseYaml(texts.get(h)!));
    return parsed.get(h);
  };
  const validator = opts.validator ?? new KubeValidator();
  const crdHashes = new Set(renders.flat().filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.hash));
  validator.addCrds([...crdHashes].map(doc));
  const results = new Map<string, SchemaIssue[]>();
  const issues: RenderIssue[] = [];
  renders.forEach((objs, i) => {
    for (const o of objs) {
      if (!results.has(o.hash)) {
        results.set(o.hash, validator.validate(doc(o.hash)));
        parsed.delete(o.hash);
      }
      for (const x of results.get(o.hash)!) issues.push({ chart: runs[i].chart, valuesFile: path.relative(opts.charts, runs[i].file), object: o.key, ...x });
    }
  });
  return { kubernetes: validator.defs.kubernetes, source: validator.defs.source, renders: runs.length, objects: renders.reduce((n, r) => n + r.length, 0), distinct: results.size, crds: crdHashes.size, issues };
}

/** One line per issue: `chart ci/file object path: message`. */
export function formatRenderIssues(issues: RenderIssue[]): string {
  return issues.map((i) => `${i.chart} ${i.valuesFile} ${i.object} ${i.path || '/'}: ${i.message}`).join('\n');
}
