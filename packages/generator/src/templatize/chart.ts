import { addCiFile, type Branch, type ChartModel, type Content, type ModelObject } from './chart-model.js';
import type { KObject } from '../core/model.js';
import { globalDefaults, type JsonSchema, loadSchemaDefinitions } from '../core/schema.js';
import type { ComponentPlan, Toggle } from '../discover/plan.js';
import type { FoldedObject } from '../fold/fold.js';
import type { Release } from '../upstream/release.js';
import { bindAutoscaling } from './autoscaling.js';
import { valueHelpers } from './helpers.js';
import { assignWorkloadKeys, ChartValues, generatorLabels, templatizeObject, type TemplatizeOptions } from './workloads.js';

export interface TemplatizeInput {
  plan: ComponentPlan;
  release: Release;
  version: string;
  /** variant names, default first (empty: no variants) */
  variants: string[];
  toggles: Toggle[];
  folded: FoldedObject[];
  /** objects a variant re-declares that another chart owns: left out inside the umbrella */
  sharedKeys?: Set<string>;
}

function fileName(o: KObject, taken: Set<string>): string {
  const base = `${o.kind.toLowerCase()}-${o.name}`.replace(/[^A-Za-z0-9._-]+/g, '_');
  let name = base;
  if (taken.has(name)) name = `${base}-${(o.namespace ?? 'cluster').replace(/[^A-Za-z0-9._-]+/g, '_')}`;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

const q = (s: string) => JSON.stringify(s);
export const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function toggleExpr(t: Toggle): string {
  const v = `.Values.${t.group}.${t.name}`;
  return t.defaultOn ? `not ${v}` : v;
}

function caseExpr(variants: string[], selected = '.Values.variant'): string {
  return variants.length === 1 ? `eq ${selected} ${q(variants[0])}` : `has ${selected} (list ${variants.map(q).join(' ')})`;
}

/**
 * The helper naming the variant that renders: `.Values.variant`, unless a
 * component's variantOverrides map it (istio's `oauth2-proxy` renders as
 * `ambient` under `global.mesh.mode: ambient`). A mapping to a variant this
 * release does not offer fails the render with the reason.
 */
function variantHelper(chart: string, plan: ComponentPlan, variants: string[]): string | undefined {
  const overrides = plan.config?.variantOverrides ?? [];
  if (!overrides.length || !variants.length) return undefined;
  const lines = [`{{/* The variant that renders (component file variantOverrides). */}}`, `{{- define "${chart}.variant" -}}`, '{{- $v := .Values.variant -}}'];
  for (const o of overrides) {
    lines.push(`{{- if ${o.when} }}`);
    for (const [from, to] of Object.entries(o.map)) {
      if (!variants.includes(from)) continue;
      lines.push(
        variants.includes(to)
          ? `{{- if eq $v ${q(from)} }}{{- $v = ${q(to)} }}{{- end }}`
          : `{{- if eq $v ${q(from)} }}{{- fail ${q(`${chart}: variant ${from} would render as ${to} (${o.when}), which this release does not offer`)} }}{{- end }}`,
      );
    }
    lines.push('{{- end }}');
  }
  lines.push('{{- $v -}}', '{{- end -}}', '');
  return lines.join('\n');
}

/** Renders `extraObjects`: manifests given as maps or strings, each through `tpl`. */
/** Every chart's extraObjects: maps or strings through tpl; each document must be a manifest (apiVersion, kind, metadata.name), else the render fails naming it. */
export function extraObjectsTemplate(chart: string): string {
  return `{{- range $i, $o := .Values.extraObjects }}
{{- $text := "" }}
{{- if typeIs "string" $o }}{{ $text = tpl $o $ }}{{ else }}{{ $text = tpl (toYaml $o) $ }}{{ end }}
{{- range $doc := regexSplit "(?m)^---[ \\t]*$" $text -1 }}
{{- if trim $doc }}
{{- $m := fromYaml $doc }}
{{- if or (hasKey $m "Error") (not (and (kindIs "string" $m.apiVersion) (kindIs "string" $m.kind) (kindIs "map" $m.metadata))) (not (dig "metadata" "name" "" $m)) }}
{{- fail (printf "%sextraObjects.%d: not a Kubernetes manifest after tpl (each document needs apiVersion, kind and metadata.name): %s" (include "${chart}.valuesPrefix" $) $i (get $m "Error" | default (trunc 120 (trim $doc)))) }}
{{- end }}
---
{{ trim $doc }}
{{- end }}
{{- end }}
{{- end }}
`;
}

export function extraObjectsSchema(): JsonSchema {
  return {
    description:
      'Further manifests rendered with the chart (ExternalSecrets, database operator objects, ...), as maps or strings; each goes through `tpl`, so `{{ .Release.Namespace }}` works. Set `metadata.annotations."argocd.argoproj.io/sync-wave"` to place one in the install order (docs/ordering.md).',
    type: 'array',
    items: {
      anyOf: [
        {
          type: 'object',
          required: ['apiVersion', 'kind', 'metadata'],
          // any Kubernetes object: the fields beyond these are the API server's to check
          additionalProperties: true,
          properties: {
            apiVersion: { type: 'string', minLength: 1 },
            kind: { type: 'string', minLength: 1 },
            metadata: { type: 'object', required: ['name'], additionalProperties: true, properties: { name: { type: 'string', minLength: 1 }, namespace: { type: 'string', minLength: 1 } } },
          },
        },
        { type: 'string', minLength: 1 },
      ],
    },
  };
}

function helpers(chart: string): string {
  return `{{/*
Helpers of the ${chart} chart. Generated by kubeflow-charts; do not edit.
*/}}

{{/*
Container image reference: registry/repository:tag@digest.
global.imageRegistry, when set, replaces the registry.
*/}}
{{- define "${chart}.image" -}}
{{- $registry := .image.registry -}}
{{- $repository := .image.repository -}}
{{- with .global -}}{{- with .imageRegistry -}}
{{- /* a Docker Hub official image keeps its library/ path on a mirror */ -}}
{{- if and (has $registry (list "" "docker.io" "index.docker.io")) (not (contains "/" $repository)) }}{{ $repository = printf "library/%s" $repository }}{{ end -}}
{{- $registry = . -}}
{{- end -}}{{- end -}}
{{- if $registry }}{{ $registry }}/{{ end }}{{ $repository }}
{{- with .image.tag }}:{{ . }}{{ end }}
{{- with .image.digest }}@{{ . }}{{ end }}
{{- end -}}

{{/*
An image reference upstream writes as a string (env, args, custom resources,
ConfigMap texts): with global.imageRegistry its registry is replaced (Docker Hub
official images keep library/), else it prints as upstream wrote it.
*/}}
{{- define "${chart}.imageRef" -}}
{{- $ref := .ref -}}
{{- with .global -}}{{- with .imageRegistry -}}
{{- $parts := splitList "/" $ref -}}
{{- $path := $ref -}}
{{- $hub := true -}}
{{- if and (gt (len $parts) 1) (or (contains "." (first $parts)) (contains ":" (first $parts)) (eq (first $parts) "localhost")) -}}
{{- $path = join "/" (rest $parts) -}}
{{- $hub = has (first $parts) (list "docker.io" "index.docker.io" "registry-1.docker.io") -}}
{{- end -}}
{{- if and $hub (not (contains "/" $path)) }}{{ $path = printf "library/%s" $path }}{{ end -}}
{{- $ref = printf "%s/%s" . $path -}}
{{- end -}}{{- end -}}
{{- $ref -}}
{{- end -}}

${valueHelpers(chart)}`;
}

/** A component chart's default values and schema properties: global, enabled, variant, switches, workloads, extraObjects. */
function chartValues(m: TemplatizeInput, cv: ChartValues): { values: Record<string, unknown>; properties: Record<string, JsonSchema> } {
  const defaultVariant = m.variants[0] ?? '';
  const defs = loadSchemaDefinitions();
  const values: Record<string, unknown> = { global: globalDefaults() };
  const properties: Record<string, JsonSchema> = {
    global: structuredClone(defs.global),
    enabled: { description: 'Whether the umbrella chart installs this component (read by the kubeflow chart only).', type: 'boolean' },
  };
  if (m.variants.length) {
    values.variant = defaultVariant;
    properties.variant = { description: `Upstream overlay to render: ${m.plan.variants.map((v) => `${v.name} (${v.path})`).join(', ')}.`, type: 'string', enum: m.variants };
  }
  for (const group of ['kustomizeComponents', 'options'] as const) {
    const ts = m.toggles.filter((t) => t.group === group);
    if (!ts.length) continue;
    values[group] = Object.fromEntries(ts.map((t) => [t.name, t.defaultOn]));
    properties[group] =
      group === 'kustomizeComponents'
        ? {
            description: 'kustomize Components of the upstream example, applied when true.',
            type: 'object',
            additionalProperties: false,
            properties: Object.fromEntries(ts.map((t) => [t.name, { description: `Apply ${t.path}${t.defaultOn ? ' (upstream applies it)' : ' (upstream leaves it commented out)'}.`, type: 'boolean' }])),
          }
        : {
            description: 'Optional upstream directories installed with this component, each rendered when true.',
            type: 'object',
            additionalProperties: false,
            properties: Object.fromEntries(ts.map((t) => [t.name, { description: `${t.description ?? `Install ${t.path}.`} (upstream ${t.path}${t.defaultOn ? ", installed by upstream's instructions" : ''}).`, type: 'boolean' }])),
          };
  }
  for (const [k, v] of Object.entries(cv.workloads)) {
    values[k] = v;
    properties[k] = cv.schemas[k];
  }
  values.extraObjects = [];
  properties.extraObjects = extraObjectsSchema();
  return { values, properties };
}

/**
 * The templatize stage: turns a component's folded objects into a chart model.
 * Workload fields are bound to values (the default variant's upstream content
 * sets the defaults), objects that differ between variants or toggles become
 * branches, and the values, schema and ci scenarios of the variants are set.
 */
export function templatizeChart(m: TemplatizeInput): ChartModel {
  const name = m.plan.name;
  const labels = generatorLabels(name, m.version);
  const allObjects = m.folded.flatMap((f) => [...f.cases.map((c) => c.obj), ...f.toggled.flatMap((t) => (t.obj ? [t.obj] : []))]);
  const cv = new ChartValues(name);
  const topts: TemplatizeOptions = { chart: name, labels, workloadKeys: assignWorkloadKeys(allObjects), values: cv };
  const defaultVariant = m.variants[0] ?? '';
  const memo = new Map<KObject, Content>();
  const content = (o: KObject): Content => {
    let c = memo.get(o);
    if (!c) {
      c = templatizeObject(o, topts, `${name}: ${o.key}`);
      memo.set(o, c);
    }
    return c;
  };
  const isCrd = (f: FoldedObject) => f.isStatic && f.sample.kind === 'CustomResourceDefinition';
  // Default-variant contents first: their upstream values become the chart defaults.
  for (const f of m.folded) for (const c of f.cases) if (!m.variants.length || c.variants.includes(defaultVariant)) if (!isCrd(f)) content(c.obj);
  const taken = new Set<string>();
  const override = variantHelper(name, m.plan, m.variants);
  const selected = override ? `(include ${q(`${name}.variant`)} $)` : '.Values.variant';
  const objects: ModelObject[] = m.folded.map((f) => {
    const base = { key: f.key, sample: f.sample, file: fileName(f.sample, taken), when: [], annotations: {} };
    if (isCrd(f)) return { ...base, crd: true, branches: [] };
    if (f.isStatic) return { ...base, branches: [{ cond: 'true', content: content(f.sample) }] };
    const branches: Branch[] = [];
    for (const t of f.toggled) branches.push({ cond: toggleExpr(t.toggle), content: t.obj ? content(t.obj) : null });
    for (const c of f.cases) {
      branches.push({
        cond: c.variants.length === Math.max(1, m.variants.length) ? 'true' : caseExpr(c.variants, selected),
        content: content(c.obj),
        ...(m.sharedKeys?.has(f.key) && !c.variants.includes(defaultVariant) ? { outsideUmbrellaOnly: true } : {}),
      });
    }
    return { ...base, branches };
  });

  const { values, properties } = chartValues(m, cv);
  const model: ChartModel = {
    name,
    plan: m.plan,
    release: m.release,
    version: m.version,
    variants: m.variants,
    toggles: m.toggles,
    objects,
    values,
    properties,
    ciFiles: [],
    files: { 'templates/_helpers.tpl': helpers(name) + (override ?? ''), 'templates/extra-objects.yaml': extraObjectsTemplate(name) },
    readmeSections: [],
    features: [],
    generated: [],
  };
  bindAutoscaling(model);
  if (m.variants.length) for (const v of m.plan.variants) addCiFile(model, v.name, { variant: v.name }, `Variant ${v.name}: renders upstream ${v.path}`);
  else addCiFile(model, 'default', {}, `Default values: render upstream ${m.plan.entries.map((e) => e.path).join(', ')}`);
  for (const t of m.toggles)
    addCiFile(
      model,
      `${t.defaultOn ? 'without' : 'with'}-${kebab(t.name)}`,
      { [t.group]: { [t.name]: !t.defaultOn } },
      `${t.defaultOn ? 'Without' : 'With'} ${t.group === 'options' ? 'the upstream option' : 'the kustomize Component'} ${t.path}`,
    );
  return model;
}
