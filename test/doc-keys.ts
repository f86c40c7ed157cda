import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The values keys a generated README or NOTES names, for checking them against the chart's
 * values.schema.json (test/doc-keys.test.ts): backticked dotted keys (`a.b`, `a.b: value`,
 * `a.b=value`), `--set a.b=value`, and in NOTES templates `.Values.a.b` and `(index .Values "a-b").c`.
 */

/** Object fields and names that look like dotted keys but are not values (hostnames, files, API groups). */
const NOT_VALUES = /^(metadata|spec|status|data|stringData|AsMap)\b|\.(ya?ml|json|txt|tpl|md|tgz|py|sh|ts|js|crt|key|pem|svc|io|com|org|local|dev|cluster)$|\.svc\.|\.k8s\.io|^\d/;
const KEY = /^[a-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+|\[\d*\])+$/;

export interface DocKey {
  key: string;
  /** where it was found: `README.md: \`...\`` */
  where: string;
}

function candidate(raw: string): string | undefined {
  let k = raw.trim().replace(/^\.Values\./, '');
  k = k.split(/: |=/)[0].trim();
  return KEY.test(k) && !NOT_VALUES.test(k) ? k : undefined;
}

/** Keys named in markdown or plain text: backticked spans and --set arguments. */
export function textKeys(text: string, file: string): DocKey[] {
  const out: DocKey[] = [];
  for (const m of text.matchAll(/`([^`\n]+)`/g)) {
    const k = candidate(m[1]);
    if (k) out.push({ key: k, where: `${file}: \`${m[1]}\`` });
  }
  for (const m of text.matchAll(/--set(?:-string|-json)?[ =]([^\s`'"]+)=/g)) {
    const k = candidate(m[1]);
    if (k) out.push({ key: k, where: `${file}: --set ${m[1]}=` });
  }
  return out;
}

/** Keys a NOTES template reads (`.Values.a.b`, `(index .Values "a-b").c`) and names in its text. */
export function notesKeys(text: string, file: string): DocKey[] {
  const out: DocKey[] = [];
  for (const m of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) if (m[1] !== '.AsMap') out.push({ key: m[1].slice(1), where: `${file}: .Values${m[1]}` });
  for (const m of text.matchAll(/\(index \.Values "([^"]+)"\)((?:\.[A-Za-z_][A-Za-z0-9_]*)*)/g)) out.push({ key: `${m[1]}${m[2]}`, where: `${file}: ${m[0]}` });
  const prose = text.replace(/\{\{[^]*?\}\}/g, ' ');
  out.push(...textKeys(prose, file));
  return out;
}

type Schema = Record<string, any> | boolean;

/** Whether `key` (dotted, `[n]` for list items) is a path the schema accepts. */
export function schemaAccepts(root: Schema, key: string): boolean {
  const segs = key.split(/\.|(?=\[)/).filter(Boolean);
  const deref = (s: Schema): Schema =>
    typeof s === 'object' && typeof s.$ref === 'string' && s.$ref.startsWith('#/')
      ? deref(
          s.$ref
            .slice(2)
            .split('/')
            .reduce((o: any, p) => o?.[p], root),
        )
      : s;
  const walk = (s0: Schema, i: number): boolean => {
    const s = deref(s0);
    if (i === segs.length) return s !== false && s !== undefined;
    if (s === true) return true;
    if (!s || typeof s !== 'object') return false;
    const alts = [...(s.allOf ?? []), ...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.then ? [s.then] : []), ...(s.else ? [s.else] : [])];
    if (alts.some((a: Schema) => walk(a, i))) return true;
    const seg = segs[i];
    if (seg.startsWith('[')) return s.items !== undefined && walk(s.items, i + 1);
    if (s.properties && seg in s.properties) return walk(s.properties[seg], i + 1);
    for (const [re, p] of Object.entries<Schema>(s.patternProperties ?? {})) if (new RegExp(re).test(seg)) return walk(p, i + 1);
    if (s.additionalProperties !== undefined && s.additionalProperties !== false) return walk(s.additionalProperties, i + 1);
    // an object schema without a closed property list (free-form maps)
    return s.type === 'object' && !s.properties && s.additionalProperties === undefined;
  };
  return walk(root, 0);
}

/** Every key the README and NOTES of a chart name. */
export function chartDocKeys(dir: string): DocKey[] {
  const out: DocKey[] = [];
  const readme = path.join(dir, 'README.md');
  const notes = path.join(dir, 'templates', 'NOTES.txt');
  if (existsSync(readme)) out.push(...textKeys(readFileSync(readme, 'utf8'), 'README.md'));
  if (existsSync(notes)) out.push(...notesKeys(readFileSync(notes, 'utf8'), 'templates/NOTES.txt'));
  return out;
}
