import YAML from 'yaml';
import { addCiFile, type ChartModel, type Content, type ModelObject } from '../templatize/chart-model.js';
import type { JsonSchema } from '../core/schema.js';
import { KfcError } from '../core/errors.js';
import { parseYaml, podTemplate } from '../core/model.js';
import { RESERVED_KEYS } from '../templatize/workloads.js';
import type { Edit, Feature, OnlyWhen, Selector } from './contract.js';
import { globalDefaults } from '../core/schema.js';
import { holds, mergeMap } from './patch.js';
import type { KeyRule } from './secrets.js';

/**
 * The features stage: each feature of a component's contract changes the
 * chart model under its condition: objects dropped, fields patched, templates
 * added, its values block and schema, a ci scenario with expectations and a
 * README section. A selector that matches nothing is a build error naming the
 * feature, the selector and the release, so an upstream rename is caught on
 * the next pin bump. With every condition false the model renders upstream.
 */

const upstreamDocs = new WeakMap<Content, unknown>();
/** Whether a content holds a selector's `has`, read on upstream's object (templatized fields are tokens). */
function hasContent(c: Content, has: Record<string, unknown> | undefined): boolean {
  if (!has) return true;
  if (!upstreamDocs.has(c)) upstreamDocs.set(c, parseYaml(c.obj.raw));
  return holds(upstreamDocs.get(c), has);
}

