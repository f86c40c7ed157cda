import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { analyze, buildExample, overlay, type Analysis, type AnalyzedComponent, type ExampleVariation } from '../fold/analyze.js';
import type { Toggle, Variant } from '../discover/plan.js';
import type { ChartSummary } from '../emit/chart.js';
import type { Expectation } from '../features/contract.js';
import { checkExpectation } from '../features/expect.js';
import type { Logger } from '../core/log.js';
import { KfcError } from '../core/errors.js';
import { helmTemplate } from '../core/helm.js';
import { parseYaml, splitObjects, type KObject } from '../core/model.js';
import { repoRoot } from '../core/paths.js';
import { LIFECYCLE_LABEL, UMBRELLA } from '../core/chart-model.js';
import { findHelm, type Tool } from '../core/toolchain.js';
import { briefKustomizeError, kustomizeBuild, type ResolveOptions } from '../upstream/release.js';
import { defaultConcurrency, pool } from '../core/util.js';
import { chartCrds, formatRenderIssues, RenderValidation, type RenderSchemaReport } from './renders.js';

/**
 * Metadata the generator adds and verify ignores: these labels/annotations are
 * removed from a rendered object before comparison when upstream's object does
 * not carry them. Nothing else may differ.
 */
export const ADDED_METADATA = {
  labels: ['helm.sh/chart', 'app.kubernetes.io/managed-by'],
  annotations: [
    'helm.sh/resource-policy',
    'helm.sh/hook',
    'helm.sh/hook-weight',
    'helm.sh/hook-delete-policy',
    'argocd.argoproj.io/sync-wave',
    'argocd.argoproj.io/hook',
    'argocd.argoproj.io/sync-options',
    'argocd.argoproj.io/compare-options',
    'kubeflow-charts.io/version',
    'kubeflow-charts.io/install-failure-policy',
  ],
};

export interface Difference {
  key: string;
  paths: string[];
}

export interface CompareResult {
  objects: number;
  missing: string[];
  extra: string[];
  differing: Difference[];
}

/** Removes the allowlisted generator metadata that upstream's object does not have. */
export function normalize(rendered: any, upstream: any): any {
  // what the chart leaves to a controller (templatize/workloads.ts) is upstream's empty value
  if (upstream?.kind === 'ClusterRole' && upstream.aggregationRule && Array.isArray(upstream.rules) && upstream.rules.length === 0 && rendered && !('rules' in rendered)) rendered.rules = [];
  const meta = rendered?.metadata;
  if (!meta) return rendered;
  for (const field of ['labels', 'annotations'] as const) {
    const m = meta[field];
    if (!m || typeof m !== 'object') continue;
    const up = upstream?.metadata?.[field] ?? {};
    for (const k of ADDED_METADATA[field]) if (k in m && !(k in up)) delete m[k];
    if (Object.keys(m).length === 0 && !(upstream?.metadata && field in upstream.metadata)) delete meta[field];
  }
  return rendered;
}

/** The first paths where two values differ. */
export function diffPaths(a: unknown, b: unknown, p = '', out: string[] = [], limit = 5): string[] {
  if (out.length >= limit || isDeepStrictEqual(a, b)) return out;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = Array.isArray(a) ? [...Array(Math.max(a.length, (b as unknown[]).length)).keys()].map(String) : [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) {
      const sub = Array.isArray(a) ? `${p}[${k}]` : p ? `${p}.${k}` : k;
      diffPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], sub, out, limit);
      if (out.length >= limit) break;
    }
    return out;
  }
  const show = (v: unknown) => (v === undefined ? '<absent>' : JSON.stringify(v)?.slice(0, 120));
  out.push(`${p || '<root>'}: upstream ${show(b)}, chart ${show(a)}`);
  return out;
}

