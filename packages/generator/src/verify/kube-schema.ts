import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ts from 'typescript';
import { KfcError } from '../core/errors.js';
import type { JsonSchema } from '../core/schema.js';
import { cacheDir } from '../core/paths.js';
import { writeFileAtomic } from '../core/util.js';

/**
 * The Kubernetes API definitions as JSON Schema (draft-07), for validating
 * rendered objects and for building values schemas from Kubernetes types
 * (tolerations, affinity, ...).
 *
 * Source: the npm package `kubernetes-models` (pinned exactly in
 * packages/generator/package.json) and its `@kubernetes-models/apimachinery`.
 * Both are generated from Kubernetes' OpenAPI spec; 4.5.x is Kubernetes 1.33,
 * the minor of the kind node the GitHub workflow installs on. The packages
 * ship the definitions as TypeScript declarations (one `.d.ts` per definition,
 * doc comments from the spec's descriptions) and as precompiled validators.
 * The declarations are read with the TypeScript parser and turned back into
 * JSON Schema: objects list their properties and forbid others (the strict
 * reading of `kubectl --validate=strict`), maps and free-form fields
 * (RawExtension, JSON, FieldsV1) stay open. The declarations say `number` for
 * integers too: the precompiled validator of each definition is asked which
 * of its numbers are integers (see {@link refineIntegers}); kube-validate.ts
 * also runs those validators, for the formats (int32 ranges and the like).
 *
 * Definitions are named as kubernetes-models names them: the OpenAPI id in
 * PascalCase, `io.k8s.api.core.v1.Toleration` -> `IoK8sApiCoreV1Toleration`.
 */
export interface KubeDefinitions {
  /** the Kubernetes minor the definitions describe */
  kubernetes: string;
  /** `kubernetes-models@x.y.z + @kubernetes-models/apimachinery@x.y.z` */
  source: string;
  /** definition name -> JSON Schema; references are `#/definitions/<name>` */
  definitions: Record<string, JsonSchema>;
  /** `apiVersion/Kind` of every top-level kind -> its definition name */
  kinds: Record<string, string>;
}

/** kubernetes-models major.minor -> the Kubernetes minor it was generated from (its CHANGELOG). */
const KUBERNETES_OF: Record<string, string> = { '4.5': '1.33' };
/** Kubernetes SIG APIs beside the core ones (their definitions reference apimachinery's, which the core package brings). */
const EXTRA_APIS = ['@kubernetes-models/gateway-api'];
const FORMAT = 3;

const require = createRequire(import.meta.url);

/** The directory and version of an installed package, resolved from the generator. */
export function packageDir(name: string, from?: string): { dir: string; version: string } {
  const req = from ? createRequire(path.join(from, 'package.json')) : require;
  let pj: string;
  try {
    pj = req.resolve(`${name}/package.json`);
  } catch {
    // packages whose exports map leaves package.json out: walk up from the entry point
    let d: string;
    try {
      d = path.dirname(req.resolve(name));
    } catch {
      throw new KfcError(`${name} is not installed`, 'run `npm ci` in the repository');
    }
    while (!existsSync(path.join(d, 'package.json'))) d = path.dirname(d);
    pj = path.join(d, 'package.json');
  }
  return { dir: path.dirname(pj), version: JSON.parse(readFileSync(pj, 'utf8')).version };
}

let memo: KubeDefinitions | undefined;

/**
 * Loads every Kubernetes definition of the pinned `kubernetes-models` as JSON
 * Schema. Parsing the ~1,800 declaration files takes a few seconds, so the
 * result is cached in .cache/kfc keyed by the package versions, and memoized.
 */
