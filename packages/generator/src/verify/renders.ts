import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KfcError } from '../core/errors.js';
import { helmTemplate } from '../core/helm.js';
import { parseYaml, splitObjects, type KObject } from '../core/model.js';
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
      return (
        existsSync(ci)
          ? readdirSync(ci)
              .filter((f) => f.endsWith('-values.yaml'))
              .sort()
          : []
      ).map((f) => ({ chart, file: path.join(ci, f) }));
    });
}

/**
 * Collects the objects of many renders and validates each distinct object text
 * once: built-in kinds against the pinned Kubernetes definitions, custom
 * resources against their CRD from any of the renders.
 */
export class RenderValidation {
  private readonly texts = new Map<string, string>();
  private readonly renders: Array<{ chart: string; valuesFile: string; objects: Array<{ key: string; hash: string }> }> = [];
  private readonly crdHashes = new Set<string>();

  /** Adds one render's objects (`valuesFile` as it is reported), at position `at` of the report when given. */
  add(chart: string, valuesFile: string, objects: KObject[], at = this.renders.length): void {
    this.renders[at] = {
      chart,
      valuesFile,
      objects: objects.map((o) => {
        const h = sha256(o.raw);
        if (!this.texts.has(h)) this.texts.set(h, o.raw);
        if (o.kind === 'CustomResourceDefinition') this.crdHashes.add(h);
        return { key: o.key, hash: h };
      }),
    };
  }

  /** Validates what was added; `crds` adds CRDs the renders may lack (those of charts outside a partial run). */
  validate(validator = new KubeValidator(), crds: any[] = []): RenderSchemaReport {
    validator.addCrds(crds);
    const parsed = new Map<string, any>();
    const doc = (h: string) => {
      if (!parsed.has(h)) parsed.set(h, parseYaml(this.texts.get(h)!));
      return parsed.get(h);
    };
    validator.addCrds([...this.crdHashes].map(doc));
    const results = new Map<string, SchemaIssue[]>();
    const issues: RenderIssue[] = [];
    for (const r of this.renders) {
      for (const o of r.objects) {
        if (!results.has(o.hash)) {
          results.set(o.hash, validator.validate(doc(o.hash)));
          parsed.delete(o.hash);
        }
        for (const x of results.get(o.hash)!) issues.push({ chart: r.chart, valuesFile: r.valuesFile, object: o.key, ...x });
      }
    }
    const objects = this.renders.reduce((n, r) => n + r.objects.length, 0);
    return { kubernetes: validator.defs.kubernetes, source: validator.defs.source, renders: this.renders.length, objects, distinct: results.size, crds: this.crdHashes.size, issues };
  }
}

/**
 * Renders every chart with each of its ci values files (`helm template
 * --include-crds`) and validates every object (RenderValidation).
 */
export async function validateRenders(opts: { charts: string; only?: string[]; helm?: Tool; validator?: KubeValidator; concurrency?: number }): Promise<RenderSchemaReport> {
  const helm = opts.helm ?? (await findHelm());
  const runs = chartCiFiles(opts.charts).filter((r) => !opts.only?.length || opts.only.includes(r.chart));
  if (!runs.length) throw new KfcError(`no chart with ci values files in ${opts.charts}${opts.only?.length ? ` named ${opts.only.join(', ')}` : ''}`, 'run `npm run build` first, or check the chart names');
  const collected = new RenderValidation();
  await pool(runs, opts.concurrency ?? defaultConcurrency(), async (r, i) => {
    const out = await helmTemplate(path.join(opts.charts, r.chart), { helm, includeCrds: true, valuesFiles: [r.file], release: r.chart });
    collected.add(r.chart, path.relative(opts.charts, r.file), splitObjects(out, `helm template ${r.chart} -f ${path.basename(r.file)}`), i);
  });
  return collected.validate(opts.validator, opts.only?.length ? chartCrds(opts.charts) : []);
}

/** The CRDs in the crds/ directories of every chart of `chartsDir`. */
export function chartCrds(chartsDir: string): any[] {
  return readdirSync(chartsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(chartsDir, d.name, 'crds')))
    .flatMap((d) => {
      const dir = path.join(chartsDir, d.name, 'crds');
      return readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => parseYaml(readFileSync(path.join(dir, f), 'utf8')));
    });
}

/** One line per issue: `chart ci/file object path: message`. */
export function formatRenderIssues(issues: RenderIssue[]): string {
  return issues.map((i) => `${i.chart} ${i.valuesFile} ${i.object} ${i.path || '/'}: ${i.message}`).join('\n');
}
