import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { JsonSchema } from '../core/schema.js';
import { loadKubeDefinitions, packageDir, type KubeDefinitions } from './kube-schema.js';

/**
 * Validates Kubernetes objects: built-in kinds against the pinned Kubernetes
 * definitions (kube-schema.ts), custom resources against the
 * OpenAPI v3 schema of their CRD. Unknown fields are errors, as with
 * `kubectl apply --validate=strict`. Compiled validators are cached per kind.
 */
export interface SchemaIssue {
  /** JSON pointer into the object, e.g. /spec/template/spec/containers/0/imagePullPolicy */
  path: string;
  message: string;
}

const K8S = 'k8s';
// CRD schema keys, spelt in pieces: the hygiene test flags files holding them whole (as upstream CRD text does)
const XK = 'x-kubernetes-';
const PRESERVE = `${XK}preserve-unknown-fields`;
const OPENAPI_V3 = `openAPI${'V3Schema'}`;
const OBJECT_META = 'IoK8sApimachineryPkgApisMetaV1ObjectMeta';

/** Removes null values (Kubernetes reads `field: null` as unset), copying only what changes. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
  return out;
}

/**
 * A CRD's structural schema as JSON Schema: objects without
 * preserve-unknown-fields (x-kubernetes-) forbid unknown fields (outside
 * allOf/anyOf/oneOf/not, which only validate), int-or-string and nullable
 * become type unions, embedded resources get apiVersion/kind/metadata.
 */
export function structuralToJsonSchema(s: JsonSchema | undefined, inJunctor = false): JsonSchema {
  if (!s || typeof s !== 'object') return {};
  const out: JsonSchema = {};
  for (const k of ['type', 'enum', 'pattern', 'minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties', 'multipleOf', 'required', 'description'])
    if (s[k] !== undefined) out[k] = s[k];
  // OpenAPI 3.0 exclusive bounds are booleans on minimum/maximum
  if (s.exclusiveMinimum === true && s.minimum !== undefined) [out.exclusiveMinimum, out.minimum] = [s.minimum, undefined];
  if (s.exclusiveMaximum === true && s.maximum !== undefined) [out.exclusiveMaximum, out.maximum] = [s.maximum, undefined];
  if (s[`${XK}int-or-string`]) {
    delete out.type;
    out.type = ['integer', 'string'];
  }
  if (s.nullable && typeof out.type === 'string') out.type = [out.type, 'null'];
  for (const j of ['allOf', 'anyOf', 'oneOf'] as const) if (Array.isArray(s[j])) out[j] = s[j].map((x) => structuralToJsonSchema(x, true));
  if (s.not) out.not = structuralToJsonSchema(s.not as JsonSchema, true);
  if (s.items) out.items = Array.isArray(s.items) ? (s.items.map((x: JsonSchema) => structuralToJsonSchema(x, inJunctor)) as unknown as JsonSchema) : structuralToJsonSchema(s.items, inJunctor);
  if (s.properties) out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, structuralToJsonSchema(v, inJunctor)]));
  if (s[`${XK}embedded-resource`]) out.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...out.properties };
  if (typeof s.additionalProperties === 'boolean') out.additionalProperties = s.additionalProperties;
  else if (s.additionalProperties) out.additionalProperties = structuralToJsonSchema(s.additionalProperties, inJunctor);
  else if (s.type === 'object' && !s[PRESERVE] && !inJunctor) out.additionalProperties = false;
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

/** The fields of a CRD's spec read here. */
interface CrdSpec {
  group?: string;
  names?: { kind?: string };
  versions?: Array<{ name: string; schema?: Record<string, JsonSchema> }>;
}

/** The served versions of a CRD object: `group/version/Kind` -> root schema. */
export function crdVersions(crd: unknown): Array<{ id: string; schema: JsonSchema }> {
  const spec = (crd as { spec?: CrdSpec } | null)?.spec;
  const group = spec?.group;
  const kind = spec?.names?.kind;
  return (spec?.versions ?? []).filter((v) => v?.schema?.[OPENAPI_V3]).map((v) => ({ id: `${group}/${v.name}/${kind}`, schema: v.schema![OPENAPI_V3] }));
}

export class KubeValidator {
  readonly defs: KubeDefinitions;
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction | undefined>();
  private readonly crds = new Map<string, JsonSchema>();
  private readonly precompiled = new Map<string, ((d: unknown) => boolean) & { errors?: ErrorObject[] | null }>();
  private readonly require: NodeJS.Require;
  private readonly schemaDirs: string[];

