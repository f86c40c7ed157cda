import YAML from 'yaml';
import { KfcError } from '../core/errors.js';
import { isMap } from '../core/util.js';
import { blockValue, sp, STRINGIFY_OPTIONS, type TemplateDoc } from '../templatize/template-doc.js';

/**
 * Conditional patches: a feature's edit of an upstream object, rendered only
 * while the feature's condition holds. The patch reads like a kustomize
 * strategic-merge patch:
 *
 * - maps merge key by key; `null` removes a key;
 * - lists of maps with `name` (containers, env, ports, volumes) merge by name;
 *   `{name: X, $patch: delete}` removes an item;
 * - `{$items: [{match: <regexp>, value: <string|null>}], $append: [...]}` edits
 *   a list of strings (args, command): the matching item is replaced (or
 *   removed), appended ones are added;
 * - `{$yaml: <patch>}` / `{$json: <patch>}` patch a string that holds YAML or
 *   JSON (ConfigMap keys), printed back when the condition holds;
 *   `{$kv: {key: value|null}}` patches a `key = value` text (oauth2-proxy's cfg);
 * - `{$appendFrom: <expr>}` appends the items of a values list to a list;
 * - `{$each: <patch>}` patches every item of a list of mappings;
 * - `{$where: [{match: <subset>, patch: <patch>}]}` patches the items of a list of mappings that
 *   hold `match` (maps by key, lists by items, scalars equal), `delete: true` removes them; each
 *   `match` must find one;
 * - `{$file: <name>}` (components/<component>/files/<name>) replaces a value by that text;
 * - `$replace: [{from, to}]` at the top of a patch rewrites a text wherever the object holds it;
 * - any other value replaces the upstream one.
 *
 * Leaves: a string holding `{{ }}` is a template action (a lone action is
 * printed as is, so it must print a YAML scalar: use `| quote`; text around
 * actions is rendered with `tpl` and quoted); `{$toYaml: <expr>}` prints the
 * YAML of a values expression as the node.
 *
 * With the condition false every object prints exactly its upstream content,
 * so features off keep parity with `kustomize build`.
 */

export interface PatchContext {
  t: TemplateDoc;
  /** template condition (without braces) under which the patch applies */
  when: string;
  /** what is patched, for error messages (`feature x, Deployment y`) */
  where: string;
}

const isDirective = (v: unknown) => isMap(v) && Object.keys(v).some((k) => k.startsWith('$'));
const isNamedList = (v: unknown): v is Array<Record<string, unknown>> => Array.isArray(v) && v.length > 0 && v.every((x) => isMap(x) && typeof x.name === 'string');

/**
 * A string with template actions, as a scalar token. In YAML a lone action
 * prints as is (it must print a scalar); text around actions goes through
 * `tpl` and is quoted. Inside a JSON string the token sits in quotes already.
 */
function actionLeaf(t: TemplateDoc, s: string, json: boolean): string {
  const lone = /^\{\{[^]*\}\}$/.test(s) && s.indexOf('{{', 2) < 0;
  if (json) return t.raw(lone ? s : `{{ tpl ${JSON.stringify(s)} $ }}`);
  return t.raw(lone ? s : `{{ tpl ${JSON.stringify(s)} $ | quote }}`);
}

/** The new content of a patched node, with template leaves as tokens. */
export function templated(t: TemplateDoc, v: unknown, json = false, keepPatch = false): unknown {
  if (typeof v === 'string') return v.includes('{{') ? actionLeaf(t, v, json) : v;
  if (Array.isArray(v)) return v.map((x) => templated(t, x, json, keepPatch));
  if (isMap(v)) {
    if ('$toYaml' in v) {
      if (json) return t.raw(`{{ toJson ${v.$toYaml} }}`);
      return t.value(blockValue(String(v.$toYaml)));
    }
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => keepPatch || k !== '$patch')
        .map(([k, x]) => [k, templated(t, x, json, keepPatch)]),
    );
  }
  return v;
}

