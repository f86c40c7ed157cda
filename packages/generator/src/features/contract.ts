import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { KfcError } from '../core/errors.js';
import { type JsonSchema, loadSchemaBlock } from '../core/schema.js';
import { validateContract } from '../discover/contract-schema.js';
import { componentsDir, type ComponentConfig } from '../discover/components.js';

/**
 * A feature: a change of a generated chart under a value, declared in the
 * component's contract (components/<name>.yaml `features:`, or one file per
 * feature in components/<name>/features/). See components/README.md.
 */
export interface Selector {
  kind: string;
  /** the object's name (kustomize's hash suffix allowed); `*` globs */
  name: string;
  namespace?: string;
  /** the API group (`cert-manager.io`), where a kind exists in several groups */
  group?: string;
  /** a container (or init container) of the selected workload: the patch applies to it */
  container?: string;
  /** content the object must hold (maps by key, lists by items, scalars equal): `{spec: {template: ...}}` */
  has?: Record<string, unknown>;
}

export interface Edit {
  select: Selector;
  /** overrides the feature's condition for this edit */
  when?: string;
  patch: Record<string, unknown>;
}

export interface Scenario {
  /** ci/NN-<name>-values.yaml */
  name: string;
  description: string;
  values: Record<string, unknown>;
  expect: Expectation;
  /** also a scenario of the umbrella: these umbrella values beside the chart's (e.g. {dex: {enabled: false}}) */
  umbrella?: Record<string, unknown>;
  /** only where the release offers these chart variants ({istio: ambient}) */
  requires?: Record<string, string>;
}

/** Assertions on the objects a scenario renders (verify checks them). */
export interface Expectation {
  /** objects that must not be rendered */
  absent?: Selector[];
  /** objects that must be rendered */
  present?: Selector[];
  /** fields of rendered objects: a path (`a.b[name=x].c`) and its value */
  fields?: Array<{ select: Selector; path: string; equals?: unknown; matches?: string; absent?: boolean; ifRendered?: boolean } | { anyOf: Array<{ select: Selector; path: string; equals?: unknown; matches?: string; absent?: boolean }> }>;
  /** strings no rendered object may contain (Secret data decoded) */
  nowhere?: string[];
}

export interface Feature {
  /** values key (top level of the chart's values) */
  name: string;
  /** where it is declared */
  file: string;
  description: string;
  /** the defaults of its values block (none: the feature adds no values key) */
  values?: Record<string, unknown>;
  /** `root`: each key of `values` is a top-level values key of its own (`dex.connectors`) */
  valuesAt?: 'root';
  schema?: JsonSchema;
  /** template condition under which its edits apply */
  when: string;
  /** objects not rendered; `anyOf`: alternatives (upstream names differ between releases), at least one must match */
  drop: Array<(Selector & { when?: string }) | { anyOf: Selector[]; when?: string }>;
  /** edits; `anyOf`: alternatives, at least one must fit */
  set: Array<Edit | { anyOf: Edit[] }>;
  /** hand-written templates (file name -> text), added under templates/ */
  templates: Record<string, string>;
  scenarios: Scenario[];
  /** markdown for the chart README */
  readme?: string;
  /** Secrets created in the cluster when missing (secrets.ts): an upstream Secret no longer rendered, or a new one */
  generate: GenerateDecl[];
  /** from components/_shared/features: applies to every chart where its selectors match (global values only) */
  shared?: boolean;
  /** charts a shared feature leaves alone */
  except?: string[];
  /** a shared feature's subject: it applies when the release has one of these charts (else the build warns that it is off) */
  needs?: string[];
  /** while `when` holds no pod runs a mesh sidecar (mesh-mode): the umbrella's gate restarting pods that lack one does not render */
  noSidecars?: boolean;
  /** values read only under a condition: otherwise a value differing from its default is refused (values-checks) */
  onlyWhen: OnlyWhen[];
}

/** Values (`values`, a path from the chart's root) that are read only while `when` holds; `needs` tells what enables them. */
export interface OnlyWhen {
  values: string;
  /** keys of a map that stay free (the switch itself) */
  except?: string[];
  when: string;
  needs: string;
}

