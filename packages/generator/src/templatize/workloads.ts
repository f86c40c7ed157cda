import { isDeepStrictEqual } from 'node:util';
import type { Content } from './chart-model.js';
import { KfcError } from '../core/errors.js';
import type { KObject } from '../core/model.js';
import { parseYaml } from '../core/model.js';
import { assertNoMarkers, blockValue, inlineValue, optionalBlock, optionalNumber, optionalScalar, sp, TemplateDoc, type PodMetaBinding } from './template-doc.js';
import { type JsonSchema, loadSchemaDefinitions, NULLABLE } from '../core/schema.js';
import { camelCase } from '../core/util.js';
import { formatImage, parseImage } from '../core/image.js';
import { podTemplate, WORKLOAD_KINDS } from '../core/model.js';
import { visitImages } from '../core/images.js';

const SCALABLE = new Set(['Deployment', 'StatefulSet']);

/** Top-level values keys the generator owns; workloads never take these names. */
export const RESERVED_KEYS = new Set(['global', 'enabled', 'variant', 'kustomizeComponents', 'options', 'extraObjects', 'secretsJob', 'autoscaling', 'commonLabels', 'nameOverride', 'fullnameOverride']);

export interface WorkloadRef {
  obj: KObject;
  key: string;
}

/**
 * Gives each workload of a chart a stable, readable values key: its name in
 * camelCase, prefixed by kind (then namespace) only where names collide.
 */
export function assignWorkloadKeys(objs: KObject[]): Map<string, string> {
  const byId = new Map<string, KObject>();
  for (const o of objs) if (WORKLOAD_KINDS[o.kind]) byId.set(o.key, o);
  const candidates = (o: KObject) => {
    const base = camelCase(o.name);
    const first = /^[a-z]/.test(base) ? base : camelCase(`${o.kind}-${o.name}`);
    return [first, camelCase(`${o.kind}-${o.name}`), camelCase(`${o.kind}-${o.namespace ?? 'cluster'}-${o.name}`)];
  };
  const out = new Map<string, string>();
  for (let level = 0; level < 3; level++) {
    const pending = [...byId.values()].filter((o) => !out.has(o.key));
    const counts = new Map<string, number>();
    for (const o of pending) counts.set(candidates(o)[level], (counts.get(candidates(o)[level]) ?? 0) + 1);
    for (const o of pending) {
      const c = candidates(o)[level];
      if (level === 2 || (counts.get(c) === 1 && !RESERVED_KEYS.has(c) && ![...out.values()].includes(c))) out.set(o.key, c);
    }
  }
  return out;
}

/** A map of values (or of a parsed object) the templatizer reads and binds. */
type Values = Record<string, unknown>;

/** The values, schema and descriptions the templatizer extracts for one chart. */
export class ChartValues {
  /** workload key -> values */
  readonly workloads: Record<string, Values> = {};
  /** workload key -> JSON schema */
  readonly schemas: Record<string, JsonSchema> = {};
  private defs = loadSchemaDefinitions();

  constructor(readonly chart: string) {}

  workload(key: string, o: KObject, scalable: boolean, hasReplicas: boolean): Values {
    if (!this.workloads[key]) {
      this.workloads[key] = {};
      const d = this.defs.pod.properties;
      this.schemas[key] = {
        description: `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}.`,
        type: 'object',
        additionalProperties: false,
        properties: {
          ...(scalable ? { replicas: structuredClone(hasReplicas ? d.replicas : d.replicasOptional) } : {}),
          containers: { description: `Containers of ${o.name}, by container name.`, type: 'object', additionalProperties: false, properties: {} },
          nodeSelector: structuredClone(d.nodeSelector),
          tolerations: structuredClone(d.tolerations),
          affinity: structuredClone(d.affinity),
          priorityClassName: structuredClone(d.priorityClassName),
          podAnnotations: structuredClone(d.podAnnotations),
          podLabels: structuredClone(d.podLabels),
        },
      };
    }
    return this.workloads[key];
  }

  container(wkey: string, group: 'containers' | 'initContainers', ckey: string, name: string): Values {
    const w = this.workloads[wkey];
    const s = this.schemas[wkey].properties!;
    if (!s[group]) {
      s[group] = { description: `Init containers of ${wkey}, by container name.`, type: 'object', additionalProperties: false, properties: {} };
    }
    const byName = (w[group] ??= {}) as Record<string, Values>;
    if (!byName[ckey]) {
      byName[ckey] = {};
      s[group].properties![ckey] = {
        description: `The ${name} container.`,
        type: 'object',
        additionalProperties: false,
        properties: { image: structuredClone(this.defs.image), resources: structuredClone(this.defs.resources) },
      };
    }
    return byName[ckey];
  }
}

