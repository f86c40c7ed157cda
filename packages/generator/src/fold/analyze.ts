import { existsSync } from 'node:fs';
import path from 'node:path';
import { globToRegExp, loadComponentConfigs } from '../discover/components.js';
import { discover, type Example, type ExampleEntry } from '../discover/example.js';
import { planComponents, toggleTargets, type ComponentPlan, type Plan, type Toggle } from '../discover/plan.js';
import { aggregateOf, type Aggregate } from '../discover/aggregate.js';
import type { Configuration } from './fold.js';
import { soloObjects, splitAggregate } from './split.js';
import { KfcError } from '../core/errors.js';
import { consoleLogger, type Logger } from '../core/log.js';
import { splitByMarkers, splitObjects, type KObject } from '../core/model.js';
import { findKustomize } from '../core/toolchain.js';
import { defaultConcurrency, pool } from '../core/util.js';
import { briefKustomizeError, kustomizeBuild, resolveRelease, unitLabel, type BuildUnit, type Release, type ResolveOptions } from '../upstream/release.js';

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** A component with the objects of each of its configurations. */
export interface AnalyzedComponent {
  plan: ComponentPlan;
  /** objects its variants re-declare that another chart owns */
  sharedKeys: Set<string>;
  /** kustomize Components (example-level) that change this component's objects */
  toggles: Toggle[];
  /** default first, then other variants, then toggles */
  configs: Configuration[];
}

/** Everything known about a release before templating. */
export interface Analysis {
  release: Release;
  example: Example;
  plan: Plan;
  components: AnalyzedComponent[];
  warnings: string[];
}

function matches(o: KObject, t: { kind?: string; name?: string; namespace?: string }): boolean {
  if (t.kind && t.kind !== o.kind) return false;
  if (t.namespace && t.namespace !== (o.namespace ?? '')) return false;
  if (t.name && o.name !== t.name && !(o.name.startsWith(`${t.name}-`) && /^[a-z0-9]{10}$/.test(o.name.slice(t.name.length + 1)))) return false;
  return true;
}

/**
 * The objects of `base` with `top` laid over them: an object of `top` replaces
 * the same object of `base` (an alternative overlay that re-declares an object
 * of a sibling line, e.g. Istio ambient's istio-system Namespace, wins).
 */
export function overlay(base: KObject[], top: KObject[]): KObject[] {
  const keys = new Set(top.map((o) => o.key));
  return [...base.filter((o) => !keys.has(o.key)), ...top];
}

export interface ExampleVariation {
  /** slot entry path -> directory built in its place */
  swap?: Record<string, string>;
  /** directories to include: commented-out lines at their line, others (installed apart from the example) at the end */
  add?: string[];
  /** kustomize Components to apply (default: the example's) */
  components?: string[];
  /** directories inside aggregate lines whose objects are left out (options switched off) */
  drop?: string[];
}

/**
 * Builds the example (optionally with a line swapped, added or a Component
 * toggled) in one kustomize run and returns the objects of each resource line,
 * keyed by the directory on that line. This is the reference: it includes
 * effects across lines (kustomize vars resolve over the whole example).
 * Aggregate lines are split among the directories they reach (fold/split.ts),
 * each keyed by its directory, the rest by the line; a directory swapped
 * inside an aggregate is that directory built on its own in place of the part,
 * and a directory of a commented-out aggregate is added as that line.
 */
