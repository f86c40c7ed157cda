import type { KObject } from '../core/model.js';
import type { Toggle } from '../discover/plan.js';

/** The objects one kustomize configuration of a component builds. */
export interface Configuration {
  /** variant name, or undefined for a component without variants */
  variant?: string;
  /** set for the build with one kustomize Component toggled away from its default */
  toggle?: Toggle;
  objects: KObject[];
}

/** One content of an object and the variants that render it. */
export interface Case {
  variants: string[];
  obj: KObject;
}

export interface FoldedObject {
  key: string;
  /** any content, for identity (kind, name, ...) */
  sample: KObject;
  /** toggles that change this object: their content (null: absent) when toggled */
  toggled: Array<{ toggle: Toggle; obj: KObject | null }>;
  /** contents under the default toggles, grouped by identical text */
  cases: Case[];
  /** present and identical in every variant and unaffected by toggles */
  isStatic: boolean;
}

/**
 * Merges the builds of a component's variants (and toggles) into one object
 * set: identical everywhere -> static; differing or missing somewhere -> one
 * case per distinct content, rendered under the variants that have it.
 */
export function fold(variantNames: string[], configs: Configuration[]): FoldedObject[] {
  const variantConfigs = configs.filter((c) => !c.toggle);
  const toggleConfigs = configs.filter((c) => c.toggle);
  const index = (c: Configuration) => new Map(c.objects.map((o) => [o.key, o]));
  const byVariant = new Map(variantConfigs.map((c) => [c.variant ?? '', index(c)]));
  const defaultIndex = byVariant.get(variantConfigs[0]?.variant ?? '') ?? new Map<string, KObject>();
  const toggleIndexes = toggleConfigs.map((c) => ({ toggle: c.toggle!, objs: index(c) }));

  const order: string[] = [];
  const seen = new Set<string>();
  for (const c of [...variantConfigs, ...toggleConfigs]) {
    for (const o of c.objects) {
      if (!seen.has(o.key)) {
        seen.add(o.key);
        order.push(o.key);
      }
    }
  }
  const names = variantNames.length ? variantNames : [''];
  return order.map((key) => {
    const cases: Case[] = [];
    let sample: KObject | undefined;
    for (const v of names) {
      const obj = byVariant.get(v)?.get(key);
      if (!obj) continue;
      sample ??= obj;
      const same = cases.find((c) => c.obj.raw === obj.raw);
      if (same) same.variants.push(v);
      else cases.push({ variants: [v], obj });
    }
    const base = defaultIndex.get(key);
    const toggled: FoldedObject['toggled'] = [];
    for (const t of toggleIndexes) {
      const obj = t.objs.get(key) ?? null;
      if ((obj?.raw ?? null) !== (base?.raw ?? null)) toggled.push({ toggle: t.toggle, obj });
      sample ??= obj ?? undefined;
    }
    const isStatic = toggled.length === 0 && cases.length === 1 && cases[0].variants.length === names.length;
    return { key, sample: sample!, toggled, cases, isStatic };
  });
}