/** Compares rendered objects with upstream's, by apiVersion/kind/namespace/name. */
export function compareObjects(rendered: KObject[], upstream: KObject[]): CompareResult {
  const want = new Map(upstream.map((o) => [o.key, o]));
  const got = new Map(rendered.map((o) => [o.key, o]));
  const res: CompareResult = { objects: upstream.length, missing: [], extra: [], differing: [] };
  for (const [k, u] of want) {
    const r = got.get(k);
    if (!r) {
      res.missing.push(k);
      continue;
    }
    if (stripSource(r.raw) === u.raw) continue;
    const uo = parseYaml(u.raw);
    const ro = normalize(parseYaml(r.raw), uo);
    if (!isDeepStrictEqual(ro, uo)) res.differing.push({ key: k, paths: diffPaths(ro, uo) });
  }
  for (const k of got.keys()) if (!want.has(k)) res.extra.push(k);
  return res;
}

function stripSource(raw: string): string {
  return raw.replace(/^# Source: .*\n/, '');
}

export interface VerifyRow extends CompareResult {
  chart: string;
  variant: string;
  valuesFile: string;
  /** how the reference was obtained when not from the example */
  note?: string;
}

export interface VerifyReport {
  tag: string;
  helm: string;
  rows: VerifyRow[];
  /** every object of every render verify made, validated against the Kubernetes and CRD schemas (unless `schema: false`) */
  schema?: RenderSchemaReport;
  ok: boolean;
}

export interface VerifyOptions extends ResolveOptions {
  charts?: string;
  only?: string[];
  logger?: Logger;
  helm?: Tool;
  analysis?: Analysis;
  /** also check that the charts' defaults together equal `kustomize build example` */
  example?: boolean;
  /** validate every render against the Kubernetes and CRD schemas (default true) */
  schema?: boolean;
  concurrency?: number;
}

interface Job {
  chart: string;
  variant: string;
  valuesFile: string;
  feature?: { name: string; expect: unknown };
  reference: () => Promise<{ objects: KObject[]; note?: string }>;
}

/**
 * Renders every chart with each of its ci values files and compares the
 * result with the upstream reference: the chart's lines of `kustomize build
 * example`, with the variant's alternative line swapped in, the kustomize
 * Component toggled, or the commented-out line uncommented.
 */
export async function verify(opts: VerifyOptions = {}): Promise<VerifyReport> {
  const chartsDir = path.resolve(opts.charts ?? path.join(repoRoot(), 'charts'));
  const a = opts.analysis ?? (await analyze({ ...opts, logger: opts.logger }));
  const helm = opts.helm ?? (await findHelm());
  const examples = new Map<string, Promise<Map<string, KObject[]>>>();
  const exampleWith = (v: ExampleVariation) => {
    const k = JSON.stringify(v);
    if (!examples.has(k)) examples.set(k, buildExample(a.release, a.example, v, a.plan.aggregates));
    return examples.get(k)!;
  };
  const jobs: Job[] = [];
  for (const c of a.components) {
    const name = c.plan.name;
    if (opts.only?.length && !opts.only.includes(name)) continue;
    if (name === UMBRELLA) continue;
    const dir = path.join(chartsDir, name);
    if (!existsSync(path.join(dir, 'Chart.yaml'))) throw new KfcError(`chart ${name} is missing from ${chartsDir}`, 'run `npm run build` (kfc build) for this release first');
    const ciDir = path.join(dir, 'ci');
    const scenarios = featureScenarios(chartsDir, name);
    for (const f of readdirSync(ciDir)
      .filter((x) => x.endsWith('-values.yaml'))
      .sort()) {
      const file = path.join(ciDir, f);
      const scenario = scenarios.get(`ci/${f}`);
      if (scenario) {
        jobs.push({ chart: name, variant: `feature ${scenario.name}`, valuesFile: file, feature: scenario, reference: async () => ({ objects: [] }) });
        continue;
      }
      const vals = parseYaml(readFileSync(file, 'utf8')) ?? {};
      const sel = selection(c, vals, file);
      const components = a.plan.toggles.filter((t) => (sel.toggled.includes(t) ? !t.defaultOn : t.defaultOn)).map((t) => t.path);
      const { variant, paths, added } = sel;
      const label = [variant?.name ?? 'default', ...sel.toggled.map((t) => `${t.name}=${!t.defaultOn}`)].join('+');
      const reference = async (): Promise<{ objects: KObject[]; note?: string }> => {
        if (c.plan.outside) {
          // upstream installs it apart from the example: each directory as `kubectl apply -k` would
          const objs: KObject[] = [];
          for (const p of paths) objs.push(...splitObjects(await kustomizeBuild(a.release, { resources: [p], components: [] }), `kustomize build ${p}`));
          return { objects: objs, note: 'installed apart from the example: compared with kustomize build of its directories' };
        }
        const v: ExampleVariation = { components };
        if (variant && !variant.isDefault) v.swap = { [variant.slot.path]: variant.path };
        if (!c.plan.enabled) v.add = paths;
        else if (added.length) v.add = added;
        try {
          const byLine = await exampleWith(v);
          const note = variant?.slot.within && !variant.isDefault ? `${variant.slot.path} sits inside the example line ${variant.slot.within.path}: ${variant.path} compared as built on its own` : undefined;
          return { objects: paths.flatMap((p) => byLine.get(p) ?? []), note };
        } catch (e) {
          // Upstream's alternative does not fit into the example (e.g. it re-declares a sibling's
          // Namespace): compare with the lines built on their own instead, the alternative winning.
          const first = briefKustomizeError((e as Error).message);
          const byLine = await exampleWith({ components: a.example.components.map((x) => x.path) });
          const own = splitObjects(await kustomizeBuild(a.release, { resources: [variant?.path ?? paths[0]], components: [] }), variant?.path ?? paths[0]);
          const others = c.plan.entries.filter((x) => x !== variant?.slot).flatMap((x) => byLine.get(x.path) ?? []);
          return { objects: c.plan.enabled ? overlay(others, own) : paths.flatMap(() => own), note: `the example with this line does not build (${first.slice(0, 160)}); compared with the lines built separately` };
        }
      };
      jobs.push({ chart: name, variant: label, valuesFile: file, reference });
    }
  }
  const schema = new RenderValidation();
  const rows: VerifyRow[] = await pool(jobs, opts.concurrency ?? defaultConcurrency(), async (j, i) => {
    const set = j.feature ? [] : PARITY_SET;
    const [out, expected] = await Promise.all([helmTemplate(path.join(chartsDir, j.chart), { helm, includeCrds: true, valuesFiles: [j.valuesFile], set, release: j.chart }), j.reference()]);
    const all = splitObjects(out, `helm template ${j.chart} -f ${path.basename(j.valuesFile)}`);
    schema.add(j.chart, renderLabel(path.relative(chartsDir, j.valuesFile), set), all, i);
    const { objects, duplicates } = uniqueObjects(all);
    if (j.feature) {
      // a feature scenario is not an upstream configuration: its expectations are checked instead
      const fails = checkExpectation(j.feature.expect as Expectation, objects);
      return {
        chart: j.chart,
        variant: j.variant,
        valuesFile: path.relative(chartsDir, j.valuesFile),
        objects: objects.length,
        missing: [],
        extra: duplicates,
        differing: fails.length ? [{ key: `expectations of ${j.feature.name}`, paths: fails }] : [],
      };
    }
    const res = compareObjects(objects, expected.objects);
    return { chart: j.chart, variant: j.variant, valuesFile: path.relative(chartsDir, j.valuesFile), note: expected.note, ...res, extra: [...res.extra, ...duplicates] };
  });
  if (opts.example !== false && !opts.only?.length) {
    rows.push(await verifyExample(a, chartsDir, helm, schema));
    if (existsSync(path.join(chartsDir, UMBRELLA, 'Chart.yaml'))) rows.push(...(await verifyUmbrella(a, chartsDir, helm, exampleWith, schema)));
  }
  const report = opts.schema === false ? undefined : schema.validate(undefined, opts.only?.length ? chartCrds(chartsDir) : []);
  const ok = rows.every((r) => !r.missing.length && !r.extra.length && !r.differing.length) && !report?.issues.length;
  return { tag: a.release.tag, helm: helm.version, rows, schema: report, ok };
}

/** How a render is named in schema issues: the values file and the --set values, as `helm template` takes them. */
function renderLabel(valuesFile: string, set: string[]): string {
  return [valuesFile, ...set.map((s) => `--set ${s}`)].join(' ');
}

/**
 * What one values file selects of a component: its variant, the toggles it
 * flips, and the upstream directories that render (variant swapped in,
 * options added).
 */
function selection(c: AnalyzedComponent, vals: any, where: string): { variant?: Variant; toggled: Toggle[]; paths: string[]; added: string[]; removed: string[] } {
  const variant = c.plan.variants.find((v) => v.name === (vals.variant ?? c.configs[0].variant));
  if (vals.variant && !variant) throw new KfcError(`${where}: variant "${vals.variant}" is not one of ${c.plan.variants.map((v) => v.name).join(', ')}`, 'rebuild the charts for this release');
  const toggled = c.toggles.filter((t) => vals[t.group]?.[t.name] !== undefined && vals[t.group][t.name] !== t.defaultOn);
  const options = c.plan.options.filter((t) => (toggled.includes(t) ? !t.defaultOn : t.defaultOn)).map((t) => t.path);
  const paths = [...c.plan.entries.map((e) => (variant && variant.slot === e ? variant.path : e.path)), ...options];
  // options switched on that the example does not install
  const added = c.plan.options.filter((t) => !t.defaultOn && toggled.includes(t)).map((t) => t.path);
  // options switched off that an aggregate line of the example installs
  const removed = c.plan.enabled ? c.plan.options.filter((t) => t.defaultOn && toggled.includes(t)).map((t) => t.path) : [];
  return { variant, toggled, paths, added, removed };
}

/**
 * Parity renders set `global.devMode`: with it the charts reproduce upstream,
 * well-known credentials included; without it (the default) they do not.
 */
export const PARITY_SET = ['global.devMode=true'];

/** The feature scenarios among a chart's ci files, from the build's record (`.kfc-build.json`). */
function featureScenarios(chartsDir: string, chart: string): Map<string, { name: string; expect: unknown }> {
  let stamp: { charts?: ChartSummary[] };
  try {
    stamp = JSON.parse(readFileSync(path.join(chartsDir, '.kfc-build.json'), 'utf8'));
  } catch {
    return new Map();
  }
  const files = stamp.charts?.find((c) => c.name === chart)?.ciFiles ?? [];
  return new Map(files.filter((f) => f.feature).map((f) => [f.file, f.feature!]));
}

/** Objects of a render keyed by identity; a second copy of one object is reported, not merged. */
function uniqueObjects(objs: KObject[]): { objects: KObject[]; duplicates: string[] } {
  const seen = new Set<string>();
  const duplicates: string[] = [];
  const objects = objs.filter((o) => {
    if (seen.has(o.key)) {
      duplicates.push(`${o.key} (rendered twice)`);
      return false;
    }
    seen.add(o.key);
    return true;
  });
  return { objects, duplicates };
}

/**
 * The umbrella with each of its ci values files against the example with the
 * same change: a variant's alternative line swapped in, a kustomize Component
 * toggled, commented-out lines added. The umbrella's own lifecycle objects
 * (gate jobs, their RBAC, tests) are Helm hooks, not upstream objects, and are
 * left out of the comparison.
 */
export async function verifyUmbrella(a: Analysis, chartsDir: string, helm: Tool, exampleWith: (v: ExampleVariation) => Promise<Map<string, KObject[]>>, schema?: RenderValidation): Promise<VerifyRow[]> {
  const dir = path.join(chartsDir, UMBRELLA);
  const files = readdirSync(path.join(dir, 'ci'))
    .filter((f) => f.endsWith('-values.yaml'))
    .sort();
  const scenarios = featureScenarios(chartsDir, UMBRELLA);
  return pool(files, defaultConcurrency(), async (f) => {
    const file = path.join(dir, 'ci', f);
    const scenario = scenarios.get(`ci/${f}`);
    if (scenario) {
      const out = await helmTemplate(dir, { helm, includeCrds: true, valuesFiles: [file], release: UMBRELLA });
      const rendered = splitObjects(out, `helm template ${UMBRELLA} -f ${f}`);
      schema?.add(UMBRELLA, path.relative(chartsDir, file), rendered);
      const { objects, duplicates } = uniqueObjects(rendered);
      const fails = checkExpectation(scenario.expect as Expectation, objects);
      return {
        chart: UMBRELLA,
        variant: `feature ${scenario.name}`,
        valuesFile: path.relative(chartsDir, file),
        objects: objects.length,
        missing: [],
        extra: duplicates,
        differing: fails.length ? [{ key: `expectations of ${scenario.name}`, paths: fails }] : [],
      };
    }
    const vals = parseYaml(readFileSync(file, 'utf8')) ?? {};
    const swap: Record<string, string> = {};
    const add: string[] = [];
    const drop: string[] = [];
    let components = a.plan.toggles.filter((t) => t.defaultOn);
    for (const c of a.components) {
      const v = vals[c.plan.name] ?? {};
      const sel = selection(c, v, `${file}: ${c.plan.name}`);
      if (!(v.enabled ?? c.plan.enabled)) continue;
      if (!c.plan.enabled) add.push(...sel.paths);
      else {
        if (sel.variant && !sel.variant.isDefault) swap[sel.variant.slot.path] = sel.variant.path;
        add.push(...sel.added);
        drop.push(...sel.removed);
      }
      for (const t of sel.toggled) if (t.group === 'kustomizeComponents') components = t.defaultOn ? components.filter((x) => x !== t) : [...components, t];
    }
    const variation: ExampleVariation = { components: components.map((t) => t.path), ...(Object.keys(swap).length ? { swap } : {}), ...(add.length ? { add } : {}), ...(drop.length ? { drop } : {}) };
    let expected: KObject[];
    let note: string | undefined;
    try {
      expected = [...(await exampleWith(variation)).values()].flat();
    } catch (e) {
      // Upstream cannot build this combination: compose it from the charts' own references,
      // the owning chart keeping an object another chart's variant re-declares.
      note = `the example with this change does not build (${briefKustomizeError((e as Error).message)}); compared with its lines built separately`;
      const owned = new Map<string, KObject>();
      const shared: KObject[] = [];
      for (const c of a.components) {
        const v = vals[c.plan.name] ?? {};
        if (!(v.enabled ?? c.plan.enabled)) continue;
        const variant = v.variant ?? c.configs[0].variant;
        const toggled = selection(c, v, `${file}: ${c.plan.name}`).toggled[0];
        const cfg = c.configs.find((x) => x.variant === variant && (toggled ? x.toggle === toggled : !x.toggle)) ?? c.configs[0];
        for (const o of cfg.objects) (c.sharedKeys.has(o.key) ? shared : []).push(o);
        for (const o of cfg.objects) if (!c.sharedKeys.has(o.key)) owned.set(o.key, o);
      }
      for (const o of shared) if (!owned.has(o.key)) owned.set(o.key, o);
      expected = [...owned.values()];
    }
    const out = await helmTemplate(dir, { helm, includeCrds: true, valuesFiles: [file], set: PARITY_SET, release: UMBRELLA });
    const rendered = splitObjects(out, `helm template ${UMBRELLA} -f ${f}`);
    schema?.add(UMBRELLA, renderLabel(path.relative(chartsDir, file), PARITY_SET), rendered);
    const all = rendered.filter((o) => !o.raw.includes(`${LIFECYCLE_LABEL}:`));
    const { objects, duplicates } = uniqueObjects(all);
    const res = compareObjects(objects, expected);
    return { chart: UMBRELLA, variant: f.replace(/^\d+-|-values\.yaml$/g, ''), valuesFile: path.relative(chartsDir, file), note, ...res, extra: [...res.extra, ...duplicates] };
  });
}

/** The enabled charts' defaults together must equal the example build, each object in exactly one chart. */
export async function verifyExample(a: Analysis, chartsDir: string, helm: Tool, schema?: RenderValidation): Promise<VerifyRow> {
  const example = splitObjects(await kustomizeBuild(a.release, { resources: ['example'], components: [] }), 'kustomize build example');
  const enabled = a.components.filter((c) => c.plan.enabled).map((c) => c.plan.name);
  const outs = await pool(enabled, defaultConcurrency(), (c) => helmTemplate(path.join(chartsDir, c), { helm, includeCrds: true, set: PARITY_SET, release: c }));
  const seen = new Map<string, string>();
  const rendered: KObject[] = [];
  const duplicates: string[] = [];
  outs.forEach((text, i) => {
    const objs = splitObjects(text, `helm template ${enabled[i]}`);
    schema?.add(enabled[i], renderLabel('(defaults)', PARITY_SET), objs);
    for (const o of objs) {
      const prev = seen.get(o.key);
      if (prev) duplicates.push(`${o.key} (in ${prev} and ${enabled[i]})`);
      else {
        seen.set(o.key, enabled[i]);
        rendered.push(o);
      }
    }
  });
  const res = compareObjects(rendered, example);
  return { chart: '(all enabled charts)', variant: 'example', valuesFile: 'defaults', ...res, extra: [...res.extra, ...duplicates] };
}

export function printReport(r: VerifyReport, out: NodeJS.WritableStream): void {
  const header = ['chart', 'variant', 'objects', 'missing', 'extra', 'differing'];
  const rows = r.rows.map((x) => [x.chart, x.variant, String(x.objects), String(x.missing.length), String(x.extra.length), String(x.differing.length)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  out.write(`verify ${r.tag} with ${r.helm}\n${line(header)}\n${rows.map(line).join('\n')}\n`);
  for (const x of r.rows) {
    if (x.note) out.write(`NOTE     ${x.chart} [${x.variant}] ${x.note}\n`);
    for (const k of x.missing) out.write(`MISSING  ${x.chart} [${x.variant}] ${k}\n`);
    for (const k of x.extra) out.write(`EXTRA    ${x.chart} [${x.variant}] ${k}\n`);
    for (const d of x.differing) out.write(`DIFFERS  ${x.chart} [${x.variant}] ${d.key}\n${d.paths.map((p) => `           ${p}\n`).join('')}`);
  }
  const total = (f: 'missing' | 'extra' | 'differing') => r.rows.reduce((n, x) => n + x[f].length, 0);
  const s = r.schema;
  if (s?.issues.length) out.write(`${formatRenderIssues(s.issues).replace(/^/gm, 'SCHEMA   ')}\n`);
  if (s) out.write(`schema: ${s.renders} renders, ${s.objects} objects (${s.distinct} distinct) against Kubernetes ${s.kubernetes} (${s.source}) and ${s.crds} CRDs: ${s.issues.length} issues\n`);
  out.write(`${r.ok ? 'OK' : 'FAILED'}: ${r.rows.length} renders, ${total('missing')} missing, ${total('extra')} extra, ${total('differing')} differing${s ? `, ${s.issues.length} schema issues` : ''}\n`);
}