const has = (o: object, k: string) => Object.hasOwn(o, k);

type FieldKind = 'block' | 'scalar' | 'number';

/**
 * Binds `parent[key]` to values path `expr`. The first content seen sets the
 * default; a later content (another variant) whose upstream value differs
 * keeps its literal value, so every variant still renders its upstream.
 */
function bind(t: TemplateDoc, parent: Values, key: string, store: Values, skey: string, expr: string, kind: FieldKind, absent: unknown): void {
  // a key upstream sets renders whole, left out when the value is null (Helm users unset a default with null)
  const whole = NULLABLE.has(skey) ? unlessNull(key, expr, kind) : undefined;
  bindWith(t, parent, key, store, skey, absent, kind === 'block' ? blockValue(expr) : inlineValue(expr), kind === 'block' ? optionalBlock(key, expr) : kind === 'number' ? optionalNumber(key, expr) : optionalScalar(key, expr), whole);
}

/** `key: <value from expr>` unless the value is null or unset. */
function unlessNull(key: string, expr: string, kind: FieldKind): (indent: number) => string {
  const value = (i: number) => (kind === 'block' ? `{{- toYaml ${expr} | nindent ${i + 2} }}` : `{{ toYaml ${expr} }}`);
  return (i: number) => `${sp(i)}{{- if not (kindIs "invalid" ${expr}) }}\n${sp(i)}${key}: ${value(i)}\n${sp(i)}{{- end }}`;
}

/** Like bind, with the template text given: `present` after `key:`, `missing` for the whole (optional) entry. */
function bindWith(t: TemplateDoc, parent: Values, key: string, store: Values, skey: string, absent: unknown, present: (keyCol: number) => string, missing: (indent: number) => string, whole?: (indent: number) => string): void {
  const has_ = has(parent, key);
  const upstream = has_ ? parent[key] : absent;
  if (has(store, skey)) {
    if (!isDeepStrictEqual(store[skey], upstream)) return;
  } else store[skey] = structuredClone(upstream);
  if (has_ && whole) {
    delete parent[key];
    parent[t.key(whole)] = null;
  } else if (has_) parent[key] = t.value(present);
  else parent[t.key(missing)] = null;
}

/** Resources from values, through the chart's check that requests do not exceed limits. */
function bindResources(t: TemplateDoc, chart: string, c: Values, store: Values, expr: string, path: string): void {
  const call = (v: string) => `include "${chart}.resources" (dict "resources" ${v} "path" ${JSON.stringify(path)} "root" $)`;
  bindWith(
    t,
    c,
    'resources',
    store,
    'resources',
    {},
    (keyCol) => `{{- ${call(expr)} | nindent ${keyCol + 2} }}`,
    (i) => `${sp(i)}{{- with ${expr} }}\n${sp(i)}resources: {{- ${call('.')} | nindent ${i + 2} }}\n${sp(i)}{{- end }}`,
  );
}

function bindContainers(t: TemplateDoc, cv: ChartValues, chart: string, wkey: string, base: string, spec: Values, group: 'containers' | 'initContainers'): void {
  for (const c of (spec[group] as Values[] | undefined) ?? []) {
    if (!c || typeof c.name !== 'string') continue;
    const ckey = camelCase(c.name) || 'container';
    const store = cv.container(wkey, group, ckey, c.name);
    const expr = `${base}.${group}.${ckey}`;
    if (typeof c.image === 'string') {
      const img = parseImage(c.image);
      if (formatImage(img) !== c.image) throw new KfcError(`image "${c.image}" does not survive a parse/format round trip`, 'report this as a generator bug');
      if (!store.image) store.image = img;
      if (isDeepStrictEqual(store.image, img)) {
        c.image = t.value(() => `{{ include "${chart}.image" (dict "image" ${expr}.image "global" $.Values.global) | quote }}`);
      }
    }
    bindResources(t, chart, c, store, `${expr}.resources`, `${expr.replace(/^\$\.Values\./, '')}.resources`);
  }
}

