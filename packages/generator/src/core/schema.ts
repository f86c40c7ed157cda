import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type Options } from 'ajv';
import { KfcError } from './errors.js';
import { repoRoot } from './paths.js';
import { stableStringify } from './util.js';

export const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

/** A JSON Schema (draft-07) node as the generator builds and reads them: the keywords it uses, typed; any other keyword allowed. */
export interface JsonSchema {
  $schema?: string;
  $ref?: string;
  title?: string;
  description?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  patternProperties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  pattern?: string;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  if?: JsonSchema;
  then?: JsonSchema;
  else?: JsonSchema;
  definitions?: Record<string, JsonSchema>;
  [keyword: string]: unknown;
}

/**
 * How `kfc validate` compiles a chart's schema: strict (an unknown keyword is an error), with keys refused by
 * name (`not: {}`) allowed inside maps whose other keys a pattern admits.
 */
export const STRICT_AJV: Options = { strict: true, strictTypes: false, allowMatchingProperties: true, allErrors: true, verbose: true };

/** A chart's schema must compile strictly: a YAML slip in a feature file (a key read as a keyword) stops the build. */
export function assertStrictSchema(schema: unknown, chart: string): void {
  try {
    new Ajv(STRICT_AJV).compile(schema as object);
  } catch (e) {
    throw new KfcError(
      `chart ${chart}: values.schema.json does not compile: ${(e as Error).message}`,
      'a schema in components/ (feature files) or values-schemas/ has an unknown keyword; in a YAML {flow: map}, quote a description holding commas',
    );
  }
}

export interface SchemaDefinitions {
  global: JsonSchema & { properties: Record<string, JsonSchema> };
  image: JsonSchema;
  resources: JsonSchema;
  pod: JsonSchema & { properties: Record<string, JsonSchema> };
  /** shared sub-schemas the blocks refer to as `#/definitions/<name>`: every chart schema carries them at its root */
  definitions: Record<string, JsonSchema>;
}

let cached: SchemaDefinitions | undefined;

const schemasDir = () => (process.env.KFC_VALUES_SCHEMAS ? path.resolve(process.env.KFC_VALUES_SCHEMAS) : path.join(repoRoot(), 'values-schemas'));

/** One schema building block, values-schemas/<name>.json (a fresh copy); `where` names who asked. */
export function loadSchemaBlock(name: string, where = 'the generator'): JsonSchema {
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
  const blocks = { global: read('global'), image: read('image'), resources: read('resources'), pod: read('pod'), formats: read('formats') };
  // generated from the Kubernetes API definitions (scripts/k8s-schemas.mjs)
  const k8s = read('kubernetes');
  const definitions: Record<string, JsonSchema> = { tolerations: k8s.tolerations as JsonSchema, affinity: k8s.affinity as JsonSchema };
  for (const [name, b] of Object.entries<JsonSchema>(blocks)) {
    for (const [k, d] of Object.entries(b.definitions ?? {})) {
      if (definitions[k]) throw new KfcError(`values-schemas/${name}.json: definition "${k}" is defined twice`, 'rename one of them');
      definitions[k] = d;
    }
    delete b.definitions;
  }
  const missing = [...JSON.stringify(blocks).matchAll(/"#\/definitions\/([^"]+)"/g)].map((m) => m[1]).filter((k) => !definitions[k]);
  if (missing.length) throw new KfcError(`values-schemas/: references to undefined definitions ${[...new Set(missing)].join(', ')}`, 'add them to a block\'s "definitions"');
  cached = { ...blocks, definitions } as SchemaDefinitions;
  return cached;
}

export interface SchemaRow {
  path: string;
  type: string;
  description: string;
}

/** A node of `root`, its local `$ref` (`#/definitions/<name>`) followed. */
export function derefLocal(node: JsonSchema | undefined, root: JsonSchema): JsonSchema | undefined {
  let n: JsonSchema | undefined = node;
  for (let i = 0; i < 32 && typeof n?.$ref === 'string' && n.$ref.startsWith('#/definitions/'); i++) n = root?.definitions?.[n.$ref.slice('#/definitions/'.length)];
  return n;
}

/** Flattens a schema into documented rows (objects with declared properties are descended into; local $refs followed). */
export function schemaRows(schema: JsonSchema, prefix = '', root: JsonSchema = schema): SchemaRow[] {
  const rows: SchemaRow[] = [];
  for (const [k, node] of Object.entries(derefLocal(schema, root)?.properties ?? {})) {
    const s: JsonSchema = derefLocal(node, root) ?? {};
    const p = prefix ? `${prefix}.${k}` : k;
    const ref = typeof s.$ref === 'string' ? loadSchemaDefinitions().definitions[s.$ref.replace('#/definitions/', '')] : undefined;
    const t = s.type ?? ref?.type;
    const type = Array.isArray(t) ? t.join(' \\| ') : (t ?? (s.enum ? 'string' : 'any'));
    rows.push({ path: p, type: s.enum ? `${type} (${s.enum.join(', ')})` : type, description: s.description ?? '' });
    if (s.properties && Object.keys(s.properties).length) rows.push(...schemaRows(s, p, root));
  }
  return rows;
}

const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', 'dependencies']);

/**
 * The schema with every subschema that occurs more than once (and is not tiny) moved into
 * `definitions` and referred to: the same validation, but Helm compiles each of them
 * (their patterns, the draft-07 meta-check) once instead of once per workload and container.
 * Definitions are named after the first key they occur under.
 */
