import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadComponentConfigs } from './config.js';
import { discover, type Example } from './discover.js';
import { chartVersion, emitChart, type ChartSummary } from './emit.js';
import { fold, type Configuration } from './fold.js';
import { splitObjects, type KObject } from './model.js';
import { repoRoot } from './paths.js';
import { planComponents, toggleTargets, type ComponentPlan, type Plan, type Toggle } from './plan.js';
import { findKustomize } from './toolchain.js';
import { kustomizeBuild, resolveRelease, unitLabel, type BuildUnit, type Release, type ResolveOptions } from './upstream.js';
import { defaultConcurrency, pool, sha256, stableStringify, writeFileAtomic } from './util.js';

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
}

export const consoleLogger: Logger = {
  info: (m) => console.error(m),
  warn: (m) => console.error(`warning: ${m}`),
};

export const silentLogger: Logger = { info: () => {}, warn: () => {} };

/** A component's kustomize configurations: which units each builds. */
export interface ComponentBuilds {
  plan: ComponentPlan;
  /** kustomize Components applied by default, per entry path */
  toggles: Toggle[];
  configs: Array<{ variant?: string; toggle?: Toggle; units: BuildUnit[] }>;
}

/** Everything known about a release before templating: plan plus per-configuration objects. */
export interface Analysis {
  release: Release;
  example: Example;
  plan: Plan;
  components: Array<{ builds: ComponentBuilds; configs: Configuration[] }>;
  warnings: string[];
}

function matches(o: KObject, t: { kind?: string; name?: string; namespace?: string }): boolean {
  if (t.kind && t.kind !== o.kind) return false;
  if (t.namespace && t.namespace !== (o.namespace ?? '')) return false;
  if (t.name && o.name !== t.name && !(o.name.startsWith(`${t.name}-`) && /^[a-z0-9]{10}$/.test(o.name.slice(t.name.length + 1)))) return false;
  return true;
}

/**
 * Resolves, discovers and builds every configuration of every component:
 * the default, each variant, and each kustomize Component toggled.
 */
export async function analyze(opts: ResolveOptions & { logger?: Logger; concurrency?: number } = {}): Promise<Analysis> {
  const log = opts.logger ?? consoleLogger;
  const release = await resolveRelease(opts);
  log.info(`upstream ${release.tag} (${release.source}: ${release.dir})`);
  const example = discover(release.dir);
  const plan = planComponents(example, loadComponentConfigs(), release.dir);
  const warnings = [...plan.warnings];
  const concurrency = opts.concurrency ?? defaultConcurrency();
  await findKustomize();

  // 1. plain builds of every directory any component may use
  const dirs = new Set<string>();
  for (const c of plan.components) {
    for (const e of c.entries) dirs.add(e.path);
    for (const v of c.variants) dirs.add(v.path);
  }
  const plain = new Map<string, KObject[] | Error>();
  const defaultPaths = new Set(plan.components.filter((c) => c.enabled).flatMap((c) => c.entries.map((e) => e.path)));
  await pool([...dirs], concurrency, async (dir) => {
    try {
      const text = await kustomizeBuild(release, { resources: [dir], components: [] });
      plain.set(dir, splitObjects(text, `kustomize build ${dir}`));
    } catch (e) {
      if (defaultPaths.has(dir)) throw e;
      plain.set(dir, e as Error);
    }
  });

  // 2. which directories each kustomize Component applies to
  const targets = plan.toggles.map((t) => ({ t, targets: toggleTargets(release.dir, t).targets }));
  const togglesFor = (dir: string): Toggle[] => {
    const objs = plain.get(dir);
    if (!Array.isArray(objs)) return [];
    return targets.filter(({ targets }) => targets === 'all' || objs.some((o) => targets.some((t) => matches(o, t)))).map(({ t }) => t);
  };
  const unit = (dir: string, active: Set<Toggle>): BuildUnit => ({
    resources: [dir],
    components: togglesFor(dir)
      .filter((t) => active.has(t))
      .map((t) => t.path),
  });
  const defaultsOn = new Set(plan.toggles.filter((t) => t.defaultOn));

  const all: ComponentBuilds[] = plan.components.map((c) => {
    const variantPaths = (vname?: string) =>
      c.entries.map((e) => {
        const v = c.variants.find((x) => x.name === vname && x.slot === e);
        return v ? v.path : e.path;
      });
    const chartToggles = [...new Set(c.entries.flatMap((e) => togglesFor(e.path)))];
    const configs: ComponentBuilds['configs'] = [];
    const variantNames = c.variants.length ? c.variants.map((v) => v.name) : [undefined];
    for (const vname of variantNames) configs.push({ variant: vname, units: variantPaths(vname).map((d) => unit(d, defaultsOn)) });
    for (const t of chartToggles) {
      const active = new Set(defaultsOn);
      if (t.defaultOn) active.delete(t);
      else active.add(t);
      configs.push({ variant: variantNames[0], toggle: t, units: variantPaths(variantNames[0]).map((d) => unit(d, active)) });
    }
    return { plan: c, toggles: chartToggles, configs };
  });

  // 3. build each configuration (plain builds are reused from the cache)
  const results = await pool(all, concurrency, async (b) => {
    const configs: Configuration[] = [];
    for (const cfg of b.configs) {
      const isDefault = cfg === b.configs[0];
      try {
        const objs: KObject[] = [];
        for (const u of cfg.units) {
          const cachedPlain = u.components.length === 0 ? plain.get(u.resources[0]) : undefined;
          if (cachedPlain instanceof Error) throw cachedPlain;
          objs.push(...(cachedPlain ?? splitObjects(await kustomizeBuild(release, u), `kustomize build ${unitLabel(u)}`)));
        }
        configs.push({ variant: cfg.variant, toggle: cfg.toggle, objects: objs });
      } catch (e) {
        if (isDefault && b.plan.enabled) throw e;
        if (isDefault) {
          warnings.push(`component ${b.plan.name} (commented out upstream) does not build; skipped: ${(e as Error).message.split('\n').slice(0, 3).join(' ')}`);
          return undefined;
        }
        const what = cfg.toggle ? `kustomize Component ${cfg.toggle.path}` : `variant ${cfg.variant} (${b.plan.variants.find((v) => v.name === cfg.variant)?.path})`;
        warnings.push(`${b.plan.name}: ${what} does not build; skipped: ${(e as Error).message.split('\n').slice(0, 3).join(' ')}`);
        if (cfg.variant && !cfg.toggle) b.plan.variants = b.plan.variants.filter((v) => v.name !== cfg.variant);
        if (cfg.toggle) b.toggles = b.toggles.filter((t) => t !== cfg.toggle);
      }
    }
    return { builds: b, configs };
  });
  const components = results.filter((r): r is NonNullable<typeof r> => !!r);
  return { release, example, plan, components, warnings };
}

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
  const here = path.dirname(new URL(import.meta.url).pathname);
  walk(here);
  walk(path.join(root, 'components'));
  walk(path.join(root, 'values-schemas'));
  const h = files.map((f) => `${path.relative(root, f)}:${sha256(readFileSync(f))}`);
  return sha256(stableStringify({ h, release: { ...release, dir: release.dir }, k: k.version }));
}

