import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { JsonSchema } from '../core/schema.js';
import path from 'node:path';
import { KfcError } from '../core/errors.js';
import { helmTemplate } from '../core/helm.js';
import { parseYaml, splitObjects } from '../core/model.js';
import { componentsDir } from '../discover/components.js';
import { UMBRELLA } from '../core/chart-model.js';

/**
 * Values keys upstream removed in this release, accepted for one release with a
 * deprecation notice (NOTES) instead of a schema error: a platform team's values
 * file for the previous release keeps working for one `helm upgrade`.
 *
 * The keys come from components/removed-values.json, written by
 * `node scripts/removed-values.mjs --from <previous tag>` (it builds the previous
 * release and compares the charts' values schemas); a test checks it against the
 * two mirrored releases.
 */
export interface RemovedValues {
  from: string;
  to: string;
  /** chart -> top-most removed values paths (`minio`, `kustomizeComponents.pssDynamicRestricted`) */
  charts: Record<string, string[]>;
  /** charts of `from` whose objects other charts hold now (movedCharts): their umbrella keys move */
  moved?: Record<string, MovedChart>;
}

export const REMOVED_VALUES_FILE = 'removed-values.json';

/** The removed keys for `tag`; a file for another release pair is reported, not applied. */
export function loadRemovedValues(tag: string, warn: (m: string) => void): RemovedValues | undefined {
  const file = path.join(componentsDir(), REMOVED_VALUES_FILE);
  if (!existsSync(file)) return undefined;
  let r: RemovedValues;
  try {
    r = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new KfcError(`${file}: ${(e as Error).message}`, 'regenerate it with node scripts/removed-values.mjs');
  }
  if (typeof r?.from !== 'string' || typeof r?.to !== 'string' || typeof r?.charts !== 'object') throw new KfcError(`${file}: expected {from, to, charts}`, 'regenerate it with node scripts/removed-values.mjs');
  for (const [c, m] of Object.entries(r.moved ?? {})) {
    if (!Array.isArray(m?.into) || !Array.isArray(m?.keys) || m.keys.some((k) => typeof k?.from !== 'string' || !k.from.startsWith(`${c}.`)))
      throw new KfcError(`${file}: moved.${c} must be {into: [charts], renamed?, keys: [{from: "${c}.<key>", to?, why}]}`, 'regenerate it with node scripts/removed-values.mjs');
  }
  if (r.to !== tag) {
    warn(`${file} lists keys removed from ${r.from} to ${r.to}, not to the pinned ${tag}: no deprecated keys are accepted; regenerate it (node scripts/removed-values.mjs --previous <charts of the previous release>)`);
    return undefined;
  }
  return r;
}

/** Every values path of a schema, descending into closed objects only (free-form maps hold data). */
export function valuesPaths(schema: JsonSchema | undefined, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, s] of Object.entries(schema?.properties ?? {})) {
    const p = prefix ? `${prefix}.${k}` : k;
    out.push(p);
    if (s?.properties && s.additionalProperties === false) out.push(...valuesPaths(s, p));
  }
  return out;
}

/**
 * The removed values of a release pair, from the two releases' charts (chart
 * name -> values schema). A renamed chart (`moved`) is no removed umbrella
 * key: its keys move (acceptMoved).
 */
export function removedValues(from: string, to: string, before: Record<string, JsonSchema>, after: Record<string, JsonSchema>, moved: Record<string, MovedChart> = {}): RemovedValues {
  const charts: Record<string, string[]> = {};
  for (const [c, schema] of Object.entries(before)) {
    if (!after[c]) continue; // a whole chart: the umbrella's key for it is listed under the umbrella
    const gone = removedPaths(schema, after[c]).filter((p) => c !== UMBRELLA || !moved[p]);
    if (gone.length) charts[c] = gone;
  }
  return { from, to, charts, ...(Object.keys(moved).length ? { moved } : {}) };
}

/** The top-most paths `before` has and `after` lacks (not those already deprecated in `before`). */
export function removedPaths(before: JsonSchema, after: JsonSchema): string[] {
  const now = new Set(valuesPaths(after).filter((p) => !/^Deprecated:/.test(schemaNode(after, p)?.description ?? '')));
  const gone = valuesPaths(before).filter((p) => !now.has(p) && !/^Deprecated:/.test(schemaNode(before, p)?.description ?? ''));
  return gone.filter((p) => !gone.some((q) => p.startsWith(`${q}.`))).sort();
}

function schemaNode(schema: JsonSchema, p: string): JsonSchema | undefined {
  return p.split('.').reduce<JsonSchema | undefined>((s, k) => s?.properties?.[k], schema);
}

const deprecation = (r: RemovedValues) => `Deprecated: removed upstream in ${r.to} (it was in ${r.from}); accepted for this release and ignored. Remove it from your values.`;

/**
 * Accepts the removed keys in a chart's schema properties (any value, ignored)
 * and returns the NOTES lines warning about the ones a user still sets.
 * `prefix` is the chart's key inside the umbrella ('' for the chart itself).
 */