export async function buildExample(release: Release, example: Example, v: ExampleVariation = {}, aggregates: Aggregate[] = []): Promise<Map<string, KObject[]>> {
  const swap: Record<string, string> = {};
  const partSwaps: Array<[string, string]> = [];
  for (const [from, to] of Object.entries(v.swap ?? {})) {
    if (aggregateOf(aggregates, from)?.entry.enabled) partSwaps.push([from, to]);
    else swap[from] = to;
  }
  const wanted = new Set(v.add ?? []);
  const add = [...new Set((v.add ?? []).map((p) => aggregateOf(aggregates, p)?.entry.path ?? p))];
  const at = new Map(example.commented.map((e) => [e.path, e.line]));
  const lines = [...example.entries.map((e) => ({ line: e.line, path: swap[e.path] ?? e.path })), ...add.map((p, i) => ({ line: at.get(p) ?? Number.MAX_SAFE_INTEGER - 1000 + i, path: p }))].sort((a, b) => a.line - b.line);
  const unit: BuildUnit = {
    resources: lines.map((l) => l.path),
    components: v.components ?? example.components.map((c) => c.path),
    markers: true,
    ...(Object.keys(example.extra).length ? { extra: example.extra } : {}),
  };
  const swapped = Object.values(swap);
  const label = `kustomize build example${swapped.length ? ` with ${swapped.join(', ')}` : ''}${add.length ? ` plus ${add.join(', ')}` : ''}`;
  const groups = splitByMarkers(splitObjects(await kustomizeBuild(release, unit), label), lines.length, label);
  if (groups[lines.length].length)
    throw new KfcError(`${label}: ${groups[lines.length].length} objects come from the example itself, not from a resource line (${groups[lines.length][0].key})`, 'the generator cannot attribute them to a chart; report this');
  const out = new Map(lines.map((l, i) => [l.path, groups[i]]));
  for (const agg of aggregates) {
    const objs = out.get(agg.entry.path);
    if (!objs || (!agg.entry.enabled && !add.includes(agg.entry.path))) continue;
    out.delete(agg.entry.path);
    // of a commented-out aggregate, only the directories asked for
    for (const [k, o] of await splitAggregate(release, agg, objs)) if (agg.entry.enabled || wanted.has(k)) out.set(k, o);
  }
  for (const [from, to] of partSwaps) {
    out.delete(from);
    out.set(to, await soloObjects(release, to));
  }
  for (const d of v.drop ?? []) out.delete(d);
  return out;
}