/** The `include` of the chart's podMeta helper for one pod template's labels or annotations. */
function podMetaCall(chart: string, wkey: string, field: 'labels' | 'annotations', upstream: Record<string, unknown> | undefined, fixed: Record<string, string>, keepEmpty: boolean, binding?: PodMetaBinding): string {
  const json = (v: unknown) => JSON.stringify(JSON.stringify(v ?? {}));
  const extra = field === 'labels' ? 'podLabels' : 'podAnnotations';
  // keys features add under their condition (the binding is read when the template is printed)
  const added = (binding?.add ?? []).map((a) => ` (ternary (fromJson ${json(a.values)}) dict (${a.when}))`).join('');
  const up = added ? `(mustMergeOverwrite (fromJson ${json(upstream)})${added})` : `(fromJson ${json(upstream)})`;
  return `include "${chart}.podMeta" (dict "upstream" ${up} "extra" $.Values.${wkey}.${extra} "fixed" (fromJson ${json(field === 'labels' ? fixed : {})}) "path" ${JSON.stringify(`${wkey}.${extra}`)} "root" $${keepEmpty ? ' "keepEmpty" true' : ''})`;
}

/** Pod metadata for a template upstream gives none: rendered only when values add labels or annotations. */
function podTemplateBlock(chart: string, wkey: string, fixed: Record<string, string>) {
  const l = podMetaCall(chart, wkey, 'labels', {}, fixed, false);
  const a = podMetaCall(chart, wkey, 'annotations', {}, fixed, false);
  return (i: number) =>
    [
      `${sp(i)}{{- if or (${l}) (${a}) }}`,
      `${sp(i)}metadata:`,
      `${sp(i)}  {{- with ${l} }}`,
      `${sp(i)}  labels: {{- . | nindent ${i + 4} }}`,
      `${sp(i)}  {{- end }}`,
      `${sp(i)}  {{- with ${a} }}`,
      `${sp(i)}  annotations: {{- . | nindent ${i + 4} }}`,
      `${sp(i)}  {{- end }}`,
      `${sp(i)}{{- end }}`,
    ].join('\n');
}

/** Upstream's pod labels or annotations merged with the values' (one key each, never duplicated). */
function bindPodMeta(t: TemplateDoc, chart: string, wkey: string, meta: Values, field: 'labels' | 'annotations', fixed: Record<string, string>): void {
  const m = meta[field] as Values | null | undefined;
  if (m === undefined || m === null) {
    const call = podMetaCall(chart, wkey, field, {}, fixed, false);
    meta[t.key((i) => `${sp(i)}{{- with ${call} }}\n${sp(i)}${field}: {{- . | nindent ${i + 2} }}\n${sp(i)}{{- end }}`)] = null;
  } else {
    const binding: PodMetaBinding = { add: [] };
    const token = t.value((keyCol) => `{{- ${podMetaCall(chart, wkey, field, m, fixed, true, binding)} | nindent ${keyCol + 2} }}`);
    meta[field] = token;
    t.podMeta.set(token, binding);
  }
}

/** Rewrites one workload so images, resources, replicas and scheduling come from values. */
function templatizeWorkload(t: TemplateDoc, doc: Values & { spec?: Values & { selector?: { matchLabels?: Values } } }, o: KObject, wkey: string, cv: ChartValues): void {
  const tmpl = podTemplate(doc, o.kind);
  const pod = tmpl?.spec;
  if (!pod || typeof pod !== 'object') return;
  const base = `$.Values.${wkey}`;
  const scalable = SCALABLE.has(o.kind);
  const store = cv.workload(wkey, o, scalable, scalable && !!doc.spec && has(doc.spec, 'replicas'));
  if (scalable && doc.spec) bind(t, doc.spec, 'replicas', store, 'replicas', `${base}.replicas`, 'number', null);
  // selector labels of the workload: values may not change them
  const fixed: Record<string, string> = Object.fromEntries(Object.entries<unknown>(doc.spec?.selector?.matchLabels ?? {}).map(([k, v]) => [k, String(v)]));
  if (!tmpl.metadata) tmpl[t.key(podTemplateBlock(cv.chart, wkey, fixed))] = null;
  else {
    bindPodMeta(t, cv.chart, wkey, tmpl.metadata, 'labels', fixed);
    bindPodMeta(t, cv.chart, wkey, tmpl.metadata, 'annotations', fixed);
  }
  store.podLabels ??= {};
  store.podAnnotations ??= {};
  bind(t, pod, 'nodeSelector', store, 'nodeSelector', `${base}.nodeSelector`, 'block', {});
  bind(t, pod, 'tolerations', store, 'tolerations', `${base}.tolerations`, 'block', []);
  bind(t, pod, 'affinity', store, 'affinity', `${base}.affinity`, 'block', {});
  bind(t, pod, 'priorityClassName', store, 'priorityClassName', `${base}.priorityClassName`, 'scalar', '');
  if (has(pod, 'imagePullSecrets')) {
    const literal = JSON.stringify(JSON.stringify(pod.imagePullSecrets ?? []));
    pod.imagePullSecrets = t.value(blockValue(`(concat (fromJsonArray ${literal}) ($.Values.global.imagePullSecrets | default list))`));
  } else {
    pod[t.key(optionalBlock('imagePullSecrets', '$.Values.global.imagePullSecrets'))] = null;
  }
  bindContainers(t, cv, cv.chart, wkey, base, pod, 'initContainers');
  bindContainers(t, cv, cv.chart, wkey, base, pod, 'containers');
}