/** `{{- if W }}` new `{{- else }}` old `{{- end }}` as lines at `indent`. */
function conditional(c: PatchContext, indent: number, next: string | undefined, old: string | undefined): string {
  const lines = [`${sp(indent)}{{- if ${old !== undefined && next === undefined ? `not (${c.when})` : c.when} }}`];
  if (next !== undefined) lines.push(next.replace(/\n$/, ''));
  if (next !== undefined && old !== undefined) lines.push(`${sp(indent)}{{- else }}`, old.replace(/\n$/, ''));
  else if (next === undefined && old !== undefined) lines.push(old.replace(/\n$/, ''));
  lines.push(`${sp(indent)}{{- end }}`);
  return lines.join('\n');
}

/** Replaces (or adds, or removes with `next === null`) `obj[key]` under the condition. */
function replaceEntry(c: PatchContext, obj: Record<string, unknown>, key: string, next: unknown, listItem: boolean, literal = false): void {
  const has = Object.hasOwn(obj, key);
  const old = obj[key];
  // a literal value (a patched YAML/JSON/cfg text) holds its tokens already: its own braces stay text
  const value = next === null ? undefined : literal ? next : templated(c.t, next);
  const token = c.t.key((indent) => conditional(c, indent, value === undefined ? undefined : c.t.render({ [key]: value }, c.where, indent), has ? c.t.render({ [key]: old }, c.where, indent) : undefined));
  const entries = Object.entries(obj);
  const at = entries.findIndex(([k]) => k === key);
  // a block cannot sit on a list item's dash line: the first key of an item moves last (same object)
  if (at >= 0 && !(listItem && at === 0)) entries[at] = [token, null];
  else {
    if (at >= 0) entries.splice(at, 1);
    entries.push([token, null]);
  }
  for (const k of Object.keys(obj)) delete obj[k];
  Object.assign(obj, Object.fromEntries(entries));
}

function mergeNamedList(c: PatchContext, list: unknown[], items: Array<Record<string, unknown>>): void {
  for (const item of items) {
    const at = list.findIndex((x) => isMap(x) && x.name === item.name);
    if (item.$patch === 'delete') {
      if (at < 0) throw new KfcError(`${c.where}: no list item named "${item.name}" to delete`, 'upstream renamed it: update the feature');
      const old = list[at];
      list[at] = c.t.item((indent) => conditional(c, indent, undefined, c.t.render([old], c.where, indent)));
    } else if (at >= 0) {
      const { name: _n, ...rest } = item;
      mergeMap(c, list[at] as Record<string, unknown>, rest, true);
    } else {
      const value = templated(c.t, item);
      list.push(c.t.item((indent) => conditional(c, indent, c.t.render([value], c.where, indent), undefined)));
    }
  }
}

function editStrings(c: PatchContext, list: unknown[], d: { $items?: Array<{ match: string; value: string | null }>; $append?: string[] }): void {
  for (const e of d.$items ?? []) {
    const re = new RegExp(e.match);
    const at = list.findIndex((x) => typeof x === 'string' && re.test(x));
    if (at < 0) throw new KfcError(`${c.where}: no list item matches /${e.match}/`, 'upstream changed it: update the feature');
    const old = list[at];
    const value = e.value === null ? undefined : templated(c.t, e.value);
    list[at] = c.t.item((indent) => conditional(c, indent, value === undefined ? undefined : c.t.render([value], c.where, indent), c.t.render([old], c.where, indent)));
  }
  for (const a of d.$append ?? []) {
    const value = templated(c.t, a);
    list.push(c.t.item((indent) => conditional(c, indent, c.t.render([value], c.where, indent), undefined)));
  }
}

/**
 * `$replace: [{from, to}]`: every string of the object that contains `from`
 * prints `to` there instead (a template) while the condition holds, upstream's
 * text otherwise. Longer `from`s are replaced first. Returns how many strings changed.
 */