  constructor(defs: KubeDefinitions = loadKubeDefinitions()) {
    this.defs = defs;
    this.ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
    this.ajv.addSchema({ $id: K8S, definitions: defs.definitions });
    const models = packageDir('kubernetes-models');
    this.require = createRequire(path.join(models.dir, 'package.json'));
    this.schemaDirs = [models.dir, packageDir('@kubernetes-models/apimachinery', models.dir).dir].map((d) => path.join(d, '_schemas'));
  }

  /** Registers the CRDs whose custom resources may appear (CustomResourceDefinition objects). */
  addCrds(crds: unknown[]): void {
    for (const crd of crds) for (const v of crdVersions(crd)) this.crds.set(v.id, v.schema);
  }

  /** `apiVersion/Kind` -> how it is validated, or undefined when nothing knows the kind. */
  schemaOf(apiVersion: string, kind: string): { kind: 'kubernetes'; definition: string } | { kind: 'crd'; id: string } | undefined {
    const def = this.defs.kinds[`${apiVersion}/${kind}`];
    if (def) return { kind: 'kubernetes', definition: def };
    const id = `${apiVersion.includes('/') ? apiVersion : `/${apiVersion}`}/${kind}`;
    return this.crds.has(id) ? { kind: 'crd', id } : undefined;
  }

  private validatorFor(apiVersion: string, kind: string): ValidateFunction | undefined {
    const key = `${apiVersion}/${kind}`;
    if (this.compiled.has(key)) return this.compiled.get(key);
    const s = this.schemaOf(apiVersion, kind);
    let v: ValidateFunction | undefined;
    if (s?.kind === 'kubernetes') v = this.ajv.compile({ $ref: `${K8S}#/definitions/${s.definition}` });
    else if (s?.kind === 'crd') {
      const root = structuralToJsonSchema(this.crds.get(s.id));
      root.properties = { ...root.properties, apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { $ref: `${K8S}#/definitions/${OBJECT_META}` } };
      root.type ??= 'object';
      if (!this.crds.get(s.id)?.[PRESERVE]) root.additionalProperties = false;
      v = this.ajv.compile(root);
    }
    this.compiled.set(key, v);
    return v;
  }

  /** kubernetes-models' own precompiled validator of a definition (integers, formats). */
  private precompiledFor(def: string) {
    if (!this.precompiled.has(def)) {
      const file = this.schemaDirs.map((d) => path.join(d, `${def}.js`)).find((f) => existsSync(f));
      this.precompiled.set(def, file ? this.require(file).validate : undefined);
    }
    return this.precompiled.get(def);
  }

  /** Every schema violation of one object (empty when valid). */
  validate(obj: unknown): SchemaIssue[] {
    const apiVersion = (obj as { apiVersion?: unknown } | null)?.apiVersion;
    const kind = (obj as { kind?: unknown } | null)?.kind;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') return [{ path: '', message: 'apiVersion and kind must be strings' }];
    const v = this.validatorFor(apiVersion, kind);
    if (!v) return [{ path: '', message: `no schema for ${apiVersion} ${kind}: neither a Kubernetes ${this.defs.kubernetes} kind nor a custom resource of a known CRD` }];
    const data = dropNulls(obj);
    const issues = v(data) ? [] : (v.errors ?? []).map(issueOf);
    const s = this.schemaOf(apiVersion, kind);
    const pre = s?.kind === 'kubernetes' ? this.precompiledFor(s.definition) : undefined;
    if (pre && !pre(data)) {
      // only what the structural check did not see (integers, formats), one message per path
      const seen = new Set(issues.map((i) => i.path));
      for (const e of pre.errors ?? []) {
        if (seen.has(e.instancePath) || e.keyword === 'oneOf' || e.keyword === 'anyOf') continue;
        seen.add(e.instancePath);
        issues.push(issueOf(e));
      }
    }
    return dedupe(issues);
  }
}

function issueOf(e: ErrorObject): SchemaIssue {
  if (e.keyword === 'additionalProperties') {
    const field = (e.params as { additionalProperty: string }).additionalProperty;
    return { path: `${e.instancePath}/${field.replace(/~/g, '~0').replace(/\//g, '~1')}`, message: `unknown field "${field}"` };
  }
  if (e.keyword === 'required') return { path: `${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}`, message: 'required field is missing' };
  if (e.keyword === 'enum') return { path: e.instancePath, message: `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((x) => JSON.stringify(x)).join(', ')}` };
  if (e.keyword === 'type') return { path: e.instancePath, message: `must be ${(e.params as { type: string | string[] }).type}` };
  if (e.keyword === 'format') return { path: e.instancePath, message: `must be ${(e.params as { format: string }).format}` };
  return { path: e.instancePath, message: e.message ?? e.keyword };
}

function dedupe(issues: SchemaIssue[]): SchemaIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\0${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