export function acceptRemoved(properties: Record<string, JsonSchema>, paths: string[], r: RemovedValues, prefix = ''): string {
  const notes: string[] = [];
  for (const p of paths) {
    const keys = p.split('.');
    let node: JsonSchema | undefined = { properties };
    for (const k of keys.slice(0, -1)) node = node?.properties?.[k];
    if (!node?.properties) continue; // its parent went too: the parent is listed
    const existing = node.properties[keys[keys.length - 1]];
    if (existing && !String(existing.description ?? '').startsWith('Deprecated:')) continue; // still there (a stale list)
    node.properties[keys[keys.length - 1]] = { description: deprecation(r) };
    const full = [...(prefix ? [prefix] : []), ...keys];
    notes.push(
      `{{- if ne (dig ${full.map((k) => JSON.stringify(k)).join(' ')} "<unset>" .Values.AsMap | toString) "<unset>" }}`,
      `DEPRECATED: ${full.join('.')} was removed upstream in ${r.to}; it is ignored. Remove it from your values.`,
      '{{- end }}',
    );
  }
  return notes.join('\n');
}

/** A chart's contract with users, for comparing two releases: its objects and its top-level values keys. */
export interface ChartKeys {
  name: string;
  /** identities of the objects of its default render (`apiVersion/kind/namespace/name`) */
  objects: string[];
  /** top-level values keys of the chart (`global` is shared and left out) */
  values: string[];
}

/** A values key of the previous release and its place now (umbrella values paths). */
export interface KeyMove {
  from: string;
  /** the key to use now; none when the new release has no equivalent */
  to?: string;
  why: string;
}

/** A chart of the previous release whose objects now live in other charts. */
export interface MovedChart {
  /** the charts holding its objects now, most first */
  into: string[];
  /** its one successor when it was only renamed (a new chart holding its objects and nothing else) */
  renamed?: string;
  keys: KeyMove[];
}

/** `apiVersion/kind/namespace/name` without the version and kustomize's hash suffix: survives a regrouping. */
function looseIdentity(key: string): string {
  const p = key.split('/');
  const [group, kind, ns, name] = p.length === 5 ? [p[0], p[2], p[3], p[4]] : ['', p[1], p[2], p[3]];
  return `${group}/${kind}/${ns}/${['ConfigMap', 'Secret'].includes(kind) ? name.replace(/-[a-z0-9]{10}$/, '') : name}`;
}

/**
 * The charts of `before` that `after` no longer has but whose objects it
 * still renders elsewhere (upstream regrouped them and no component file
 * names them any more): where their objects went and what becomes of each
 * values key. A chart whose objects are gone entirely is a removal, not a move;
 * with `renamedOnly`, so is one merged into charts that have objects of their
 * own (only a renamed chart's umbrella key can be honoured for a release:
 * acceptMoved; the others stay removed keys, accepted with a notice).
 */
export function movedCharts(before: ChartKeys[], after: ChartKeys[], o: { renamedOnly?: boolean } = {}): Record<string, MovedChart> {
  const out: Record<string, MovedChart> = {};
  const had = new Set(before.map((c) => c.name));
  const owner = new Map<string, string>();
  for (const c of after) for (const k of c.objects) owner.set(looseIdentity(k), c.name);
  for (const x of before.filter((c) => !after.some((y) => y.name === c.name))) {
    const counts = new Map<string, number>();
    for (const k of x.objects) {
      const to = owner.get(looseIdentity(k));
      if (to) counts.set(to, (counts.get(to) ?? 0) + 1);
    }
    const into = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([n]) => n);
    if (!into.length) continue;
    const mine = new Set(x.objects.map(looseIdentity));
    const y = after.find((c) => c.name === into[0])!;
    const renamed = into.length === 1 && !had.has(y.name) && y.objects.every((k) => mine.has(looseIdentity(k))) ? y.name : undefined;
    if (o.renamedOnly && !renamed) continue;
    const where = into.map((n) => `${n} (${counts.get(n)})`).join(', ');
    const keys: KeyMove[] = [renamed ? { from: `${x.name}.enabled`, to: `${renamed}.enabled`, why: 'renamed' } : { from: `${x.name}.enabled`, why: `its objects are now in ${where}, which have their own switches` }];
    for (const k of x.values.filter((v) => v !== 'global')) {
      const holder = into.find((n) => after.find((c) => c.name === n)!.values.includes(k));
      keys.push(holder ? { from: `${x.name}.${k}`, to: `${holder}.${k}`, why: renamed ? 'renamed' : `its objects are now in ${holder}` } : { from: `${x.name}.${k}`, why: `no such key in ${into.join(', ')}` });
    }
    out[x.name] = { into, ...(renamed ? { renamed } : {}), keys };
  }
  return out;
}

