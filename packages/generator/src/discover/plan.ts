import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { globToRegExp, type ComponentConfig } from './components.js';
import type { Example, ExampleEntry } from './example.js';
import { KfcError } from '../core/errors.js';
import { camelCase } from '../core/util.js';

/** One selectable overlay of a component: the default or a commented-out alternative. */
export interface Variant {
  name: string;
  /** the example entry this variant replaces */
  slot: ExampleEntry;
  /** the directory built instead (release-relative) */
  path: string;
  isDefault: boolean;
}

/** A kustomize Component from the example, exposed as a boolean value. */
export interface Toggle {
  /** values key under kustomizeComponents */
  name: string;
  path: string;
  /** enabled in the example */
  defaultOn: boolean;
  line: number;
}

export interface ComponentPlan {
  name: string;
  config?: ComponentConfig;
  description: string;
  keywords: string[];
  /** enabled in the example (standalone commented entries are generated disabled) */
  enabled: boolean;
  entries: ExampleEntry[];
  variants: Variant[];
}

export interface Plan {
  components: ComponentPlan[];
  toggles: Toggle[];
  warnings: string[];
}

const GENERIC = new Set(['common', 'applications', 'apps', 'experimental', 'contrib', 'upstream', 'base', 'overlays', 'overlay', 'installs', 'env', 'kubeflow', 'default', 'manifests']);