/** Whether an object is the one a selector names (kustomize's hash suffix on ConfigMaps/Secrets allowed). */
export function selects(o: { kind: string; name: string; namespace?: string; apiVersion?: string }, s: Pick<Selector, 'kind' | 'name' | 'namespace' | 'group'>): boolean {
  if (s.kind !== '*' && o.kind !== s.kind) return false;
  if (s.namespace !== undefined && (o.namespace ?? '') !== s.namespace) return false;
  if (s.group !== undefined && (o.apiVersion?.includes('/') ? o.apiVersion.split('/')[0] : '') !== s.group) return false;
  if (s.name.includes('*')) return new RegExp(`^${s.name.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(o.name);
  return o.name === s.name || (o.name.startsWith(`${s.name}-`) && /^[a-z0-9]{10}$/.test(o.name.slice(s.name.length + 1)));
}

const describeSelector = (s: Selector) => `${s.kind} ${s.namespace ? `${s.namespace}/` : ''}${s.name}${s.container ? ` container ${s.container}` : ''}`;

/** A selector of a feature that matches nothing in its chart (pipeline.ts looks for the object in the other charts). */
export class SelectorMissing extends KfcError {
  constructor(
    readonly chart: ChartModel,
    readonly feature: Feature,
    readonly selector: Selector,
    what: string,
  ) {
    super(`feature ${feature.name} (${feature.file}): ${describeSelector(selector)} ${what} of chart ${chart.name} in release ${chart.release.tag}`, "upstream renamed or removed it: update the feature's selector");
  }
}

function missing(m: ChartModel, f: Feature, s: Selector, what = 'matches no object'): KfcError {
  return new SelectorMissing(m, f, s, what);
}

/**
 * A feature whose object upstream moved into another chart cannot follow it
 * (its values live in its own chart): the build fails naming the feature, the
 * object and the chart that holds it now. Other errors pass unchanged.
 */
export function movedObjectError(e: unknown, others: Array<{ name: string; objects: Array<{ kind: string; name: string; namespace?: string; apiVersion?: string }> }>): unknown {
  if (!(e instanceof SelectorMissing)) return e;
  const holders = others.filter((c) => c.name !== e.chart.name && c.objects.some((o) => selects(o, e.selector))).map((c) => c.name);
  if (!holders.length) return e;
  const f = e.feature;
  return new KfcError(
    `feature ${f.name} (${f.file}): ${describeSelector(e.selector)} is no longer in chart ${e.chart.name} in release ${e.chart.release.tag}: upstream moved it to chart ${holders.join(', ')}, and a feature cannot follow it there (its values live under ${e.chart.name})`,
    `claim the directory that produces it in components/${e.chart.name}.yaml (paths), or move the feature to components/${holders[0]}/features/ (its values key moves too: list it in kfc diff)`,
  );
}

function matching(m: ChartModel, f: Feature, s: Selector): ModelObject[] {
  const hits = m.objects.filter((o) => selects(o.sample, s));
  if (!hits.length) throw missing(m, f, s);
  const crd = hits.find((o) => o.crd);
  if (crd) throw new KfcError(`feature ${f.name} (${f.file}): ${describeSelector(s)} is a CRD; CRDs ship verbatim in crds/ and cannot be changed by a value`, 'drop the edit');
  return hits;
}

/** Every selector of a feature (drops, edits and generated Secrets, alternatives included). */
function selectorsOf(f: Feature): Selector[] {
  return [...f.drop.flatMap((d) => ('anyOf' in d ? d.anyOf : [d])), ...f.set.flatMap((e) => ('anyOf' in e ? e.anyOf : [e]).map((x) => x.select)), ...f.generate.flatMap((g) => (g.select ? [g.select] : []))];
}

/**
 * The features of a component file that claims nothing in a release do not
 * vanish quietly when their objects are still there: a selector matching an
 * object of another chart means upstream moved the component, and the build
 * fails naming the feature and that chart. (Without such objects the
 * component is gone, which the plan reports.)
 */
export function strandedFeatureError(file: string, features: Feature[], charts: Array<{ name: string; objects: Array<{ kind: string; name: string; namespace?: string; apiVersion?: string }> }>, tag: string): KfcError | undefined {
  for (const f of features) {
    for (const s of selectorsOf(f).filter((x) => x.kind !== '*' && !x.name.includes('*'))) {
      const holders = charts.filter((c) => c.objects.some((o) => selects(o, s))).map((c) => c.name);
      if (!holders.length) continue;
      return new KfcError(
        `feature ${f.name} (${f.file}): ${file} claims nothing in release ${tag}, but ${describeSelector(s)} is there, in chart ${holders.join(', ')}: upstream moved the component, and its features would silently stop applying`,
        `update the paths of ${file} to claim the directory that produces it now`,
      );
    }
  }
  return undefined;
}

/**
 * Applies one edit to every content (variant) of the objects it selects; it
 * must fit at least one. Returns how many it fitted, or the reason it fitted none.
 */
function applyEdit(m: ChartModel, f: Feature, e: Edit, at: string): { fitted: number; error?: KfcError } {
  const when = e.when ?? f.when;
  // a wildcard leaves CRDs alone (they ship verbatim); naming one is an error
  const wildcard = e.select.kind === '*' || e.select.name.includes('*');
  const objs = m.objects.filter((o) => selects(o.sample, e.select) && !(wildcard && o.crd) && o.branches.some((b) => b.content && hasContent(b.content, e.select.has)));
  if (!objs.length) return { fitted: 0, error: missing(m, f, e.select) };
  if (objs.some((o) => o.crd)) return { fitted: 0, error: new KfcError(`feature ${f.name} (${f.file}): ${describeSelector(e.select)} is a CRD; CRDs ship verbatim in crds/ and cannot be changed by a value`, 'drop the edit') };
  const patched = new Set<Content>();
  const misfits: KfcError[] = [];
  let fitted = 0;
  let containers = 0;
  for (const o of objs) {
    for (const b of o.branches) {
      const c = b.content;
      if (!c || patched.has(c) || !hasContent(c, e.select.has)) continue;
      patched.add(c);
      const where = `feature ${f.name} (${f.file}) ${at} on ${describeSelector(e.select)} in release ${m.release.tag}`;
      const targets = e.select.container ? containersOf(c, e.select.container) : [c.doc];
      containers += targets.length;
      for (const x of targets) {
        // variants may differ: the edit applies where it fits, the others keep upstream's content
        const before = structuredClone(x);
        try {
          mergeMap({ t: c.t, when, where }, x, e.patch, !!e.select.container);
          fitted++;
        } catch (err) {
          if (!(err instanceof KfcError)) throw err;
          for (const k of Object.keys(x)) delete x[k];
          Object.assign(x, before);
          misfits.push(err);
        }
      }
    }
  }
  if (e.select.container && !containers) return { fitted: 0, error: missing(m, f, e.select, 'names a container that no matching workload has') };
  return { fitted, error: misfits[0] };
}

/** The containers named `name` of a content's pod template (containers and init containers). */
function containersOf(c: Content, name: string): Array<Record<string, any>> {
  const spec = podTemplate(c.doc, c.obj.kind)?.spec;
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].filter((x: any) => x?.name === name);
}

/**
 * Applies features to a chart model; `used` counts, per feature, the objects
 * it dropped or edits it made (a shared feature must be used somewhere in the
 * release: see generate/chart-models.ts).
 */
export function applyFeatures(m: ChartModel, features: Feature[], used = new Map<string, number>()): ChartModel {
  for (const f of features) {
    if (f.except?.includes(m.name)) continue;
    if (f.values) {
      const blocks: Array<[string, unknown, JsonSchema | undefined]> = f.valuesAt === 'root' ? Object.entries(f.values).map(([k, v]) => [k, v, f.schema?.properties?.[k]]) : [[f.name, f.values, f.schema]];
      for (const [key, v, schema] of blocks) {
        if (Object.hasOwn(m.values, key) || RESERVED_KEYS.has(key)) throw new KfcError(`feature ${f.name} (${f.file}): values key "${key}" is already used in chart ${m.name}`, "rename the feature's values");
        if (!schema) throw new KfcError(`feature ${f.name} (${f.file}): values key "${key}" has no schema`, 'describe it under schema.properties');
        m.values[key] = structuredClone(v);
        m.properties[key] = structuredClone(schema);
      }
    }
    for (const d of f.drop) {
      const alts = 'anyOf' in d ? d.anyOf : [d];
      const hits = alts.flatMap((s) => m.objects.filter((o) => selects(o.sample, s)));
      used.set(f.name, (used.get(f.name) ?? 0) + hits.length);
      if (!hits.length && f.shared) continue;
      if (!hits.length) throw missing(m, f, alts[0], alts.length > 1 ? `(nor ${alts.slice(1).map(describeSelector).join(', ')}) matches no object` : 'matches no object');
      for (const o of hits) {
        if (o.crd) throw new KfcError(`feature ${f.name} (${f.file}): ${o.key} is a CRD; CRDs ship in crds/ and cannot be dropped by a value`, 'drop the selector');
        o.when.push(`not (${d.when ?? f.when})`);
      }
    }
    for (const [i, entry] of f.set.entries()) {
      const alts = 'anyOf' in entry ? entry.anyOf : [entry];
      // a shared feature only edits the charts holding its objects
      if (f.shared && !alts.some((e) => m.objects.some((o) => selects(o.sample, e.select) && o.branches.some((b) => b.content && hasContent(b.content, e.select.has))))) continue;
      const results = alts.map((e, j) => applyEdit(m, f, e, 'anyOf' in entry ? `set[${i}].anyOf[${j}]` : `set[${i}]`));
      used.set(f.name, (used.get(f.name) ?? 0) + results.reduce((n, r) => n + r.fitted, 0));
      // a shared feature fits some charts only; generate/chart-models.ts checks it fits somewhere
      if (!results.some((r) => r.fitted) && !f.shared) {
        const errors = results.map((r) => r.error!).filter(Boolean);
        if (errors.length === 1) throw errors[0];
        throw new KfcError(
          `feature ${f.name} (${f.file}) set[${i}]: none of its ${alts.length} alternatives fits release ${m.release.tag}:\n${errors.map((e) => `  - ${e.message}`).join('\n')}`,
          'upstream changed these objects: update the feature',
        );
      }
    }
    for (const [i, g] of f.generate.entries()) {
      const when = g.when ?? f.when;
      const at = `feature ${f.name} (${f.file}) generate[${i}]`;
      if (g.secret) {
        m.generated.push({
          namespace: g.secret.namespace,
          name: g.secret.name,
          when,
          keys: resolveKeys(g.keys, undefined, at),
          feature: f.name,
          ...(g.forEach ? { forEach: g.forEach } : {}),
          ...(g.type ? { type: g.type } : {}),
          ...(g.reads ? { reads: g.reads } : {}),
          ...(g.after ? { after: g.after } : {}),
        });
        continue;
      }
      const objs = matching(m, f, g.select!);
      const names = new Set(objs.map((o) => `${o.sample.namespace ?? ''}/${o.sample.name}`));
      if (objs.some((o) => o.sample.kind !== 'Secret') || names.size !== 1) throw new KfcError(`${at}: ${describeSelector(g.select!)} must name one Secret (found ${[...names].join(', ')})`, 'select the Secret the chart stops rendering');
      for (const o of objs) o.when.push(`not (${when})`);
      const sample = objs[0].branches.find((b) => b.content)?.content?.doc;
      m.generated.push({ namespace: g.namespace ?? objs[0].sample.namespace ?? '', name: objs[0].sample.name, when, keys: resolveKeys(g.keys, sample, at), feature: f.name });
    }
    for (const [file, text] of Object.entries(f.templates)) m.files[`templates/${file}`] = text;
    addOnlyWhen(m, f.onlyWhen, `feature ${f.name} (${f.file})`);
    if (f.shared) continue; // shared features document themselves and their scenarios in the umbrella
    for (const sc of f.scenarios) {
      const ci = addCiFile(m, sc.name, sc.values, `feature ${f.name}: ${sc.description.replace(/\s+/g, ' ')}`);
      ci.feature = { name: f.name, expect: sc.expect, ...(sc.umbrella ? { umbrella: sc.umbrella } : {}) };
    }
    m.features.push({ name: f.name, description: f.description, values: f.name, when: f.when });
    m.readmeSections.push(featureReadme(f));
  }
  return m;
}

/** The file of a chart's checks of values read only under a condition (rendered with the chart, it prints nothing). */
export const VALUES_CHECKS = 'templates/values-checks.yaml';

/** Adds `onlyWhen` checks to a chart: the defaults come from the chart's values (a global path from values-schemas/global.json). */
export function addOnlyWhen(m: { name: string; values: Record<string, unknown>; files: Record<string, string> }, rules: OnlyWhen[], where: string): void {
  for (const r of rules) {
    const keys = r.values.split('.');
    const defaults = keys[0] === 'global' ? dig(globalDefaults(), keys.slice(1)) : dig(m.values, keys);
    if (defaults === undefined) throw new KfcError(`${where}: onlyWhen values ${r.values} has no default in chart ${m.name}`, 'name a values path the chart (or global) has');
    const head = m.files[VALUES_CHECKS] ?? `{{- /* Values read only under a condition: set otherwise, they are refused naming what enables them. */}}\n`;
    m.files[VALUES_CHECKS] = `${head}${onlyWhenCheck(m.name, r, defaults)}\n`;
  }
}

const dig = (v: unknown, keys: string[]): unknown => keys.reduce<any>((o, k) => (o && typeof o === 'object' ? o[k] : undefined), v);

/** JSON with sorted keys, as Helm's toJson prints it. */
const sortedJson = (v: unknown): string =>
  JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(
          Object.keys(x)
            .sort()
            .map((k) => [k, x[k]]),
        )
      : x,
  );

export function onlyWhenCheck(chart: string, r: OnlyWhen, defaults: unknown): string {
  const value = `.Values.${r.values
    .split('.')
    .map((k) => (/^[A-Za-z_]\w*$/.test(k) ? k : ''))
    .join('.')}`;
  const expr = r.values.split('.').every((k) => /^[A-Za-z_]\w*$/.test(k))
    ? value
    : `(dig ${r.values
        .split('.')
        .map((k) => JSON.stringify(k))
        .join(' ')} nil .Values)`;
  const args = `"value" ${expr} "defaults" ${JSON.stringify(sortedJson({ v: defaults }))} "except" (list ${(r.except ?? []).map((k) => JSON.stringify(k)).join(' ')}) "path" ${JSON.stringify(r.values)} "needs" ${JSON.stringify(r.needs)} "root" $`;
  return `{{- if not (${r.when}) }}{{- include ${JSON.stringify(`${chart}.unused`)} (dict ${args}) }}{{- end }}`;
}

/** Key rules of a generated Secret, `keep` resolved to upstream's (non-secret) value. */
function resolveKeys(keys: Record<string, any>, upstream: any, where: string): Record<string, KeyRule> {
  return Object.fromEntries(
    Object.entries(keys).map(([k, r]) => {
      if (!('keep' in r)) return [k, r as KeyRule];
      const plain = upstream?.stringData?.[k] ?? (upstream?.data?.[k] !== undefined ? Buffer.from(String(upstream.data[k]), 'base64').toString('utf8') : undefined);
      if (plain === undefined) throw new KfcError(`${where}: key ${k} to keep is not in the upstream Secret`, 'upstream changed the Secret: update the feature');
      return [k, { value: String(plain) }];
    }),
  );
}

function featureReadme(f: Feature): string {
  const example = f.scenarios[0]?.values;
  return [`## \`${f.name}\``, '', f.description, ...(f.readme ? ['', f.readme.trim()] : []), ...(example ? ['', 'Example:', '', '```yaml', YAML.stringify(example, { version: '1.1' }).trimEnd(), '```'] : []), ''].join('\n');
}