export function hoistRepeated(schema: JsonSchema, minChars = 200): JsonSchema {
  const seen = new Map<string, { n: number; key: string; node: unknown }>();
  const walk = (x: unknown, key: string, isMap: boolean): void => {
    if (Array.isArray(x)) return x.forEach((v) => walk(v, key, false));
    if (!x || typeof x !== 'object') return;
    if (!isMap) {
      const k = stableStringify(x);
      if (k.length >= minChars) seen.set(k, { n: (seen.get(k)?.n ?? 0) + 1, key: seen.get(k)?.key ?? key, node: seen.get(k)?.node ?? x });
    }
    for (const [k, v] of Object.entries(x)) walk(v, isMap ? k : key, !isMap && SCHEMA_MAPS.has(k));
  };
  walk(schema, 'schema', false);
  const taken = new Set(Object.keys(schema.definitions ?? {}));
  const names = new Map<string, string>();
  for (const [k, { n, key }] of seen) {
    if (n < 2) continue;
    let name = key;
    for (let i = 2; taken.has(name); i++) name = `${key}${i}`;
    taken.add(name);
    names.set(k, name);
  }
  const replace = (x: unknown, isMap: boolean, top: boolean): unknown => {
    if (Array.isArray(x)) return x.map((v) => replace(v, false, false));
    if (!x || typeof x !== 'object') return x;
    if (!isMap && !top) {
      const name = names.get(stableStringify(x));
      if (name) return { $ref: `#/definitions/${name}` };
    }
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, replace(v, !isMap && SCHEMA_MAPS.has(k), false)]));
  };
  const out = replace(schema, false, true) as JsonSchema;
  const definitions: Record<string, JsonSchema> = { ...out.definitions };
  for (const [k, name] of names) definitions[name] = replace(seen.get(k)!.node, false, true) as JsonSchema;
  return inlineSingleUse({ ...out, definitions }, new Set(names.values()));
}

/** Puts back the hoisted definitions referred to once only (parts of a larger repeated subschema). */
function inlineSingleUse(schema: JsonSchema, hoisted: Set<string>): JsonSchema {
  for (;;) {
    const uses = new Map<string, number>();
    for (const m of JSON.stringify(schema).matchAll(/"\$ref":"#\/definitions\/([^"]+)"/g)) uses.set(m[1], (uses.get(m[1]) ?? 0) + 1);
    const once = [...hoisted].filter((n) => (uses.get(n) ?? 0) <= 1);
    if (!once.length) return schema;
    const put = (x: unknown): unknown => {
      if (Array.isArray(x)) return x.map(put);
      if (!x || typeof x !== 'object') return x;
      const ref = (x as { $ref?: unknown }).$ref;
      if (typeof ref === 'string' && Object.keys(x).length === 1 && once.includes(ref.slice('#/definitions/'.length))) return put(schema.definitions![ref.slice('#/definitions/'.length)]);
      return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, put(v)]));
    };
    const definitions = { ...schema.definitions };
    for (const n of once) {
      delete definitions[n];
      hoisted.delete(n);
    }
    schema = { ...(put({ ...schema, definitions: undefined }) as object), definitions: put(definitions) as Record<string, JsonSchema> };
    if (!Object.keys(schema.definitions!).length) delete schema.definitions;
  }
}

/** Finds the schema node that documents a values path (for values.yaml comments). */
export function schemaAt(schema: JsonSchema, keys: string[]): JsonSchema | undefined {
  let s: JsonSchema | undefined = schema;
  for (const k of keys) {
    if (!s) return undefined;
    if (s.properties?.[k]) s = s.properties[k];
    else if (s.additionalProperties && typeof s.additionalProperties === 'object') s = s.additionalProperties;
    else return undefined;
  }
  return s;
}

/** The default values of `global` (the `default` of each property of values-schemas/global.json). */
export function globalDefaults(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(loadSchemaDefinitions().global.properties)
      .filter(([, s]) => 'default' in s)
      .map(([k, s]) => [k, structuredClone(s.default)]),
  );
}

/** A chart's schema with the definitions it refers to (`#/definitions/...`) at its root. */
export function withDefinitions(schema: JsonSchema): JsonSchema {
  const used = new Set<string>();
  const defs = loadSchemaDefinitions().definitions;
  const scan = (v: unknown) => {
    for (const m of JSON.stringify(v).matchAll(/"#\/definitions\/([^"]+)"/g)) {
      if (used.has(m[1])) continue;
      used.add(m[1]);
      scan(defs[m[1]]);
    }
  };
  scan(schema);
  return used.size ? { ...schema, definitions: Object.fromEntries([...used].sort().map((k) => [k, defs[k]])) } : schema;
}

/** Optional pod fields a Helm user unsets with null (`nodeSelector: null`): the render leaves them out. */
export const NULLABLE = new Set(['replicas', 'nodeSelector', 'tolerations', 'affinity', 'priorityClassName', 'podAnnotations', 'podLabels']);

/**
 * Marks every key that has a non-null default (except the NULLABLE pod fields) as required in the closed objects of a schema
 * (not in free-form maps nor in `resources`, whose keys users may remove). Helm deletes a key
 * set to null before validating, so `katib: null` or `image: null` fails naming the path
 * instead of rendering without it.
 */
export function requireDefaults(schema: JsonSchema, values: unknown): JsonSchema {
  const walk = (s: JsonSchema | undefined, v: unknown, key: string) => {
    if (!s || !v || typeof v !== 'object' || Array.isArray(v) || !s.properties || key === 'resources') return;
    const req = new Set<string>(s.required ?? []);
    for (const [k, val] of Object.entries(v)) {
      if (!s.properties[k]) continue;
      if (val !== null && !NULLABLE.has(k)) req.add(k);
      walk(s.properties[k], val, k);
    }
    if (req.size) s.required = [...req];
  };
  walk(schema, values, '');
  return schema;
}