export interface GenerateDecl {
  /** an upstream Secret: not rendered while the condition holds, created under its name instead */
  select?: Selector;
  /** or a new Secret */
  secret?: { namespace: string; name: string };
  when?: string;
  /** where the Secret is created, when not where upstream's is: a namespace or a template (`{{ .Values.namespace }}`) */
  namespace?: string;
  /** one Secret per item of a list (a template expression); `secret` and copy sources are templates on the item */
  forEach?: string;
  /** the Secret type (default Opaque) */
  type?: string;
  /** with forEach: template of the `namespace/name` each Secret copies from (the Job may read it) */
  reads?: string;
  /** `Kind/namespace/name` of the object after whose wave the Secrets' namespaces are created (Argo CD: the Job runs after them) */
  after?: string;
  /** key -> {random: N} | {keep: true} (upstream's value) | {value: V} | {copy: ns/name/key} | {bcrypt: key or ns/name/key} */
  keys: Record<string, Record<string, unknown>>;
}

/** Replaces `{$file: <name>}` leaves by the text of components/<component>/files/<name>. */
function inlineFiles(v: unknown, filesDir: string, where: string): unknown {
  if (Array.isArray(v)) return v.map((x) => inlineFiles(x, filesDir, where));
  if (!v || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  if (typeof o.$file === 'string' && Object.keys(o).length === 1) {
    const f = path.join(filesDir, o.$file);
    if (!existsSync(f)) throw new KfcError(`${where}: file ${o.$file} not found in ${filesDir}`, 'add it or fix the $file reference');
    // a file is text, not a template: its braces print as they are
    return { $literal: readFileSync(f, 'utf8') };
  }
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, inlineFiles(x, filesDir, where)]));
}

/** A feature file as its schema (components/feature.schema.json) admits it. */
type FeatureFile = Omit<Feature, 'file' | 'when' | 'drop' | 'set' | 'templates' | 'scenarios' | 'generate' | 'values' | 'onlyWhen'> & {
  onlyWhen?: OnlyWhen[];
  values?: Record<string, unknown>;
  when?: string;
  drop?: Feature['drop'];
  set?: Array<Edit | { anyOf: Edit[]; when?: string }>;
  templates?: string[];
  ci?: Array<Omit<Scenario, 'expect' | 'description'> & { expect?: Expectation; description?: string }>;
  generate?: GenerateDecl[];
};

function parseFeature(raw: unknown, file: string, templatesDir: string): Feature {
  const bad = (what: string) => new KfcError(`${file}: ${what}`, 'see components/README.md, "Features"');
  const named = raw as { name?: unknown } | null;
  validateContract('feature', raw, file, typeof named?.name === 'string' ? `${file} (feature ${named.name})` : file);
  const data = raw as FeatureFile;
  const where = `${file} (feature ${data.name})`;
  // a feature without values (its condition reads other values, e.g. global.devMode) adds no values key
  const values = data.values;
  // `{$ref: <values-schemas block>, properties: {...}}`: the shared shape plus the chart's own properties
  const ref = typeof data.schema?.$ref === 'string' ? loadSchemaBlock(data.schema.$ref, where) : undefined;
  const schema = ref ? { ...ref, ...data.schema, $ref: undefined, properties: { ...ref.properties, ...(data.schema?.properties ?? {}) } } : data.schema;
  if (schema) delete schema.$ref;
  if (values !== undefined && schema?.type !== 'object') throw bad('"schema" must be a JSON schema of type object (or {$ref: <values-schemas block>})');
  const templates: Record<string, string> = {};
  for (const t of data.templates ?? []) {
    const f = path.join(templatesDir, t);
    if (!existsSync(f)) throw bad(`template ${t} not found in ${templatesDir}`);
    templates[t] = readFileSync(f, 'utf8');
  }
  return {
    name: data.name,
    file,
    description: data.description.trim(),
    ...(data.valuesAt === 'root' ? { valuesAt: 'root' as const } : {}),
    ...(Array.isArray(data.except) ? { except: data.except } : {}),
    ...(Array.isArray(data.needs) ? { needs: data.needs.map(String) } : {}),
    ...(data.noSidecars ? { noSidecars: true } : {}),
    ...(values !== undefined ? { values, schema: { ...schema, description: schema?.description ?? data.description.trim() } } : {}),
    when: data.when ?? `.Values.${data.name}.enabled`,
    drop: data.drop ?? [],
    set: (data.set ?? []).map((e, i: number) => {
      const one = (x: Edit, at: string): Edit => ({ select: x.select, when: x.when ?? e.when, patch: inlineFiles(x.patch, path.join(path.dirname(templatesDir), 'files'), `${where} ${at}`) as Record<string, unknown> });
      return 'anyOf' in e ? { anyOf: e.anyOf.map((x: Edit, j: number) => one(x, `set[${i}].anyOf[${j}]`)) } : one(e, `set[${i}]`);
    }),
    templates,
    scenarios: (data.ci ?? []).map((c) => {
      return { name: c.name, description: c.description ?? `${data.description.trim()}`, values: c.values, expect: c.expect ?? {}, ...(c.umbrella ? { umbrella: c.umbrella } : {}), ...(c.requires ? { requires: c.requires } : {}) };
    }),
    readme: data.readme,
    onlyWhen: (data.onlyWhen ?? []).map((o) => ({ values: o.values, when: o.when, needs: o.needs, ...(o.except ? { except: o.except } : {}) })),
    generate: (data.generate ?? []).map((g: GenerateDecl, i: number) => {
      // the schema checks each field; what it cannot say: forEach makes Secrets named per item
      if (g.forEach && !g.secret) throw bad(`generate[${i}].forEach needs "secret" ({namespace, name} templates on each item)`);
      return {
        ...(g.select ? { select: g.select } : { secret: g.secret }),
        when: g.when,
        keys: g.keys,
        ...(g.namespace ? { namespace: g.namespace } : {}),
        ...(g.forEach ? { forEach: g.forEach } : {}),
        ...(g.type ? { type: g.type } : {}),
        ...(g.reads ? { reads: g.reads } : {}),
        ...(g.after ? { after: g.after } : {}),
      };
    }),
  };
}

