import { KfcError } from '../core/errors.js';
import { check, sequence, type PlanObject } from './sequence.js';

/**
 * Sync waves between Argo CD Applications, one per component (app-of-apps).
 * Inside one Application Argo CD follows the objects' own waves; between
 * Applications only their waves order anything, so a component must sit in a
 * later wave than every component it needs: whose CRDs it uses, whose webhook
 * admits or mutates its objects (and the servers behind it), whose Namespace
 * holds its objects. Found with the plan checker itself: every object gets its
 * component's wave, violations across components raise the dependent one, until
 * none is left. Violations inside a component are its own waves' business.
 */

const WAVE = 'argocd.argoproj.io/sync-wave';

/** Cross-component violations when each object sits in its component's wave. */
export function crossComponentViolations(objs: PlanObject[], componentOf: (o: PlanObject) => string | undefined, waves: Map<string, number>) {
  const byKey = new Map(objs.map((o) => [o.key, o]));
  const placed = objs.map((o) => ({ ...o, annotations: { ...o.annotations, [WAVE]: String(waves.get(componentOf(o) ?? '') ?? 0) } }));
  const out: Array<{ from: string; needs: string[]; message: string }> = [];
  for (const v of check('argocd', sequence('argocd', placed))) {
    const x = v.object && byKey.get(v.object);
    const from = x && componentOf(x);
    if (!from) continue;
    const needs = [
      ...new Set(
        (v.needs ?? [])
          .map((k) => byKey.get(k))
          .filter((o): o is PlanObject => !!o)
          .map(componentOf)
          .filter((c): c is string => !!c && c !== from),
      ),
    ];
    if (needs.length) out.push({ from, needs, message: v.message });
  }
  // a namespaced object needs the component that declares its Namespace
  const nsOwner = new Map(objs.filter((o) => o.kind === 'Namespace').map((o) => [o.name, componentOf(o)]));
  for (const o of objs) {
    const from = componentOf(o);
    const owner = o.namespace ? nsOwner.get(o.namespace) : undefined;
    if (from && owner && owner !== from && (waves.get(owner) ?? 0) >= (waves.get(from) ?? 0)) {
      out.push({ from, needs: [owner], message: `${o.kind} ${o.namespace}/${o.name} lives in Namespace ${o.namespace} of ${owner}` });
    }
  }
  return out;
}

/** The least waves (0, 1, ...) under which no cross-component violation is left. */
export function componentWaves(objs: PlanObject[], componentOf: (o: PlanObject) => string | undefined): Map<string, number> {
  const comps = [...new Set(objs.map(componentOf).filter((c): c is string => !!c))].sort();
  const waves = new Map(comps.map((c) => [c, 0]));
  for (let round = 0; round <= comps.length; round++) {
    const vs = crossComponentViolations(objs, componentOf, waves);
    if (!vs.length) return waves;
    for (const v of vs) waves.set(v.from, Math.max(waves.get(v.from)!, ...v.needs.map((n) => waves.get(n)! + 1)));
  }
  const left = crossComponentViolations(objs, componentOf, waves);
  throw new KfcError(
    `components depend on each other in a cycle: ${left
      .slice(0, 3)
      .map((v) => `${v.from} needs ${v.needs.join(', ')} (${v.message})`)
      .join('; ')}`,
    'no order of Argo CD Applications works; install them through the umbrella chart',
  );
}

/**
 * What each component needs directly (for Flux's `dependsOn`): the components whose objects its own
 * objects need, found by placing it before every other component. A component that renders nothing
 * with the defaults (values add its objects later) needs every component of the last wave, so it
 * comes after everything it could depend on, as in the app-of-apps.
 */
export function componentDependencies(objs: PlanObject[], componentOf: (o: PlanObject) => string | undefined, waves: Map<string, number>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const rendering = new Set(objs.map(componentOf).filter((c): c is string => !!c));
  const last = Math.max(0, ...[...waves].filter(([c]) => rendering.has(c)).map(([, w]) => w));
  for (const c of waves.keys()) {
    if (!rendering.has(c)) {
      out.set(
        c,
        [...waves]
          .filter(([d, w]) => d !== c && rendering.has(d) && w === last)
          .map(([d]) => d)
          .sort(),
      );
      continue;
    }
    const first = new Map([...waves.keys()].map((d) => [d, d === c ? 0 : 1]));
    const needs = crossComponentViolations(objs, componentOf, first)
      .filter((v) => v.from === c)
      .flatMap((v) => v.needs);
    out.set(c, [...new Set(needs)].sort());
  }
  return out;
}