export function loadKubeDefinitions(): KubeDefinitions {
  if (memo) return memo;
  const models = packageDir('kubernetes-models');
  const machinery = packageDir('@kubernetes-models/apimachinery', models.dir);
  const kubernetes = KUBERNETES_OF[models.version.split('.').slice(0, 2).join('.')];
  if (!kubernetes)
    throw new KfcError(
      `kubernetes-models ${models.version} is not a version the generator knows the Kubernetes minor of`,
      'pin kubernetes-models to the version in packages/generator/package.json (npm ci), or add it to KUBERNETES_OF in verify/kube-schema.ts',
    );
  // APIs of Kubernetes SIGs that clusters install as CRDs and our charts render objects of (HTTPRoute)
  const extra = EXTRA_APIS.map((n) => ({ name: n, ...packageDir(n) }));
  const source = [`kubernetes-models@${models.version}`, `@kubernetes-models/apimachinery@${machinery.version}`, ...extra.map((e) => `${e.name}@${e.version}`)].join(' + ');
  const file = path.join(cacheDir(), 'kube-schema', `${models.version}-${machinery.version}-${extra.map((e) => e.version).join('-')}-v${FORMAT}.json`);
  if (existsSync(file)) {
    try {
      memo = JSON.parse(readFileSync(file, 'utf8')) as KubeDefinitions;
      return memo;
    } catch {
      /* a damaged cache entry is rebuilt */
    }
  }
  const definitions: Record<string, JsonSchema> = {};
  const kinds: Record<string, string> = {};
  const dirs = [models.dir, machinery.dir, ...extra.map((e) => e.dir)];
  for (const dir of dirs) for (const f of declarationFiles(dir)) readDeclarations(f, definitions, kinds);
  refineIntegers(definitions, dirs);
  const missing = [...new Set(Object.values(definitions).flatMap((d) => refsOf(d)))].filter((r) => !definitions[r]);
  if (missing.length)
    throw new KfcError(`${source}: definitions referenced but not found: ${missing.slice(0, 5).join(', ')}`, 'reinstall the packages (npm ci); if it persists, the package layout changed and verify/kube-schema.ts needs an update');
  if (!kinds['apps/v1/Deployment'] || !definitions.IoK8sApiCoreV1Toleration) throw new KfcError(`${source}: no Deployment/Toleration definitions found`, 'the package layout changed; update verify/kube-schema.ts');
  memo = { kubernetes, source, definitions, kinds };
  writeFileAtomic(file, JSON.stringify(memo));
  return memo;
}

/**
 * One definition as a standalone JSON Schema: the definition itself plus, under
 * `definitions`, every definition it references (transitively). For values
 * schemas, e.g. `kubeSchema('IoK8sApiCoreV1Toleration')` for one toleration.
 */
export function kubeSchema(name: string, defs: KubeDefinitions = loadKubeDefinitions()): JsonSchema {
  const root = defs.definitions[name];
  if (!root) throw new KfcError(`no Kubernetes definition ${name} in ${defs.source}`, 'use the kubernetes-models name, e.g. IoK8sApiCoreV1Toleration');
  const reach = new Set<string>();
  const visit = (n: string) => {
    if (reach.has(n)) return;
    reach.add(n);
    for (const r of refsOf(defs.definitions[n])) visit(r);
  };
  for (const r of refsOf(root)) visit(r);
  reach.delete(name);
  const definitions = Object.fromEntries([...reach].sort().map((n) => [n, defs.definitions[n]]));
  const self = JSON.parse(JSON.stringify(root).replaceAll(`"$ref":"#/definitions/${name}"`, '"$ref":"#"'));
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...self, ...(reach.size ? { definitions } : {}) };
}

/**
 * Turns `number` properties into `integer` where Kubernetes says integer: a
 * probe of 0.5 through kubernetes-models' precompiled validator of the
 * definition fails with `must be integer` exactly there.
 */
function refineIntegers(definitions: Record<string, JsonSchema>, packageDirs: string[]): void {
  const req = createRequire(path.join(packageDirs[0], 'package.json'));
  for (const [name, d] of Object.entries(definitions)) {
    const numbers = Object.entries(d.properties ?? {}).filter(([, s]) => s.type === 'number' || s.items?.type === 'number');
    const file = packageDirs.map((dir) => path.join(dir, '_schemas', `${name}.js`)).find((f) => existsSync(f));
    if (!numbers.length || !file) continue;
    const validate = req(file).validate as ((v: unknown) => boolean) & { errors?: Array<{ instancePath: string; keyword: string; params: { type?: string } }> | null };
    for (const [p, s] of numbers) {
      const inList = s.type !== 'number';
      validate({ [p]: inList ? [0.5] : 0.5 });
      const at = inList ? `/${p}/0` : `/${p}`;
      if ((validate.errors ?? []).some((e) => e.instancePath === at && e.keyword === 'type' && e.params.type === 'integer')) (inList ? s.items! : s).type = 'integer';
    }
  }
}

