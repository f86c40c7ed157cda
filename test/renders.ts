import path from 'node:path';
import { helmTemplateResult } from '../packages/generator/src/core/helm.js';
import { parseYaml, splitObjects, type KObject } from '../packages/generator/src/core/model.js';
import type { HelmResult } from '../packages/generator/src/core/render-cache.js';
import { renderJobs } from '../packages/generator/src/core/render-cache.js';
import { findHelm } from '../packages/generator/src/core/toolchain.js';
import { pool } from '../packages/generator/src/core/util.js';
import { chartCiFiles } from '../packages/generator/src/verify/renders.js';
import { chartsFor, PINNED } from './releases.js';

/**
 * The render matrix: every `helm template` the tests make, made once per test
 * run and shared by every test file (the run's render cache, KFC_RENDER_CACHE,
 * set up by global-setup.ts; generator code calling helmTemplate shares it too).
 * The defaults are the suite's one way to render a chart, so that tests share:
 * release named after the chart, namespace kubeflow, CRDs included, helm 4.
 *
 *   const r = await render('katib', { values: [ciFile] });   // r.text, r.objects, r.docs
 *   await forEachRender(ciMatrix(), async ({ chart, file }, r) => { ... });
 */
export interface RenderOptions {
  /** the release whose charts hold the chart (chartsFor); default: the pinned release */
  tag?: string;
  /** values files */
  values?: string[];
  /** --set values */
  set?: string[];
  /** helm major version; default: the suite's helm (4) */
  helm?: 3 | 4;
  /** --include-crds; default true */
  crds?: boolean;
  /** release name; default: the chart's name */
  release?: string;
  /** default: kubeflow */
  namespace?: string;
  extraArgs?: string[];
}

export interface Rendered {
  text: string;
  /** the objects, in render order, with their identity and raw text */
  objects: KObject[];
  /** the objects parsed (parsed on first use) */
  readonly docs: any[];
}

/** A chart directory: a path as given, a name in the charts of `tag`. */
export function chartDir(chart: string, tag = PINNED): string {
  return chart.includes('/') ? path.resolve(chart) : path.join(chartsFor(tag), chart);
}

/** `helm template` of a chart with exit code and outputs, from the run's render matrix. */
export async function renderResult(chart: string, o: RenderOptions = {}): Promise<HelmResult> {
  const dir = chartDir(chart, o.tag);
  return helmTemplateResult(dir, {
    helm: await findHelm(o.helm),
    release: o.release ?? path.basename(dir),
    namespace: o.namespace ?? 'kubeflow',
    includeCrds: o.crds ?? true,
    valuesFiles: o.values,
    set: o.set,
    extraArgs: o.extraArgs,
  });
}

/** A chart's render from the run's render matrix; helm failing is an error carrying its message. */
export async function render(chart: string, o: RenderOptions = {}): Promise<Rendered> {
  const r = await renderResult(chart, o);
  const what = `helm template ${chart}${(o.values ?? []).map((f) => ` -f ${path.basename(f)}`).join('')}${(o.set ?? []).map((s) => ` --set ${s}`).join('')}`;
  if (r.exitCode !== 0) throw new Error(`${what} failed:\n${r.stderr}`);
  const objects = splitObjects(r.stdout, what);
  let docs: any[] | undefined;
  return {
    text: r.stdout,
    objects,
    get docs() {
      docs ??= objects.map((x) => parseYaml(x.raw));
      return docs;
    },
  };
}

/** Every chart of a release with each of its ci values files. */
export function ciMatrix(tag = PINNED): Array<{ chart: string; file: string }> {
  const m = chartCiFiles(chartsFor(tag));
  if (!m.length) throw new Error(`no chart with ci values files in ${chartsFor(tag)}: run \`npm run build\``);
  return m;
}

/**
 * Renders `items` (a chart and a values file each) with `o`, as many at a time as the
 * run's helm slots allow, and hands each render to `f` (renders are not kept in memory).
 */
export async function forEachRender<T extends { chart: string; file?: string }, R>(items: T[], f: (item: T, r: Rendered) => R | Promise<R>, o: RenderOptions = {}): Promise<R[]> {
  if (!items.length) throw new Error('forEachRender: nothing to render');
  return pool(items, renderJobs(), async (item) => f(item, await render(item.chart, { ...o, values: [...(item.file ? [item.file] : []), ...(o.values ?? [])] })));
}
