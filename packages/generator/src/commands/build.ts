import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { emitChart, everyObject, type ChartSummary } from '../emit/chart.js';
import { analyze, type Analysis } from '../fold/analyze.js';
import { chartModels } from '../generate/chart-models.js';
import { UMBRELLA } from '../core/chart-model.js';
import { codeFingerprint } from '../core/code-fingerprint.js';
import { consoleLogger, type Logger } from '../core/log.js';
import { repoRoot } from '../core/paths.js';
import { findKustomize } from '../core/toolchain.js';
import { emitTypes } from '../emit/types.js';
import { kubeRange, templateObjects } from '../emit/kube-version.js';
import { addInventories } from '../emit/inventory.js';
import { emitUmbrella } from '../emit/umbrella.js';
import { acceptRemoved, loadRemovedValues } from '../emit/deprecated.js';
import { resolveRelease, type Release, type ResolveOptions } from '../upstream/release.js';
import { sha256, stableStringify, writeFileAtomic } from '../core/util.js';

export interface BuildOptions extends ResolveOptions {
  out?: string;
  typesOut?: string;
  logger?: Logger;
  /** rebuild even when the inputs are unchanged */
  force?: boolean;
}

export interface BuildResult {
  release: Release;
  charts: ChartSummary[];
  warnings: string[];
  /** true when the inputs were unchanged and nothing was rebuilt */
  upToDate: boolean;
  out: string;
}

const STAMP = '.kfc-build.json';

/** Replaces `dest` by the complete directory `tmp` (the old one goes only once the new one is in place). */
function swapIn(tmp: string, dest: string): void {
  const old = `${dest}.old-${process.pid}`;
  mkdirSync(path.dirname(dest), { recursive: true });
  if (existsSync(dest)) renameSync(dest, old);
  renameSync(tmp, dest);
  rmSync(old, { recursive: true, force: true });
}

/** Fingerprint of everything a build reads: generator code, configuration, release, tools. */
async function inputsFingerprint(release: Release): Promise<string> {
  const root = repoRoot();
  const k = await findKustomize();
  const files: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const f of readdirSync(d).sort()) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(path.join(root, 'components'));
  walk(path.join(root, 'values-schemas'));
  const h = files.map((f) => `${path.relative(root, f)}:${sha256(readFileSync(f))}`);
  // the generator's sources (TypeScript and the scripts charts embed), as compiled
  return sha256(stableStringify({ h, code: codeFingerprint(), release: { ...release, dir: release.dir }, k: k.version }));
}

/**
 * What the previous build in the same output offered that this one does not:
 * charts and variant values users may have set, named so none vanishes quietly.
 */
function sinceLastBuild(stampFile: string, a: Analysis): string[] {
  let stamp: { tag?: string; charts?: ChartSummary[] };
  try {
    stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  } catch {
    return [];
  }
  const out: string[] = [];
  const now = new Map(a.components.map((c) => [c.plan.name, c]));
  for (const old of stamp.charts ?? []) {
    if (old.name === UMBRELLA) continue;
    const c = now.get(old.name);
    if (!c) {
      out.push(`chart ${old.name} of the previous build (${stamp.tag}) is not generated for ${a.release.tag}`);
      continue;
    }
    const variants = c.plan.variants.map((v) => v.name);
    for (const v of old.variants.filter((x) => !variants.includes(x)))
      out.push(`${old.name}: variant value "${v}" of the previous build (${stamp.tag}) is not offered for ${a.release.tag}${variants.length ? ` (variants now: ${variants.join(', ')})` : ''}`);
  }
  return out;
}

/** Generates every component chart into `out` (default charts/), atomically. */
export async function build(opts: BuildOptions = {}): Promise<BuildResult> {
  const log = opts.logger ?? consoleLogger;
  const out = path.resolve(opts.out ?? path.join(repoRoot(), 'charts'));
  const release = await resolveRelease(opts);
  const fingerprint = await inputsFingerprint(release);
  const stampFile = path.join(out, STAMP);
  const typesOut = path.resolve(opts.typesOut ?? (opts.out ? path.join(out, '.types') : path.join(repoRoot(), 'packages', 'values-types', 'src', 'generated')));
  if (!opts.force && existsSync(stampFile)) {
    try {
      const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
      if (stamp.fingerprint === fingerprint && existsSync(path.join(typesOut, 'index.d.ts')) && stamp.charts.every((c: ChartSummary) => existsSync(path.join(out, c.name, 'Chart.yaml')))) {
        log.info(`charts in ${out} are up to date (${release.tag})`);
        return { release, charts: stamp.charts, warnings: stamp.warnings, upToDate: true, out };
      }
    } catch {
      /* rebuild */
    }
  }
  const a = await analyze({ ...opts, release, logger: log });
  a.warnings.push(...sinceLastBuild(stampFile, a));
  for (const w of a.warnings) log.warn(w);
  const version = a.release.version;
  const tmp = `${out}.tmp-${process.pid}`;
  // types inside the output directory are written into its temporary twin and swapped in with it
  const typesInOut = !path.relative(out, typesOut).startsWith('..');
  const typesTmp = typesInOut ? path.join(tmp, path.relative(out, typesOut)) : `${typesOut}.tmp-${process.pid}`;
  for (const d of [tmp, typesTmp]) rmSync(d, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const { models, ordering, shared } = chartModels(a);
    // values keys upstream removed: accepted for one release, with a deprecation notice
    const removed = loadRemovedValues(a.release.tag, (m) => log.warn(m));
    for (const m of models) {
      const notes = removed?.charts[m.name] ? acceptRemoved(m.properties, removed.charts[m.name], removed) : '';
      if (notes)
        m.files['templates/NOTES.txt'] = `${m.files['templates/NOTES.txt'] ?? ''}${notes}
`;
    }
    // one kubeVersion for every chart of the release: what all its objects need, upstream's and the ones its templates add
    const kube = kubeRange(
      models.flatMap((m) => [...everyObject(m), ...templateObjects(m.files)]),
      `release ${a.release.tag}`,
    );
    const charts: ChartSummary[] = models.map((m) => emitChart(m, path.join(tmp, m.name), { kube }));
    await addInventories(tmp, charts); // images and CRDs of each chart's default render, before the umbrella vendors them
    charts.push(await emitUmbrella({ release: a.release, version, charts, components: a.components, ordering, chartsDir: tmp, shared, removed }));
    // the umbrella's render (helm) and the types (node) overlap: types need the schemas only
    await Promise.all([addInventories(tmp, charts.slice(-1)), emitTypes(charts, typesTmp, `Generated by kubeflow-charts from ${a.release.repository}@${a.release.tag}; do not edit.`)]);
    writeFileAtomic(path.join(tmp, STAMP), JSON.stringify({ fingerprint, tag: a.release.tag, commit: a.release.commit, charts, warnings: a.warnings }, null, 1));
    // swap in: the old output disappears only once the new one is complete
    if (!typesInOut) swapIn(typesTmp, typesOut);
    swapIn(tmp, out);
    log.info(`wrote ${charts.length} charts (${charts.reduce((n, c) => n + c.objects, 0)} objects) to ${out}`);
    return { release: a.release, charts, warnings: a.warnings, upToDate: false, out };
  } catch (e) {
    for (const d of [tmp, typesTmp]) rmSync(d, { recursive: true, force: true });
    throw e;
  }
}