function replaceStrings(c: PatchContext, node: unknown, rules: Array<{ from: string; to: string }>): number {
  const sorted = [...rules].sort((a, b) => b.from.length - a.from.length);
  const re = new RegExp(sorted.map((r) => r.from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  const to = new Map(sorted.map((r) => [r.from, `{{ if ${c.when} }}${r.to}{{ else }}${r.from}{{ end }}`]));
  let n = 0;
  const walk = (v: unknown, parent: Record<string | number, unknown> | undefined, key: string | number) => {
    if (typeof v === 'string') {
      if (!re.test(v)) return;
      re.lastIndex = 0;
      if (parent) parent[key] = v.replace(re, (m) => c.t.raw(to.get(m)!));
      re.lastIndex = 0;
      n++;
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, v as unknown as Record<number, unknown>, i));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (!(v === meta && k === 'name')) walk(x, v as Record<string, unknown>, k);
  };
  // an object keeps its name
  const meta = isMap(node) ? node.metadata : undefined;
  walk(node, undefined, '');
  return n;
}

/** Applies a patch (see above) to the map `target` under the condition. */
export function mergeMap(c: PatchContext, target: Record<string, unknown>, patch: Record<string, unknown>, listItem = false): void {
  if (Array.isArray(patch.$replace)) {
    if (!replaceStrings(c, target, patch.$replace)) throw new KfcError(`${c.where}: no string to replace`, 'it does not name what the feature replaces');
    const { $replace: _r, ...rest } = patch;
    patch = rest;
  }
  for (const [k, pv] of Object.entries(patch)) {
    const has = Object.hasOwn(target, k);
    const cur = target[k];
    // upstream pod labels/annotations bound to the podMeta helper: keys added under the condition
    const binding = typeof cur === 'string' ? c.t.podMeta.get(cur) : undefined;
    if (binding && isMap(pv) && Object.values(pv).every((x) => typeof x === 'string' && !x.includes('{{'))) {
      binding.add.push({ when: c.when, values: pv as Record<string, string> });
      continue;
    }
    if (pv === null && !has) throw new KfcError(`${c.where}: no field "${k}" to remove`, 'upstream changed it: update the feature');
    if (isMap(pv) && '$literal' in pv) replaceEntry(c, target, k, String(pv.$literal), listItem, true);
    else if (isMap(pv) && ('$yaml' in pv || '$json' in pv)) {
      if (typeof cur !== 'string') throw new KfcError(`${c.where}: "${k}" is not a string holding ${'$yaml' in pv ? 'YAML' : 'JSON'}`, 'upstream changed it: update the feature');
      replaceEntry(c, target, k, patchText(c, cur, pv, k), listItem, true);
    } else if (isMap(pv) && '$kv' in pv) {
      if (typeof cur !== 'string') throw new KfcError(`${c.where}: "${k}" is not a text of key = value lines`, 'upstream changed it: update the feature');
      replaceEntry(c, target, k, patchKeyValues(c, cur, pv.$kv as Record<string, unknown>), listItem, true);
    } else if (isMap(pv) && '$each' in pv) {
      if (!Array.isArray(cur) || !cur.length || !cur.every(isMap)) throw new KfcError(`${c.where}: "${k}" is not a list of mappings`, 'upstream changed it: update the feature');
      if (!isMap(pv.$each)) throw new KfcError(`${c.where}: "$each" of "${k}" must be a mapping`, 'see components/README.md');
      for (const item of cur) mergeMap(c, item, pv.$each, true);
    } else if (isMap(pv) && '$where' in pv) {
      if (!Array.isArray(cur)) throw new KfcError(`${c.where}: "${k}" is not a list`, 'upstream changed it: update the feature');
      for (const w of pv.$where as Array<{ match: unknown; patch?: Record<string, any>; delete?: boolean }>) {
        const hits = cur.filter((item) => isMap(item) && holds(item, w.match));
        if (!hits.length) throw new KfcError(`${c.where}: no item of "${k}" holds ${JSON.stringify(w.match)}`, 'upstream changed it: update the feature');
        for (const item of hits) {
          if (!w.delete) mergeMap(c, item, w.patch ?? {}, true);
          else cur[cur.indexOf(item)] = c.t.item((indent) => conditional(c, indent, undefined, c.t.render([item], c.where, indent)));
        }
      }
    } else if (isMap(pv) && '$appendFrom' in pv) {
      if (has && !Array.isArray(cur)) throw new KfcError(`${c.where}: "${k}" is not a list`, 'upstream changed it: update the feature');
      const expr = String(pv.$appendFrom);
      const item = c.t.item((indent) => `${sp(indent)}{{- if ${c.when} }}{{- with ${expr} }}{{- toYaml . | nindent ${indent} }}{{- end }}{{- end }}`);
      if (Array.isArray(cur)) cur.push(item);
      else replaceEntry(c, target, k, { $toYaml: expr }, listItem);
    } else if (isMap(pv) && ('$items' in pv || '$append' in pv)) {
      if (!Array.isArray(cur)) throw new KfcError(`${c.where}: "${k}" is not a list`, 'upstream changed it: update the feature');
      editStrings(c, cur, pv);
    } else if (has && isMap(cur) && isMap(pv) && !isDirective(pv)) mergeMap(c, cur, pv);
    // an empty upstream list is replaced whole: item blocks alone would print `key:` (null) when off
    else if (has && Array.isArray(cur) && cur.length && isNamedList(pv)) mergeNamedList(c, cur, pv);
    else replaceEntry(c, target, k, pv, listItem);
  }
}

/** Whether `v` holds `match`: maps by key, lists by items (each matched by some item), scalars equal. */
export function holds(v: unknown, match: unknown): boolean {
  if (isMap(match)) return isMap(v) && Object.entries(match).every(([k, m]) => holds(v[k], m));
  if (Array.isArray(match)) return Array.isArray(v) && match.every((m) => v.some((x) => holds(x, m)));
  return v === match;
}

/** Merges without conditions (inside a YAML/JSON string, which is replaced as a whole). */
function plainMerge(target: unknown, patch: unknown): unknown {
  if (!isMap(patch) || isDirective(patch) || !isMap(target)) return patch;
  const out: Record<string, unknown> = { ...target };
  for (const [k, pv] of Object.entries(patch)) {
    if (pv === null) delete out[k];
    else if (Array.isArray(out[k]) && isNamedList(pv)) {
      const list = [...out[k]];
      for (const item of pv) {
        const at = list.findIndex((x) => isMap(x) && x.name === item.name);
        const { $patch, ...rest } = item;
        if ($patch === 'delete') {
          if (at >= 0) list.splice(at, 1);
        } else if (at >= 0) list[at] = plainMerge(list[at], rest);
        else list.push(rest);
      }
      out[k] = list;
    } else out[k] = plainMerge(out[k], pv);
  }
  return out;
}

/** The text of a YAML/JSON string after a patch, template leaves as tokens (rendered by the outer document). */
function patchText(c: PatchContext, text: string, d: Record<string, unknown>, key: string): string {
  const json = '$json' in d;
  let parsed: unknown;
  try {
    parsed = json ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new KfcError(`${c.where}: "${key}" does not parse as ${json ? 'JSON' : 'YAML'}: ${(e as Error).message}`, 'upstream changed it: update the feature');
  }
  // only the patch's strings are templates: upstream's own `{{ }}` (Argo's keyFormat) stays text
  const merged = plainMerge(parsed, templated(c.t, json ? d.$json : d.$yaml, json, true));
  // `$toYaml` in JSON is a raw token printed in quotes: unquote it
  const out = json ? JSON.stringify(merged, null, 2).replace(/"(__KFC_\d+__)"/g, (m, tok) => (c.t.isRaw(tok) && c.t.rawText(tok).startsWith('{{ toJson') ? tok : m)) : YAML.stringify(merged, STRINGIFY_OPTIONS);
  return text.endsWith('\n') || json ? out.replace(/\n?$/, text.endsWith('\n') ? '\n' : '') : out.replace(/\n$/, '');
}

/**
 * A `key = value` text (TOML-like, comments kept) with keys set to template
 * values, removed (null) or appended. Values are printed as given: quote
 * strings (`{{ .Values.x | quote }}`).
 */
function patchKeyValues(c: PatchContext, text: string, edits: Record<string, unknown>): string {
  const lines = text.split('\n');
  const seen = new Set<string>();
  // template actions print as given, strings are quoted, booleans and numbers are bare
  const value = (v: unknown) => (typeof v === 'string' && v.includes('{{') ? c.t.raw(v) : typeof v === 'string' ? JSON.stringify(v) : String(v));
  const out: string[] = [];
  for (const line of lines) {
    const m = /^(\s*)([A-Za-z_][\w-]*)\s*=/.exec(line);
    if (!m || !(m[2] in edits)) {
      out.push(line);
      continue;
    }
    seen.add(m[2]);
    const v = edits[m[2]];
    if (v !== null) out.push(`${m[1]}${m[2]} = ${value(v)}`);
  }
  for (const [k, v] of Object.entries(edits)) if (!seen.has(k) && v !== null) out.push(`${k} = ${value(v)}`);
  return out.join('\n');
}
