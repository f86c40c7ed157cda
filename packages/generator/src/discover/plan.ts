import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { KfcError } from '../core/errors.js';
import { camelCase } from '../core/util.js';
import { findParts, localDirs, type Aggregate, type Part } from './aggregate.js';
import { globToRegExp, matchesAny, type ComponentConfig } from './components.js';
import type { Example, ExampleEntry } from './example.js';

/** One selectable overlay of a component: the default or a commented-out alternative. */
export interface Variant {
  name: string;
  /** the example entry this variant replaces */
  slot: ExampleEntry;
  /** the directory built instead (release-relative) */
  path: string;
  isDefault: boolean;
}

/**
 * A boolean value that changes what a chart renders: a kustomize Component of
 * the example applied on top (`kustomizeComponents.<name>`), or a directory a
 * component file installs beside the chart's own (`options.<name>`).
 */
export interface Toggle {
  /** values key under `group` */
  name: string;
  path: string;
  /** on by default (applied in the example, or upstream installs it) */
  defaultOn: boolean;
  line: number;
  group: 'kustomizeComponents' | 'options';
  description?: string;
}

export interface ComponentPlan {
  name: string;
  config?: ComponentConfig;
  description: string;
  keywords: string[];
  /** enabled in the example (commented-out and outside components are generated disabled) */
  enabled: boolean;
  /** installed apart from the example (a component file's `install:`) */
  outside: boolean;
  entries: ExampleEntry[];
  variants: Variant[];
  /** directories installed beside the entries (component file `options:`) */
  options: Toggle[];
  /** the chart of an aggregate line's objects that no component produces (its only entry is that line) */
  remainder?: Aggregate;
}

export interface Plan {
  components: ComponentPlan[];
  /** the example's kustomize Components */
  toggles: Toggle[];
  /** lines split among the components whose directories they reach (discover/aggregate.ts) */
  aggregates: Aggregate[];
  warnings: string[];
}

const GENERIC = new Set(['common', 'applications', 'apps', 'experimental', 'contrib', 'upstream', 'base', 'overlays', 'overlay', 'installs', 'env', 'kubeflow', 'default', 'manifests']);