function refsOf(schema: unknown, out: string[] = []): string[] {
  if (Array.isArray(schema)) for (const s of schema) refsOf(s, out);
  else if (schema && typeof schema === 'object')
    for (const [k, v] of Object.entries(schema)) {
      if (k === '$ref' && typeof v === 'string') out.push(v.replace('#/definitions/', ''));
      else if (k !== 'enum' && k !== 'const') refsOf(v, out);
    }
  return out;
}

function declarationFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== '_schemas') walk(path.join(d, e.name));
      } else if (e.name.endsWith('.d.ts') && e.name !== 'index.d.ts') out.push(path.join(d, e.name));
    }
  };
  walk(dir);
  return out.sort();
}

function docOf(node: ts.Node): string | undefined {
  const docs = (node as { jsDoc?: ts.JSDoc[] }).jsDoc;
  const c = docs?.length ? ts.getTextOfJSDocComment(docs[docs.length - 1].comment) : undefined;
  return c?.trim() || undefined;
}

/** Reads one kubernetes-models declaration file: its exported definition(s) and, for top-level kinds, apiVersion/kind. */
function readDeclarations(file: string, definitions: Record<string, JsonSchema>, kinds: Record<string, string>): void {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const local = new Map<string, ts.InterfaceDeclaration | ts.TypeAliasDeclaration>();
  const defName = new Map<string, string>();
  for (const st of sf.statements) {
    if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) local.set(st.name.text, st);
    if (ts.isImportDeclaration(st) && st.importClause?.namedBindings && ts.isNamedImports(st.importClause.namedBindings))
      for (const el of st.importClause.namedBindings.elements) if (/^IIoK8s/.test(el.name.text)) defName.set(el.name.text, el.name.text.slice(1));
    if (ts.isExportDeclaration(st) && st.exportClause && ts.isNamedExports(st.exportClause))
      for (const el of st.exportClause.elements) if (el.propertyName && /^IIoK8s/.test(el.name.text)) defName.set(el.propertyName.text, el.name.text.slice(1));
  }
  const ref = (name: string): JsonSchema => {
    const d = defName.get(name);
    if (!d) throw new KfcError(`${file}: type ${name} is neither a definition nor imported`, 'the kubernetes-models layout changed; update verify/kube-schema.ts');
    return { $ref: `#/definitions/${d}` };
  };
  const convert = (t: ts.TypeNode): JsonSchema => {
    switch (t.kind) {
      case ts.SyntaxKind.StringKeyword:
        return { type: 'string' };
      case ts.SyntaxKind.NumberKeyword:
        return { type: 'number' };
      case ts.SyntaxKind.BooleanKeyword:
        return { type: 'boolean' };
      case ts.SyntaxKind.AnyKeyword:
      case ts.SyntaxKind.UnknownKeyword:
        return {};
    }
    if (ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal)) return { type: 'string', enum: [t.literal.text] };
    if (ts.isLiteralTypeNode(t) && ts.isNumericLiteral(t.literal)) return { type: 'number', enum: [Number(t.literal.text)] };
    if (ts.isLiteralTypeNode(t) && (t.literal.kind === ts.SyntaxKind.TrueKeyword || t.literal.kind === ts.SyntaxKind.FalseKeyword)) return { type: 'boolean', enum: [t.literal.kind === ts.SyntaxKind.TrueKeyword] };
    if (ts.isParenthesizedTypeNode(t)) return convert(t.type);
    if (ts.isArrayTypeNode(t)) return { type: 'array', items: convert(t.elementType) };
    if (ts.isUnionTypeNode(t)) {
      const parts = t.types.map(convert);
      if (parts.every((p) => p.type === 'string' && p.enum)) return { type: 'string', enum: parts.flatMap((p) => p.enum ?? []) };
      if (parts.every((p) => p.type === 'number' && p.enum)) return { type: 'number', enum: parts.flatMap((p) => p.enum ?? []) };
      if (parts.every((p) => typeof p.type === 'string' && Object.keys(p).length === 1)) return { type: parts.map((p) => p.type as string) };
      return { anyOf: parts };
    }
    if (ts.isTypeLiteralNode(t)) {
      const idx = t.members.find(ts.isIndexSignatureDeclaration);
      if (idx && t.members.length === 1) return { type: 'object', additionalProperties: convert(idx.type) };
      return objectOf(t.members);
    }
    if (ts.isIndexedAccessTypeNode(t) && ts.isTypeReferenceNode(t.objectType) && ts.isLiteralTypeNode(t.indexType) && ts.isStringLiteral(t.indexType.literal)) {
      const owner = local.get(t.objectType.typeName.getText(sf));
      const prop = owner && ts.isInterfaceDeclaration(owner) ? owner.members.find((m) => m.name && propName(m.name) === (t.indexType as ts.LiteralTypeNode & { literal: ts.StringLiteral }).literal.text) : undefined;
      if (prop && ts.isPropertySignature(prop) && prop.type) return convert(prop.type);
    }
    if (ts.isTypeReferenceNode(t)) {
      const n = t.typeName.getText(sf);
      if (n === 'Array' && t.typeArguments?.length === 1) return { type: 'array', items: convert(t.typeArguments[0]) };
      if (n === 'Record' && t.typeArguments?.length === 2) return { type: 'object', additionalProperties: convert(t.typeArguments[1]) };
      return ref(n);
    }
    throw new KfcError(`${file}: cannot read type \`${t.getText(sf)}\``, 'the kubernetes-models layout changed; update verify/kube-schema.ts');
  };
  const objectOf = (members: ReadonlyArray<ts.Node>): JsonSchema => {
    const props = members.filter((m): m is ts.PropertySignature | ts.PropertyDeclaration => ts.isPropertySignature(m) || (ts.isPropertyDeclaration(m) && !m.modifiers?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword)));
    if (!props.length) return {};
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const p of props) {
      const name = propName(p.name);
      const s = p.type ? convert(p.type) : {};
      const d = docOf(p);
      properties[name] = d && !s.$ref ? { description: d, ...s } : s;
      if (!p.questionToken) required.push(name);
    }
    return { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false };
  };
  for (const [localName, d] of defName) {
    const decl = local.get(localName);
    if (!decl) continue;
    // an interface extending another (Gateway API's specs): its class lists every property, inherited ones too
    const inherits = ts.isInterfaceDeclaration(decl) && !!decl.heritageClauses?.some((h) => h.types.some((x) => defName.has(x.expression.getText(sf))));
    const cls = inherits ? sf.statements.find((x): x is ts.ClassDeclaration => ts.isClassDeclaration(x) && x.name?.text === localName.slice(1)) : undefined;
    if (inherits && !cls) throw new KfcError(`${file}: ${localName} extends another type and has no class listing its properties`, 'the kubernetes-models layout changed; update verify/kube-schema.ts');
    const body = cls ? objectOf(cls.members) : ts.isInterfaceDeclaration(decl) ? objectOf(decl.members) : convert(decl.type);
    const doc = docOf(decl);
    definitions[d] = doc ? { description: doc, ...body } : body;
    const av = body.properties?.apiVersion?.enum;
    const kind = body.properties?.kind?.enum;
    if (av?.length === 1 && kind?.length === 1 && body.required?.includes('kind')) kinds[`${av[0]}/${kind[0]}`] = d;
  }
}

function propName(n: ts.PropertyName): string {
  return ts.isStringLiteral(n) || ts.isIdentifier(n) || ts.isNumericLiteral(n) ? n.text : n.getText();
}