/** Labels every templated object carries (documented in verify's allowlist). */
export function generatorLabels(chart: string, version: string): Record<string, string> {
  return { 'helm.sh/chart': `${chart}-${version}`, 'app.kubernetes.io/managed-by': 'Helm' };
}

export interface TemplatizeOptions {
  chart: string;
  labels: Record<string, string>;
  workloadKeys: Map<string, string>;
  values: ChartValues;
}

/** Adds entries a metadata map lacks (upstream's own keys win). */
export function addMetadata(doc: Values, field: 'labels' | 'annotations', add: Record<string, string> | undefined): void {
  const meta = (doc.metadata ??= {}) as Record<string, Record<string, string> | undefined>;
  const missing = Object.entries(add ?? {}).filter(([k]) => !(meta[field] && has(meta[field], k)));
  if (missing.length) meta[field] = { ...(meta[field] ?? {}), ...Object.fromEntries(missing) };
}

/**
 * Fields a Kubernetes controller owns once the object exists, which upstream renders empty:
 * an aggregated ClusterRole's `rules` (the aggregation controller writes them). Rendered, Helm 4's
 * server-side apply conflicts with that controller on every upgrade; left out, nothing changes
 * (an empty list and no list mean the same to the API server). verify compares them as equal.
 */
export function dropControllerOwnedFields(o: { kind: string }, doc: any): void {
  if (o.kind === 'ClusterRole' && doc?.aggregationRule && Array.isArray(doc.rules) && doc.rules.length === 0) delete doc.rules;
}

/** Parses one object content and binds its workload fields to values. */
export function templatizeObject(o: KObject, opts: TemplatizeOptions, source: string): Content {
  assertNoMarkers(o.raw, source);
  const doc = parseYaml(o.raw);
  dropControllerOwnedFields(o, doc);
  const t = new TemplateDoc();
  addMetadata(doc, 'labels', opts.labels);
  const wkey = opts.workloadKeys.get(o.key);
  if (wkey) templatizeWorkload(t, doc, o, wkey, opts.values);
  if (o.kind !== 'CustomResourceDefinition') rewriteImages(t, doc, opts.chart);
  return { obj: o, doc, t };
}

/**
 * Every other image reference of an object (env values, args, custom
 * resources, ConfigMap texts) goes through `<chart>.imageRef`, so
 * `global.imageRegistry` reaches it; without a registry it prints upstream's.
 */
function rewriteImages(t: TemplateDoc, doc: unknown, chart: string): void {
  const action = (ref: string) => `{{ include "${chart}.imageRef" (dict "ref" ${JSON.stringify(ref)} "global" $.Values.global) }}`;
  visitImages(doc, (parent, key, refs, how) => {
    const v = String((parent as Record<string | number, unknown>)[key]);
    if (how === 'whole') {
      (parent as Record<string | number, unknown>)[key] = t.raw(`${action(refs[0]).slice(0, -3)} | quote }}`);
      return;
    }
    // longest first, so a reference inside a longer one is not cut
    const sorted = [...refs].sort((a, b) => b.length - a.length);
    const re = new RegExp(sorted.map((r) => r.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|'), 'g');
    (parent as Record<string | number, unknown>)[key] = v.replace(re, (r) => t.raw(action(r)));
  });
}