/** Chart names for an entry no configuration claims: its meaningful path segments, shortest first. */
export function derivedNames(p: string): string[] {
  const clean = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '');
  const segs = p.split('/').filter((s) => !GENERIC.has(s));
  const out = segs.map((_s, i) => clean(segs.slice(0, i + 1).join('-')));
  return [...out, clean(p.replace(/\//g, '-'))].filter(Boolean);
}

/** The variant of a config whose globs match `dir`; an error when several do. */
function directVariant(config: ComponentConfig | undefined, dir: string): string | undefined {
  const hits = Object.entries(config?.variants ?? {}).filter(([, globs]) => matchesAny(globs, dir));
  if (hits.length > 1) throw new KfcError(`${config!.file}: variants ${hits.map(([k]) => k).join(' and ')} both match ${dir}`, 'make the variant globs disjoint');
  return hits[0]?.[0];
}

/**
 * The variant a directory is: the one whose glob matches it, else the one
 * matching a directory it wraps (upstream wrapping an overlay in another
 * directory, as upstream did with its Pipelines default in 26.03, keeps its name).
 */
function variantOf(config: ComponentConfig | undefined, dir: string, releaseDir?: string, depth = 0): string | undefined {
  const direct = directVariant(config, dir);
  if (direct || !releaseDir || depth > 3 || !config || !Object.keys(config.variants).length) return direct;
  const found = [
    ...new Set(
      localDirs(releaseDir, dir)
        .map((b) => variantOf(config, b, releaseDir, depth + 1))
        .filter((v): v is string => !!v),
    ),
  ];
  return found.length === 1 ? found[0] : undefined;
}

/** The name for an overlay no variant glob matches: its last meaningful path segment, never a generic one like `overlays`. */
function derivedVariant(dir: string): string {
  const segs = dir.split('/').filter((s) => !GENERIC.has(s));
  return (segs[segs.length - 1] ?? path.posix.basename(dir)).toLowerCase().replace(/[^a-z0-9-]+/g, '-');
}

const kustomizationDirCache = new Map<string, string[]>();

/** Every directory of a release holding a kustomization (release-relative), for `install:` and `options:` globs. */
export function kustomizationDirs(releaseDir: string): string[] {
  let dirs = kustomizationDirCache.get(releaseDir);
  if (dirs) return dirs;
  dirs = [];
  const walk = (rel: string) => {
    const abs = path.join(releaseDir, rel);
    const ents = readdirSync(abs, { withFileTypes: true });
    if (rel && ents.some((e) => e.isFile() && ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].includes(e.name))) dirs!.push(rel);
    for (const e of ents) if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') walk(rel ? `${rel}/${e.name}` : e.name);
  };
  walk('');
  dirs.sort();
  kustomizationDirCache.set(releaseDir, dirs);
  return dirs;
}

/** The one kustomization directory a glob names, or undefined with a warning when it names none. */
function resolveOne(releaseDir: string, glob: string, what: string, warnings: string[]): string | undefined {
  const re = globToRegExp(glob);
  const hits = kustomizationDirs(releaseDir).filter((d) => re.test(d));
  if (hits.length > 1) throw new KfcError(`${what}: ${glob} matches ${hits.length} directories (${hits.slice(0, 4).join(', ')}${hits.length > 4 ? ', ...' : ''})`, 'make the glob name one kustomization directory');
  if (!hits.length) warnings.push(`${what}: ${glob} matches no kustomization directory of this release`);
  return hits[0];
}

/** The kustomization directory the first glob naming exactly one names (globs listing an overlay's places across releases). */
function resolveFirst(releaseDir: string, globs: string[]): string | undefined {
  for (const g of globs) {
    const re = globToRegExp(g);
    const hits = kustomizationDirs(releaseDir).filter((d) => re.test(d));
    if (hits.length === 1) return hits[0];
  }
  return undefined;
}

export interface PlanOptions {
  /** the release's tag, for messages */
  tag?: string;
}

/** The state of one planning run: the charts so far, by name, and what was reported. */
interface Planner {
  example: Example;
  configs: ComponentConfig[];
  releaseDir: string;
  byName: Map<string, ComponentPlan>;
  aggregates: Aggregate[];
  warnings: string[];
  /** the component file claiming a directory (reached from line `e`) */
  claim: (dir: string, e: ExampleEntry) => ComponentConfig | undefined;
}

function planner(example: Example, configs: ComponentConfig[], releaseDir: string): Planner {
  const matchers = configs.map((c) => ({ c, res: c.paths.map(globToRegExp) }));
  const claim = (dir: string, e: ExampleEntry): ComponentConfig | undefined => {
    const hits = matchers.filter((m) => m.res.some((r) => r.test(dir))).map((m) => m.c);
    const via = dir === e.path ? '' : ` (reached from ${e.path})`;
    if (hits.length > 1) throw new KfcError(`${example.file}:${e.line}: ${dir}${via} is claimed by ${hits.map((h) => h.file).join(' and ')}`, 'make the "paths" globs of those component configurations disjoint');
    return hits[0];
  };
  return { example, configs, releaseDir, byName: new Map(), aggregates: [], warnings: [], claim };
}

/** A chart name for a line no file claims: its meaningful path segments, not taken by a file or an opposite-enabled chart. */
function unclaimedName(p: Planner, e: ExampleEntry, enabled: boolean): string {
  const taken = (n: string) => p.configs.some((c) => c.name === n) || (p.byName.has(n) && (!!p.byName.get(n)!.config || !!p.byName.get(n)!.remainder || p.byName.get(n)!.enabled !== enabled));
  const names = derivedNames(e.path);
  return names.find((n) => !taken(n)) ?? names[names.length - 1];
}

/** The chart of an entry: its component file's, else one named after its path (with a warning). */
function chartFor(p: Planner, e: ExampleEntry, enabled: boolean, config = p.claim(e.path, e)): ComponentPlan {
  let name = config?.name;
  if (!name) {
    // unclaimed entries sharing a name join one chart, unless a configuration or an opposite-enabled chart has it
    name = unclaimedName(p, e, enabled);
    p.warnings.push(`${p.example.file}:${e.line}: no component configuration claims ${e.path}; generating chart "${name}" (add components/${name}.yaml to name it)`);
  }
  let plan = p.byName.get(name);
  if (!plan) {
    plan = { name, config, description: config?.description ?? `Kubeflow ${e.heading ?? name} (generated from ${e.path}).`, keywords: config?.keywords ?? [], enabled, outside: false, entries: [], variants: [], options: [] };
    p.byName.set(name, plan);
  } else if (plan.enabled !== enabled) {
    throw new KfcError(`${p.example.file}:${e.line}: ${e.path} is ${enabled ? 'enabled' : 'commented out'} but component "${name}" has ${enabled ? 'commented-out' : 'enabled'} entries`, `give it a configuration of its own in components/`);
  }
  return plan;
}

/**
 * A line no file claims that reaches claimed directories: each becomes an
 * entry of its component (`within` the line), the rest of the line's objects
 * a chart named after it (kept only when there are any: fold/analyze.ts).
 * Returns the part entries, or none when the line is not an aggregate.
 */
function splitLine(p: Planner, e: ExampleEntry): Array<{ entry: ExampleEntry; config: ComponentConfig }> {
  const parts: Part[] = findParts(p.releaseDir, e.path, (d) => p.claim(d, e));
  if (!parts.length) return [];
  const remainder = unclaimedName(p, e, e.enabled);
  const agg: Aggregate = { entry: e, parts, remainder };
  p.aggregates.push(agg);
  p.byName.set(remainder, {
    name: remainder,
    description: `Kubeflow ${e.heading ?? remainder}: the objects of ${e.path} that no component produces.`,
    keywords: [],
    enabled: e.enabled,
    outside: false,
    entries: [e],
    variants: [],
    options: [],
    remainder: agg,
  });
  return parts.map((x) => ({ entry: { path: x.path, line: e.line, enabled: e.enabled, note: e.note, heading: e.heading, after: e.after, within: e }, config: x.config }));
}

/** Commented-out lines: alternatives of an enabled component, or disabled components. */
function planCommented(p: Planner): void {
  const { example, releaseDir } = p;
  const alternatives = new Map<ExampleEntry, ExampleEntry[]>();
  const place = (c: ExampleEntry, config: ComponentConfig | undefined) => {
    const owner = config ? p.byName.get(config.name) : undefined;
    let slot: ExampleEntry | undefined;
    if (owner?.enabled) slot = slotFor(owner, c, releaseDir);
    else if (!config && !c.within && c.after && !p.claim(c.after.path, c.after) && path.posix.dirname(c.after.path) === path.posix.dirname(c.path)) slot = c.after;
    if (slot) alternatives.set(slot, [...(alternatives.get(slot) ?? []), c]);
    else chartFor(p, c, false, config).entries.push(c);
  };
  for (const c of example.commented) {
    if (!existsSync(path.join(releaseDir, c.path))) {
      p.warnings.push(`${example.file}:${c.line}: commented-out ${c.path} does not exist in the release; skipped`);
      continue;
    }
    const config = p.claim(c.path, c);
    const parts = config ? [] : splitLine(p, c);
    if (parts.length) for (const x of parts) place(x.entry, x.config);
    else place(c, config);
  }
  for (const plan of p.byName.values()) {
    for (const e of plan.entries) {
      const alts = alternatives.get(e);
      if (alts?.length) addVariants(plan, e, alts, p.warnings, example.file, releaseDir);
    }
  }
}

/**
 * A component that an aggregate line reaches keeps what its file offers: a
 * part its `options:` name is that option (on: the aggregate installs it),
 * the file's other options are off; a part that is a variant gets the file's
 * other variants as alternatives, as for a component installed apart.
 */
function planPartChoices(p: Planner, plan: ComponentPlan): void {
  const config = plan.config;
  if (!config || !plan.entries.some((e) => e.within)) return;
  for (const [name, opt] of Object.entries(config.options)) {
    const part = plan.entries.find((e) => e.within && matchesAny(opt.paths, e.path));
    if (part) plan.entries = plan.entries.filter((e) => e !== part);
    const dir = part?.path ?? resolveFirst(p.releaseDir, opt.paths);
    if (dir) plan.options.push({ name, path: dir, defaultOn: !!part, line: part?.line ?? 0, group: 'options', description: opt.description });
  }
  for (const e of plan.entries.filter((x) => x.within && !plan.variants.some((v) => v.slot === x))) {
    const own = variantOf(config, e.path, p.releaseDir);
    if (!own) continue;
    const alts = Object.entries(config.variants)
      .filter(([k]) => k !== own)
      .flatMap(([, globs]) => {
        const d = resolveFirst(p.releaseDir, globs);
        return d ? [{ path: d, line: 0, enabled: false, outside: true } as ExampleEntry] : [];
      });
    if (alts.length) addVariants(plan, e, alts, p.warnings, config.file, p.releaseDir);
  }
}

/** Components upstream installs apart from the example (component file `install:`). */
function planOutside(p: Planner, release: string): void {
  const { releaseDir, warnings } = p;
  for (const config of p.configs) {
    if (p.byName.has(config.name) || !config.install.length) continue;
    const what = `${config.file} (install)`;
    const dirs = config.install.map((g) => resolveOne(releaseDir, g, what, warnings));
    if (dirs.some((d) => !d)) {
      warnings.push(`${config.file}: not every install path exists in ${release}; chart "${config.name}" not generated`);
      continue;
    }
    const plan: ComponentPlan = { name: config.name, config, description: config.description, keywords: config.keywords, enabled: false, outside: true, entries: [], variants: [], options: [] };
    plan.entries = dirs.map((d) => ({ path: d!, line: 0, enabled: false, outside: true }));
    p.byName.set(config.name, plan);
    const slots = plan.entries.filter((e) => variantOf(config, e.path));
    if (slots.length > 1) throw new KfcError(`${config.file}: install paths ${slots.map((s) => s.path).join(', ')} are all variants; only one may be`, 'list one variant directory under install:');
    if (slots.length) {
      const def = variantOf(config, slots[0].path);
      const alts = Object.entries(config.variants)
        .filter(([k]) => k !== def)
        .flatMap(([k, globs]) => {
          const d = resolveOne(releaseDir, globs[0], `${config.file} (variant ${k})`, warnings);
          return d ? [{ path: d, line: 0, enabled: false, outside: true } as ExampleEntry] : [];
        });
      if (alts.length) addVariants(plan, slots[0], alts, warnings, config.file, releaseDir);
    }
    for (const [name, opt] of Object.entries(config.options)) {
      const d = resolveFirst(releaseDir, opt.paths) ?? resolveOne(releaseDir, opt.paths[0], `${config.file} (option ${name})`, warnings);
      if (d) plan.options.push({ name, path: d, defaultOn: opt.default, line: 0, group: 'options', description: opt.description });
    }
  }
}

/** The example's kustomize Components (enabled and commented out), each a `kustomizeComponents` switch. */
function exampleToggles(p: Planner): Toggle[] {
  const toggles: Toggle[] = [];
  for (const [list, on] of [
    [p.example.components, true],
    [p.example.commentedComponents, false],
  ] as const) {
    for (const c of list) {
      if (!existsSync(path.join(p.releaseDir, c.path))) {
        if (on) throw new KfcError(`${p.example.file}:${c.line}: component ${c.path} does not exist in the release`, 'the release tree is incomplete');
        p.warnings.push(`${p.example.file}:${c.line}: commented-out component ${c.path} does not exist in the release; no value for it`);
        continue;
      }
      toggles.push({ name: camelCase(c.path.split('/').slice(-3).join('-')), path: c.path, defaultOn: on, line: c.line, group: 'kustomizeComponents' });
    }
  }
  return toggles;
}

/**
 * Assigns the example's lines to component charts, names their variants and
 * finds the kustomize Components and the components upstream installs apart
 * from the example.
 *
 * - An enabled line belongs to the component file whose `paths` claim it.
 * - A line no file claims that builds on claimed directories is an aggregate:
 *   each claimed directory it reaches belongs to its component (the objects
 *   are split by content in fold/analyze.ts).
 * - A commented-out line claimed by the file of an enabled line is an
 *   alternative (variant) of that component, wherever its directory is. A
 *   commented-out line no file claims is an alternative of the enabled line
 *   above it when both sit in one directory; any other commented-out line is
 *   a component generated disabled.
 * - Variant names come from the component file's variant globs.
 * - A component file that claims nothing in the release is reported.
 */
export function planComponents(example: Example, configs: ComponentConfig[], releaseDir: string, o: PlanOptions = {}): Plan {
  const release = o.tag ? `release ${o.tag}` : 'this release';
  const p = planner(example, configs, releaseDir);
  for (const e of example.entries) {
    const config = p.claim(e.path, e);
    const parts = config ? [] : splitLine(p, e);
    if (parts.length) for (const x of parts) chartFor(p, x.entry, true, x.config).entries.push(x.entry);
    else chartFor(p, e, true, config).entries.push(e);
  }
  planCommented(p);
  for (const plan of p.byName.values()) planPartChoices(p, plan);
  planOutside(p, release);
  const components = [...p.byName.values()];
  if (!components.length) throw new KfcError(`${example.file}: no component chart would be generated`, 'point the build at a Kubeflow manifests release');
  for (const config of configs) {
    if (!p.byName.has(config.name) && !config.install.length) p.warnings.push(`${config.file} claims no line of ${release}'s example; no "${config.name}" chart (upstream removed or moved it: update its paths if it moved)`);
  }
  p.warnings.push(...uncoveredReadmeComponents(releaseDir, configs, components));
  return { components, toggles: exampleToggles(p), aggregates: p.aggregates, warnings: p.warnings };
}

/** The enabled line a claimed alternative replaces: the one a variant glob matches, else the nearest line above. */
function slotFor(plan: ComponentPlan, alt: ExampleEntry, releaseDir: string): ExampleEntry {
  const variantLines = plan.entries.filter((e) => variantOf(plan.config, e.path, releaseDir));
  if (variantLines.length === 1) return variantLines[0];
  const above = plan.entries.filter((e) => e.line < alt.line);
  return above[above.length - 1] ?? plan.entries[0];
}

function addVariants(plan: ComponentPlan, slot: ExampleEntry, alts: ExampleEntry[], warnings: string[], file: string, releaseDir: string): void {
  for (const a of [slot, ...alts]) {
    let name = variantOf(plan.config, a.path, releaseDir);
    if (!name) {
      name = derivedVariant(a.path);
      warnings.push(`${file}:${a.line}: ${plan.config?.file ?? plan.name} names no variant for ${a.path}; calling it "${name}"`);
    }
    if (plan.variants.some((v) => v.name === name)) throw new KfcError(`${plan.config?.file ?? plan.name}: variant name "${name}" is used twice (${a.path})`, 'give each overlay its own variant name (component file "variants")');
    plan.variants.push({ name, slot, path: a.path, isDefault: a === slot });
  }
}

/**
 * Components upstream's README lists (its table with a "Manifests Path"
 * column) that no generated chart covers: reported, never dropped quietly.
 */
export function uncoveredReadmeComponents(releaseDir: string, configs: ComponentConfig[], components: ComponentPlan[]): string[] {
  let text: string;
  try {
    text = readFileSync(path.join(releaseDir, 'README.md'), 'utf8');
  } catch {
    return [];
  }
  const rows = text.split('\n').filter((l) => l.trim().startsWith('|'));
  const header = rows.find((l) => /manifests path/i.test(l));
  if (!header) return [];
  const cells = (l: string) =>
    l
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
  const col = cells(header).findIndex((c) => /manifests path/i.test(c));
  const nameCol = 0;
  const out: string[] = [];
  const generated = components.map((c) => c.config).filter((c): c is ComponentConfig => !!c);
  const covers = (p: string) => generated.some((c) => c.paths.some((g) => globToRegExp(g).test(p) || globToRegExp(g).test(`${p}/x`))) || components.some((c) => c.entries.some((e) => e.path === p || e.path.startsWith(`${p}/`)));
  for (const row of rows.slice(rows.indexOf(header) + 1)) {
    const c = cells(row);
    if (c.length <= col || /^-+$/.test(c[col]) || !c[col]) continue;
    for (const p of c[col]
      .split(/<br\s*\/?>/i)
      .map((x) => x.trim().replace(/\/+$/, ''))
      .filter(Boolean)) {
      if (!existsSync(path.join(releaseDir, p)) || covers(p)) continue;
      const hint = configs.find((x) => x.paths.some((g) => globToRegExp(g).test(`${p}/x`)));
      out.push(
        `upstream's README lists ${c[nameCol].replace(/\*/g, '')} at ${p}, which no generated chart covers${hint ? ` (${hint.file} claims it but found nothing to install)` : ' (add a components/<name>.yaml with paths and install: for it)'}`,
      );
    }
  }
  return out;
}

/** What a kustomize Component touches, so it is applied only to the charts holding those objects. */
export interface ToggleTargets {
  /** [kind, name, namespace?]; `all` when the component transforms everything */
  targets: Array<{ kind?: string; name?: string; namespace?: string }> | 'all';
}

/** The kind/name/namespace of the objects in a patch text (its own identity where it has no `target`). */
function patchIdentities(text: string): Array<{ kind?: string; name?: string; namespace?: string }> | undefined {
  const out: Array<{ kind?: string; name?: string; namespace?: string }> = [];
  for (const d of YAML.parseAllDocuments(text)) {
    const o = d.toJS();
    if (!o || Array.isArray(o) || !o.kind) return undefined; // a JSON 6902 patch needs a target
    out.push({ kind: o.kind, name: o.metadata?.name, namespace: o.metadata?.namespace });
  }
  return out;
}

export function toggleTargets(releaseDir: string, t: Toggle): ToggleTargets {
  const dir = path.join(releaseDir, t.path);
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].map((f) => path.join(dir, f)).find(existsSync);
  if (!file) throw new KfcError(`component ${t.path}: no kustomization.yaml`, 'fix the release tree');
  const k = YAML.parse(readFileSync(file, 'utf8')) ?? {};
  const targets: Array<{ kind?: string; name?: string; namespace?: string }> = [];
  const patchText = (p: { path?: string; patch?: string } | string) => (typeof p === 'string' ? (p.includes('\n') ? p : readFileSync(path.join(dir, p), 'utf8')) : (p.patch ?? readFileSync(path.join(dir, p.path!), 'utf8')));
  for (const key of Object.keys(k)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    if (key === 'configMapGenerator' || key === 'secretGenerator') {
      for (const g of k[key] ?? []) {
        if (g.behavior !== 'merge' && g.behavior !== 'replace') return { targets: 'all' };
        targets.push({ kind: key === 'configMapGenerator' ? 'ConfigMap' : 'Secret', name: g.name, namespace: g.namespace });
      }
    } else if (key === 'patches') {
      for (const p of k.patches ?? []) {
        if (p.target) {
          targets.push({ kind: p.target.kind, name: p.target.name, namespace: p.target.namespace });
          continue;
        }
        // a strategic-merge patch without target applies to the object it names
        const ids = patchIdentities(patchText(p));
        if (!ids) return { targets: 'all' };
        targets.push(...ids);
      }
    } else if (key === 'patchesStrategicMerge') {
      for (const p of k.patchesStrategicMerge ?? []) {
        const ids = patchIdentities(patchText(p));
        if (!ids) return { targets: 'all' };
        targets.push(...ids);
      }
    } else {
      return { targets: 'all' };
    }
  }
  return { targets };
}