/** Chart names for an entry no configuration claims: its meaningful path segments, shortest first. */
export function derivedNames(p: string): string[] {
  const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  const segs = p.split('/').filter((s) => !GENERIC.has(s));
  const out = segs.map((_s, i) => clean(segs.slice(0, i + 1).join('-')));
  return [...out, clean(p.replace(/\//g, '-'))].filter(Boolean);
}

function variantName(config: ComponentConfig | undefined, dir: string): string | undefined {
  const base = path.posix.basename(dir);
  const hit = Object.entries(config?.variants ?? {}).find(([, d]) => d === base);
  return hit?.[0];
}

/**
 * Assigns the example's entries to component charts, names their variants and
 * finds the kustomize Components. Alternatives whose directory is missing are
 * reported and skipped here; ones that do not build are skipped by the build.
 */
export function planComponents(example: Example, configs: ComponentConfig[], releaseDir: string): Plan {
  const warnings: string[] = [];
  const matchers = configs.map((c) => ({ c, res: c.paths.map(globToRegExp) }));
  const claim = (e: ExampleEntry): ComponentConfig | undefined => {
    const hits = matchers.filter((m) => m.res.some((r) => r.test(e.path))).map((m) => m.c);
    if (hits.length > 1) throw new KfcError(`${example.file}:${e.line}: ${e.path} is claimed by ${hits.map((h) => h.file).join(' and ')}`, 'make the "paths" globs of those component configurations disjoint');
    return hits[0];
  };
  const byName = new Map<string, ComponentPlan>();
  const get = (e: ExampleEntry, enabled: boolean): ComponentPlan => {
    const config = claim(e);
    let name = config?.name;
    if (!name) {
      // unclaimed entries sharing a name join one chart, unless a configuration or an opposite-enabled chart has it
      const taken = (n: string) => configs.some((c) => c.name === n) || (byName.has(n) && (!!byName.get(n)!.config || byName.get(n)!.enabled !== enabled));
      const names = derivedNames(e.path);
      name = names.find((n) => !taken(n)) ?? names[names.length - 1];
      warnings.push(`${example.file}:${e.line}: no component configuration claims ${e.path}; generating chart "${name}" (add components/${name}.yaml to name it)`);
    }
    let plan = byName.get(name);
    if (!plan) {
      plan = { name, config, description: config?.description ?? `Kubeflow ${e.heading ?? name} (generated from ${e.path}).`, keywords: config?.keywords ?? [], enabled, entries: [], variants: [] };
      byName.set(name, plan);
    } else if (plan.enabled !== enabled) {
      throw new KfcError(`${example.file}:${e.line}: ${e.path} is commented out but component "${name}" has enabled entries`, `give it a configuration of its own in components/`);
    }
    return plan;
  };
  for (const e of example.entries) {
    const plan = get(e, true);
    plan.entries.push(e);
    if (!e.alternatives.length) continue;
    const alts = [e, ...e.alternatives.filter((a) => {
      if (existsSync(path.join(releaseDir, a.path))) return true;
      warnings.push(`${example.file}:${a.line}: alternative ${a.path} does not exist in the release; skipped`);
      return false;
    })];
    for (const a of alts) {
      let name = variantName(plan.config, a.path);
      if (!name) {
        name = path.posix.basename(a.path).toLowerCase();
        warnings.push(`${example.file}:${a.line}: ${plan.config?.file ?? plan.name} names no variant for ${path.posix.basename(a.path)}; calling it "${name}"`);
      }
      if (plan.variants.some((v) => v.name === name)) throw new KfcError(`${plan.config?.file ?? plan.name}: variant name "${name}" is used twice`, 'give each overlay its own variant name');
      plan.variants.push({ name, slot: e, path: a.path, isDefault: a === e });
    }
  }
  for (const e of example.standalone) {
    if (!existsSync(path.join(releaseDir, e.path))) {
      warnings.push(`${example.file}:${e.line}: commented-out ${e.path} does not exist in the release; skipped`);
      continue;
    }
    get(e, false).entries.push(e);
  }
  const toggles: Toggle[] = [];
  for (const [list, on] of [[example.components, true], [example.commentedComponents, false]] as const) {
    for (const c of list) {
      if (!existsSync(path.join(releaseDir, c.path))) {
        if (on) throw new KfcError(`${example.file}:${c.line}: component ${c.path} does not exist in the release`, 'the release tree is incomplete');
        warnings.push(`${example.file}:${c.line}: commented-out component ${c.path} does not exist in the release; no value for it`);
        continue;
      }
      toggles.push({ name: camelCase(c.path.split('/').slice(-3).join('-')), path: c.path, defaultOn: on, line: c.line });
    }
  }
  return { components: [...byName.values()], toggles, warnings };
}

/** What a kustomize Component touches, so it is applied only to the charts holding those objects. */
export interface ToggleTargets {
  /** [kind, name, namespace?]; `all` when the component transforms everything */
  targets: Array<{ kind?: string; name?: string; namespace?: string }> | 'all';
}

export function toggleTargets(releaseDir: string, t: Toggle): ToggleTargets {
  const dir = path.join(releaseDir, t.path);
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].map((f) => path.join(dir, f)).find(existsSync);
  if (!file) throw new KfcError(`component ${t.path}: no kustomization.yaml`, 'fix the release tree');
  const k = YAML.parse(readFileSync(file, 'utf8')) ?? {};
  const targets: Array<{ kind?: string; name?: string; namespace?: string }> = [];
  for (const key of Object.keys(k)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    if (key === 'configMapGenerator' || key === 'secretGenerator') {
      for (const g of k[key] ?? []) {
        if (g.behavior !== 'merge' && g.behavior !== 'replace') return { targets: 'all' };
        targets.push({ kind: key === 'configMapGenerator' ? 'ConfigMap' : 'Secret', name: g.name, namespace: g.namespace });
      }
    } else if (key === 'patches') {
      for (const p of k.patches ?? []) {
        if (!p.target) return { targets: 'all' };
        targets.push({ kind: p.target.kind, name: p.target.name, namespace: p.target.namespace });
      }
    } else if (key === 'patchesStrategicMerge') {
      for (const p of k.patchesStrategicMerge ?? []) {
        const text = p.includes('\n') ? p : readFileSync(path.join(dir, p), 'utf8');
        for (const d of YAML.parseAllDocuments(text)) {
          const o = d.toJS();
          if (o?.kind) targets.push({ kind: o.kind, name: o.metadata?.name, namespace: o.metadata?.namespace });
        }
      }
    } else {
      return { targets: 'all' };
    }
  }
  return { targets };
}
