import { existsSync, readFileSync } from 'node:fs';
import type { JsonSchema } from '../core/schema.js';
import path from 'node:path';
import { KfcError } from '../core/errors.js';
import { componentsDir } from '../discover/components.js';

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

/** The removed values of a release pair, from the two releases' charts (chart name -> values schema). */
export function removedValues(from: string, to: string, before: Record<string, JsonSchema>, after: Record<string, JsonSchema>): RemovedValues {
  const charts: Record<string, string[]> = {};
  for (const [c, schema] of Object.entries(before)) {
    if (!after[c]) continue; // a whole chart: the umbrella's key for it is listed under the umbrella
    const gone = removedPaths(schema, after[c]);
    if (gone.length) charts[c] = gone;
  }
  return { from, to, charts };
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