/**
 * Resolves, discovers and builds every configuration of every component.
 * Default objects come from one build of the whole example (so effects across
 * lines are kept); variants and toggles come from builds of their directory,
 * with the example's cross-line changes carried over to objects they do not
 * change themselves.
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: issue 19 (discovery by object identity) rewrites this function; it is split there, not here, to spare a conflicting rewrite
export async function analyze(opts: ResolveOptions & { logger?: Logger; concurrency?: number; release?: Release } = {}): Promise<Analysis> {
  const log = opts.logger ?? consoleLogger;
  const release = opts.release ?? (await resolveRelease(opts));
  log.info(`upstream ${release.tag} (${release.source}: ${release.dir})`);
  const example = discover(release.dir);
  const plan = planComponents(example, loadComponentConfigs(), release.dir, { tag: release.tag });
  const warnings = [...plan.warnings];
  const concurrency = opts.concurrency ?? defaultConcurrency();
  await findKustomize();

  // Standalone builds of single directories, memoized; a failure is kept, not thrown.
  const solos = new Map<string, Promise<KObject[] | KfcError>>();
  const solo = (dir: string, components: string[] = []): Promise<KObject[] | KfcError> => {
    const key = JSON.stringify([dir, components]);
    let p = solos.get(key);
    if (!p) {
      const u: BuildUnit = { resources: [dir], components };
      p = kustomizeBuild(release, u).then(
        (t) => splitObjects(t, `kustomize build ${unitLabel(u)}`),
        (e) => (e instanceof KfcError ? e : new KfcError(String(e))),
      );
      solos.set(key, p);
    }
    return p;
  };

  // The example first (longest), alternatives and disabled components alongside.
  const exampleP = buildExample(release, example, {}, plan.aggregates);
  const prefetch = [
    ...plan.components.filter((c) => c.enabled).flatMap((c) => [...c.variants, ...c.options.filter((t) => !t.defaultOn)].map((v) => v.path)),
    ...plan.components.filter((c) => !c.enabled).flatMap((c) => [...c.entries, ...c.variants, ...c.options].map((e) => e.path)),
  ];
  const limited = pool(prefetch, Math.max(1, concurrency - 1), (d) => solo(d));
  const ctx = await exampleP;
  await limited;
  dropEmptyRemainders(plan, (c) => ctx.get(c.entries[0].path) ?? [], warnings, example.file);
  for (const agg of plan.aggregates.filter((x) => x.entry.enabled)) {
    for (const p of agg.parts.filter((x) => !ctx.get(x.path)?.length))
      warnings.push(
        `${example.file}:${agg.entry.line}: ${agg.entry.path} builds on ${p.path} (${p.config.file}), but none of the line's objects is one that directory builds on its own (renamed on top?); chart ${p.config.name} gets none of them`,
      );
  }
  const enabled = plan.components.filter((c) => c.enabled);

  // Which kustomize Components touch which directories (matched on the objects they build).
  const targets = plan.toggles.map((t) => ({ t, targets: toggleTargets(release.dir, t).targets }));
  const applicable = (objs: KObject[]): Toggle[] => targets.filter(({ targets }) => targets === 'all' || objs.some((o) => targets.some((t) => matches(o, t)))).map(({ t }) => t);
  const defaultsOn = plan.toggles.filter((t) => t.defaultOn);
  const unwrap = (r: KObject[] | KfcError): KObject[] => {
    if (r instanceof KfcError) throw r;
    return r;
  };
  const compsFor = async (dir: string, active: Toggle[], objs?: KObject[]): Promise<string[]> => {
    const own = applicable(objs ?? unwrap(await solo(dir)));
    return active.filter((t) => own.includes(t)).map((t) => t.path);
  };
  /**
   * An entry built with kustomize Components: its directory on its own, or
   * for a directory inside an aggregate line (`inLine`), that line built and
   * split (the line's own patches and the Component may change one object
   * together); the rest of an aggregate line is always the line split.
   */
  const entryBuild = async (e: ExampleEntry, comps: string[], inLine: boolean): Promise<KObject[]> => {
    const rest = plan.aggregates.find((x) => x.entry === e);
    const agg = rest ?? (inLine && e.within ? aggregateOf(plan.aggregates, e.path) : undefined);
    if (!agg) return unwrap(await solo(e.path, comps));
    return (await splitAggregate(release, agg, unwrap(await solo(agg.entry.path, comps)))).get(e.path) ?? [];
  };
  /** The cross-line changes the example made to an entry's objects (and, `inLine`, those its aggregate line made). */
  const contextOf = async (e: ExampleEntry, inLine = false): Promise<{ solo: Map<string, KObject>; ctx: Map<string, KObject> }> => {
    const inCtx = ctx.get(e.path)!;
    const alone = await entryBuild(e, await compsFor(e.path, defaultsOn, inCtx), inLine);
    return { solo: new Map(alone.map((o) => [o.key, o])), ctx: new Map(inCtx.map((o) => [o.key, o])) };
  };
  const withContext = (objs: KObject[], c: { solo: Map<string, KObject>; ctx: Map<string, KObject> }): KObject[] =>
    objs.map((o) => {
      const inCtx = c.ctx.get(o.key);
      return inCtx && inCtx.raw !== o.raw && c.solo.get(o.key)?.raw === o.raw ? inCtx : o;
    });

  const ownerOf = new Map<string, string>();
  for (const c of enabled) for (const e of c.entries) for (const o of ctx.get(e.path) ?? []) ownerOf.set(o.key, c.name);

  /**
   * An upstream directory of `c` that does not build: a warning when its component file lists it under
   * `knownBroken` (and the error matches), else the build stops naming the directory.
   */
  const broken = (c: ComponentPlan, dir: string, what: string, e: unknown): string => {
    const message = briefKustomizeError((e as Error).message);
    const known = c.config?.knownBroken.find((k) => globToRegExp(k.path).test(dir) && (!k.error || new RegExp(k.error).test((e as Error).message)));
    const file = c.config?.file ?? `components/${c.name}.yaml`;
    if (!known) {
      const kustomization = KUSTOMIZATION_FILES.map((f) => path.join(release.dir, dir, f)).find(existsSync) ?? path.join(release.dir, dir);
      throw new KfcError(
        `${c.name}: ${what}: ${kustomization} does not build in release ${release.tag}: ${message}`,
        `fix it upstream, or pin a release where it builds; an upstream directory known not to build goes under "knownBroken" in ${file} (path glob, error pattern, reason)`,
      );
    }
    return `${c.name}: ${what} (${dir}) does not build (${known.reason}; knownBroken in ${path.basename(file)}); skipped: ${message}`;
  };

  const analyzeOne = async (c: ComponentPlan): Promise<AnalyzedComponent | undefined> => {
    if (!c.enabled) return analyzeDisabled(c);
    const toggles = [...new Set(c.entries.flatMap((e) => applicable(ctx.get(e.path) ?? [])))];
    const sharedKeys = new Set<string>();
    const defaultVariant = c.variants.find((v) => v.isDefault)?.name;
    // options an aggregate line installs are in the example; the others are built on their own
    const objectsAt = async (dir: string): Promise<KObject[]> => ctx.get(dir) ?? unwrap(await solo(dir, await compsFor(dir, defaultsOn)));
    const optionObjects = async (flip?: Toggle) => (await Promise.all(c.options.filter((t) => (t === flip ? !t.defaultOn : t.defaultOn)).map((t) => objectsAt(t.path)))).flat();
    const withOptions = await optionObjects();
    const configs: Configuration[] = [{ variant: defaultVariant, objects: [...c.entries.flatMap((e) => ctx.get(e.path) ?? []), ...withOptions] }];
    for (const v of c.variants.filter((x) => !x.isDefault)) {
      try {
        const others = [...c.entries.filter((e) => e !== v.slot).flatMap((e) => ctx.get(e.path)!), ...withOptions];
        const own = withContext(unwrap(await solo(v.path, await compsFor(v.path, defaultsOn))), await contextOf(v.slot));
        configs.push({ variant: v.name, objects: overlay(others, own) });
        for (const o of own) {
          const owner = ownerOf.get(o.key);
          if (owner && owner !== c.name) {
            sharedKeys.add(o.key);
            warnings.push(`${c.name}: variant ${v.name} (${v.path}) also renders ${o.key}, which chart ${owner} owns; the umbrella keeps ${owner}'s`);
          }
        }
      } catch (e) {
        warnings.push(broken(c, v.path, `variant ${v.name}`, e));
        c.variants = c.variants.filter((x) => x !== v);
      }
    }
    const kept: Toggle[] = [];
    for (const t of toggles) {
      const active = t.defaultOn ? defaultsOn.filter((x) => x !== t) : [...defaultsOn, t];
      try {
        const objs: KObject[] = [];
        for (const e of c.entries) {
          const inCtx = ctx.get(e.path)!;
          if (!applicable(inCtx).includes(t)) {
            objs.push(...inCtx);
            continue;
          }
          objs.push(...withContext(await entryBuild(e, await compsFor(e.path, active, inCtx), true), await contextOf(e, true)));
        }
        configs.push({ variant: defaultVariant, toggle: t, objects: [...objs, ...withOptions] });
        kept.push(t);
      } catch (e) {
        warnings.push(broken(c, t.path, 'kustomize Component', e));
      }
    }
    const options: Toggle[] = [];
    for (const t of c.options) {
      try {
        configs.push({ variant: defaultVariant, toggle: t, objects: [...c.entries.flatMap((e) => ctx.get(e.path) ?? []), ...(await optionObjects(t))] });
        options.push(t);
      } catch (e) {
        warnings.push(broken(c, t.path, `option ${t.name}`, e));
      }
    }
    c.options = options;
    return { plan: c, toggles: [...kept, ...options], configs, sharedKeys };
  };
  /**
   * A component the example leaves out (commented out, or installed apart from
   * it): each directory built on its own, the example's default kustomize
   * Components applied where they touch it; variants swap a directory, options
   * add one.
   */
  const analyzeDisabled = async (c: ComponentPlan): Promise<AnalyzedComponent | undefined> => {
    const buildDir = async (dir: string) => {
      const plain = unwrap(await solo(dir));
      const comps = await compsFor(dir, defaultsOn, plain);
      return comps.length ? unwrap(await solo(dir, comps)) : plain;
    };
    // a directory of a commented-out aggregate line (or that line's rest): the line built, then split
    const built = async (dir: string) => {
      const agg = plan.aggregates.find((x) => !x.entry.enabled && (x.entry.path === dir || x.parts.some((p) => p.path === dir)));
      return agg ? ((await splitAggregate(release, agg, await buildDir(agg.entry.path))).get(dir) ?? []) : buildDir(dir);
    };
    const objectsOf = async (dirs: string[]) => {
      const out: KObject[] = [];
      for (const d of dirs) out.push(...(await built(d)));
      return out;
    };
    const optionDirs = (flip?: Toggle) => c.options.filter((t) => (t === flip ? !t.defaultOn : t.defaultOn)).map((t) => t.path);
    const defaultVariant = c.variants.find((v) => v.isDefault)?.name;
    let configs: Configuration[];
    try {
      configs = [{ variant: defaultVariant, objects: await objectsOf([...c.entries.map((e) => e.path), ...optionDirs()]) }];
    } catch (e) {
      warnings.push(broken(c, c.entries[0]?.path ?? c.name, `component (${c.outside ? 'installed apart from the example' : 'commented out upstream'})`, e));
      return undefined;
    }
    if (c.remainder && !remainderKept(c, configs[0].objects, warnings, example.file)) return undefined;
    for (const v of c.variants.filter((x) => !x.isDefault)) {
      try {
        configs.push({ variant: v.name, objects: await objectsOf([...c.entries.map((e) => (e === v.slot ? v.path : e.path)), ...optionDirs()]) });
      } catch (e) {
        warnings.push(broken(c, v.path, `variant ${v.name}`, e));
        c.variants = c.variants.filter((x) => x !== v);
      }
    }
    const kept: Toggle[] = [];
    for (const t of c.options) {
      try {
        configs.push({ variant: defaultVariant, toggle: t, objects: await objectsOf([...c.entries.map((e) => e.path), ...optionDirs(t)]) });
        kept.push(t);
      } catch (e) {
        warnings.push(broken(c, t.path, `option ${t.name}`, e));
      }
    }
    c.options = kept;
    return { plan: c, toggles: kept, configs, sharedKeys: new Set<string>() };
  };
  const components = (await pool(plan.components, concurrency, analyzeOne)).filter((x): x is AnalyzedComponent => !!x);
  // a knownBroken entry that names no directory of the release: upstream moved or removed it
  const dirs = [...plan.components.flatMap((c) => [...c.entries, ...c.variants, ...c.options].map((e) => e.path)), ...plan.toggles.map((t) => t.path)];
  for (const c of plan.components) {
    for (const k of c.config?.knownBroken ?? [])
      if (!dirs.some((d) => globToRegExp(k.path).test(d))) warnings.push(`${c.config!.file}: knownBroken ${k.path} names no directory of release ${release.tag}; remove it if upstream fixed or removed it`);
  }
  plan.components = plan.components.filter((c) => components.some((x) => x.plan === c));
  return { release, example, plan, components, warnings };
}

/**
 * Whether the chart of an aggregate line's unclaimed objects is generated: only
 * when there are any, and then with a warning naming them.
 */
function remainderKept(c: ComponentPlan, objs: KObject[], warnings: string[], file: string): boolean {
  if (!objs.length) return false;
  const e = c.entries[0];
  const names = objs.slice(0, 5).map((o) => `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`);
  warnings.push(
    `${file}:${e.line}: ${objs.length} object(s) of ${e.path} come from no component file's directory (${names.join(', ')}${objs.length > 5 ? ', ...' : ''}); generating chart "${c.name}" for them (claim the directory that produces them in components/ to give them a stable chart)`,
  );
  return true;
}

/** Enabled aggregate rests without objects are no chart; the others are reported (remainderKept). */
function dropEmptyRemainders(plan: Plan, objectsOf: (c: ComponentPlan) => KObject[], warnings: string[], file: string): void {
  plan.components = plan.components.filter((c) => !c.remainder || !c.enabled || remainderKept(c, objectsOf(c), warnings, file));
}