/** Generates every component chart into `out` (default charts/), atomically. */
export async function build(opts: BuildOptions = {}): Promise<BuildResult> {
  const log = opts.logger ?? consoleLogger;
  const out = path.resolve(opts.out ?? path.join(repoRoot(), 'charts'));
  const release = await resolveRelease(opts);
  const fingerprint = await inputsFingerprint(release);
  const stampFile = path.join(out, STAMP);
  if (!opts.force && existsSync(stampFile)) {
    try {
      const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
      if (stamp.fingerprint === fingerprint && stamp.charts.every((c: ChartSummary) => existsSync(path.join(out, c.name, 'Chart.yaml')))) {
        log.info(`charts in ${out} are up to date (${release.tag})`);
        return { release, charts: stamp.charts, warnings: stamp.warnings, upToDate: true, out };
      }
    } catch {
      /* rebuild */
    }
  }
  const a = await analyze({ ...opts, upstreamDir: release.source === 'explicit' ? release.dir : opts.upstreamDir, logger: log });
  for (const w of a.warnings) log.warn(w);
  const version = chartVersion(a.release.tag, a.release.chartRevision);
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const charts: ChartSummary[] = [];
    for (const { builds, configs } of a.components) {
      const variants = builds.plan.variants.map((v) => v.name);
      const folded = fold(variants, configs);
      charts.push(emitChart({ plan: builds.plan, release: a.release, version, variants, toggles: builds.toggles, folded }, path.join(tmp, builds.plan.name)));
    }
    writeFileAtomic(path.join(tmp, STAMP), JSON.stringify({ fingerprint, tag: a.release.tag, commit: a.release.commit, charts, warnings: a.warnings }, null, 1));
    // swap in: the old output disappears only once the new one is complete
    const old = `${out}.old-${process.pid}`;
    if (existsSync(out)) renameSync(out, old);
    renameSync(tmp, out);
    rmSync(old, { recursive: true, force: true });
    log.info(`wrote ${charts.length} charts (${charts.reduce((n, c) => n + c.objects, 0)} objects) to ${out}`);
    return { release: a.release, charts, warnings: a.warnings, upToDate: false, out };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
