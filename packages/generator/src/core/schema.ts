import { readFileSync } from 'node:fs';
import path from 'node:path';
import { KfcError } from './errors.js';
import { repoRoot } from './paths.js';

export const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

export interface SchemaDefinitions {
  global: any;
  image: any;
  resources: any;
  pod: { properties: Record<string, any> };
}

let cached: SchemaDefinitions | undefined;

const schemasDir = () => (process.env.KFC_VALUES_SCHEMAS ? path.resolve(process.env.KFC_VALUES_SCHEMAS) : path.join(repoRoot(), 'values-schemas'));

/** One schema building block, values-schemas/<name>.json (a fresh copy); `where` names who asked. */
export function loadSchemaBlock(name: string, where = 'the generator'): any {
  const file = path.join(schemasDir(), `${name}.json`);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new KfcError(`${where}: cannot read schema building block ${file}: ${(e as Error).message}`, 'restore values-schemas/ from git, or fix the $ref');
  }
}

/** The committed schema building blocks in values-schemas/ (ours, not upstream's). */
export function loadSchemaDefinitions(): SchemaDefinitions {
  if (cached) return cached;
  const read = (name: string) => loadSchemaBlock(name);
  cached = { global: read('global'), image: read('image'), resources: read('resources'), pod: read('pod') };
  return cached;
}

export interface SchemaRow {
  path: string;
  type: string;
  description: string;
}

/** Flattens a schema into documented rows (objects with declared properties are descended into). */
export function schemaRows(schema: any, prefix = ''): SchemaRow[] {
  const rows: SchemaRow[] = [];
  for (const [k, s] of Object.entries<any>(schema.properties ?? {})) {
    const p = prefix ? `${prefix}.${k}` : k;
    const type = Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? (s.enum ? 'string' : 'any'));
    rows.push({ path: p, type: s.enum ? `${type} (${s.enum.join(', ')})` : type, description: s.description ?? '' });
    if (s.properties && Object.keys(s.properties).length) rows.push(...schemaRows(s, p));
  }
  return rows;
}

/** Finds the schema node that documents a values path (for values.yaml comments). */
export function schemaAt(schema: any, keys: string[]): any {
  let s = schema;
  for (const k of keys) {
    if (!s) return undefined;
    if (s.properties && s.properties[k]) s = s.properties[k];
    else if (s.additionalProperties && typeof s.additionalProperties === 'object') s = s.additionalProperties;
    else return undefined;
  }
  return s;
}

/** The default values of `global` (the `default` of each property of values-schemas/global.json). */
export function globalDefaults(): Record<string, unknown> {
  return Object.fromEntries(Object.entries<any>(loadSchemaDefinitions().global.properties).filter(([, s]) => 'default' in s).map(([k, s]) => [k, structuredClone(s.default)]));
}