/** The directory of features shared by every chart (they read `global.*` values only). */
export const SHARED = '_shared';

function readFeatureFiles(featuresDir: string, templatesDir: string): Feature[] {
  if (!existsSync(featuresDir)) return [];
  return readdirSync(featuresDir)
    .filter((x) => x.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const file = path.join(featuresDir, f);
      let data: unknown;
      try {
        data = YAML.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new KfcError(`${file}: invalid YAML: ${(e as Error).message}`, 'fix the feature file');
      }
      return parseFeature(data, file, templatesDir);
    });
}

/** Features of components/_shared/features: applied to every chart, on the objects they select there. */
export function loadSharedFeatures(dir = componentsDir()): Feature[] {
  const out = readFeatureFiles(path.join(dir, SHARED, 'features'), path.join(dir, SHARED, 'templates'));
  for (const f of out) {
    if (f.values) throw new KfcError(`${f.file}: a shared feature reads global values only; it cannot declare "values"`, 'add its values to values-schemas/global.json');
    if (f.generate.length || Object.keys(f.templates).length) throw new KfcError(`${f.file}: a shared feature can drop and set, not generate or add templates`, 'declare it in the component that owns the objects');
    if (!Array.isArray(f.needs) || !f.needs.length)
      throw new KfcError(`${f.file}: a shared feature names the charts it is about in "needs" (e.g. needs: [cert-manager])`, 'the build then says when a release has none of them, instead of failing on selectors with nothing to match');
    f.shared = true;
  }
  return out;
}

/** The features of a component: inline in its file, and one per file in components/<name>/features/. */
export function loadFeatures(config: ComponentConfig | undefined, dir = componentsDir()): Feature[] {
  if (!config) return [];
  const own = path.join(dir, config.name);
  const templatesDir = path.join(own, 'templates');
  const out: Feature[] = [];
  if (config.features !== undefined) {
    if (!Array.isArray(config.features)) throw new KfcError(`${config.file}: "features" must be a list`, 'see components/README.md, "Features"');
    out.push(...config.features.map((f) => parseFeature(f, config.file, templatesDir)));
  }
  out.push(...readFeatureFiles(path.join(own, 'features'), templatesDir));
  for (const f of out)
    if (f.needs || f.except)
      throw new KfcError(`${f.file}: feature ${f.name} declares "${f.needs ? 'needs' : 'except'}", which only shared features (components/_shared/features) have`, 'a component feature applies to its own chart; remove the key');
  const names = out.map((f) => f.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new KfcError(`${config.file}: feature "${dup}" is declared twice`, 'give each feature its own values key');
  return out;
}