/** What the umbrella does for the keys of charts that moved: schema entries, dependency conditions, a guard template and NOTES. */
export interface MovedKeys {
  /** new chart -> extra leading condition paths (`old.enabled` of a chart renamed into it) */
  conditions: Record<string, string[]>;
  /** templates/moved-values.yaml: refuses, naming the new key, what Helm cannot hand to another subchart */
  template: string;
  notes: string;
}

/**
 * Accepts the umbrella keys of charts that moved, for one release: a renamed
 * chart's `enabled` still switches it (Helm's first condition path that is
 * set wins), with a DEPRECATED line in NOTES. Helm gives a subchart only the
 * values under its own name, so any other key under the old name cannot
 * reach the new chart: the render fails naming the key to use instead rather
 * than ignoring it.
 */
export function acceptMoved(properties: Record<string, any>, r: RemovedValues): MovedKeys {
  const out: MovedKeys = { conditions: {}, template: '', notes: '' };
  const guards: string[] = [];
  const notes: string[] = [];
  for (const [old, m] of Object.entries(r.moved ?? {})) {
    if (properties[old]) continue; // a chart of that name exists again: its own key
    const where = m.renamed ? `renamed ${m.renamed}` : `moved into ${m.into.join(', ')}`;
    properties[old] = {
      description: `Deprecated: chart ${old} of ${r.from} was ${where} in ${r.to}.${m.renamed ? ` \`${old}.enabled\` still switches ${m.renamed} for this release;` : ''} any other key fails the render naming its new place. Move your values.`,
      type: 'object',
      additionalProperties: true,
      properties: { enabled: { description: m.renamed ? `Deprecated: use ${m.renamed}.enabled.` : `Deprecated: ${old}'s objects are now in ${m.into.join(', ')}; switch those.`, type: 'boolean' } },
    };
    if (m.renamed) (out.conditions[m.renamed] ??= []).push(`${old}.enabled`);
    const moves = Object.fromEntries(m.keys.map((k) => [k.from.slice(old.length + 1), k.to ? `set ${k.to} instead` : `it has no equivalent in ${r.to} (${k.why})`]));
    const honoured = m.renamed ? ['enabled'] : [];
    guards.push(
      `{{- with (index .Values ${JSON.stringify(old)}) }}`,
      `{{- $moves := dict ${Object.entries(moves)
        .map(([k, v]) => `${JSON.stringify(k)} ${JSON.stringify(v)}`)
        .join(' ')} }}`,
      '{{- range $k, $_ := . }}',
      `{{- if not (has $k (list ${honoured.map((h) => JSON.stringify(h)).join(' ')})) }}`,
      `{{- fail (printf "values key ${old}.%s: chart ${old} of ${r.from} was ${where} in ${r.to}; %s (kfc diff ${r.from} ${r.to} lists every key move)" $k (get $moves $k | default "move it under the chart that holds its objects now")) }}`,
      '{{- end }}',
      '{{- end }}',
      '{{- end }}',
    );
    notes.push(
      `{{- if hasKey .Values ${JSON.stringify(old)} }}`,
      `DEPRECATED: ${old} was ${where} in ${r.to}${m.renamed ? `; ${old}.enabled is honoured for this release, use ${m.renamed}.enabled` : ''}. Move your values (kfc diff ${r.from} ${r.to} lists every key move).`,
      '{{- end }}',
    );
  }
  if (guards.length) out.template = `{{- /* umbrella keys of charts that moved since ${r.from} (components/removed-values.json) */}}\n${guards.join('\n')}\n`;
  out.notes = notes.join('\n');
  return out;
}

/** The ChartKeys of every chart in a charts directory (the umbrella left out): default render and values keys. */
export async function chartKeysOf(chartsDir: string): Promise<ChartKeys[]> {
  const names = readdirSync(chartsDir)
    .filter((c) => c !== UMBRELLA && existsSync(path.join(chartsDir, c, 'Chart.yaml')))
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const dir = path.join(chartsDir, name);
      const values = Object.keys(parseYaml(readFileSync(path.join(dir, 'values.yaml'), 'utf8')) ?? {});
      const objects = splitObjects(await helmTemplate(dir, { includeCrds: true, set: ['global.devMode=true'], release: name }), `helm template ${name}`).map((o) => o.key);
      return { name, objects, values };
    }),
  );
}

/**
 * The umbrella's own templates (gates, tests, NOTES) test a chart's switch as
 * `(index .Values "<chart>").enabled`; for a renamed chart the old switch wins
 * when it is set, exactly as the dependency's condition reads it.
 */
export function withOldSwitches(text: string, conditions: Record<string, string[]>): string {
  let out = text;
  for (const [chart, olds] of Object.entries(conditions)) {
    const now = `(index .Values ${JSON.stringify(chart)}).enabled`;
    const expr = olds.reduceRight((acc, o) => `(dig "enabled" ${acc} (index .Values ${JSON.stringify(o.replace(/\.enabled$/, ''))} | default dict))`, now);
    out = out.split(now).join(expr);
  }
  return out;
}
