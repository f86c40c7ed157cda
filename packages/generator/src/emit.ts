import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { KfcError } from './errors.js';
import type { FoldedObject } from './fold.js';
import { metadataBlock, type KObject } from './model.js';
import type { ComponentPlan, Toggle } from './plan.js';
import { DRAFT_07, loadSchemaDefinitions, schemaAt, schemaRows } from './schema.js';
import { assignWorkloadKeys, ChartValues, generatorLabels, templatizeObject, type TemplatizeOptions } from './templatize.js';
import type { Release } from './upstream.js';
import { HOOK_WEIGHTS, type Placement } from './ordering.js';

export const KUBEFLOW_ICON = 'https://raw.githubusercontent.com/kubeflow/kubeflow/master/components/centraldashboard/public/assets/logo.svg';

/** Each chart file must stay well under Helm's 5 MiB per-file limit. */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;

/**
 * Chart version scheme: Kubeflow vMAJOR.MINOR.PATCH with chart revision REV
 * becomes MAJOR.MINOR.(PATCH*100+REV). Versions order like the releases, the
 * common case reads as the Kubeflow version (v1.11.0 -> 1.11.0), and up to 99
 * chart-only revisions fit between two upstream patch releases.
 */
export function chartVersion(tag: string, revision: number): string {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(tag);
  if (!m) throw new KfcError(`release tag ${tag} is not vMAJOR.MINOR.PATCH`, 'pin a release tag in upstream.lock.json');
  if (!Number.isInteger(revision) || revision < 0 || revision > 99) throw new KfcError(`chartRevision ${revision} must be an integer 0..99`, 'fix upstream.lock.json');
  return `${m[1]}.${m[2]}.${Number(m[3]) * 100 + revision}`;
}

export interface ChartModel {
  plan: ComponentPlan;
  /** install tier, hooks and keep policy per object key (ordering.ts) */
  placements?: Map<string, Placement>;
  /** objects a variant re-declares that another chart owns: left out inside the umbrella */
  sharedKeys?: Set<string>;
  release: Release;
  version: string;
  /** variant names, default first (empty: no variants) */
  variants: string[];
  toggles: Toggle[];
  folded: FoldedObject[];
}

/** What the emitter reports about a chart it wrote. */
export interface ChartSummary {
  name: string;
  version: string;
  appVersion: string;
  description: string;
  enabled: boolean;
  variants: string[];
  toggles: Array<{ name: string; defaultOn: boolean; path: string }>;
  upstreamPaths: string[];
  objects: number;
  crds: string[];
  schema: any;
  ciFiles: Array<{ file: string; values: Record<string, unknown> }>;
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

/**
 * Annotations that place an object in the install order (docs/ordering.md):
 * its Argo CD sync wave, gate hooks for admission webhooks, keep policies for
 * user data and the Argo CD options CRDs need.
 */
export function placementAnnotations(p: Placement | undefined, version: string): Record<string, string> {
  if (!p) return {};
  const a: Record<string, string> = { 'argocd.argoproj.io/sync-wave': String(p.wave) };
  if (p.gatedWebhook) {
    // Helm registers it after the gate saw its server ready; Argo CD applies it in its wave.
    a['helm.sh/hook'] = 'post-install,post-upgrade';
    a['helm.sh/hook-weight'] = String(HOOK_WEIGHTS.webhooks);
    a['argocd.argoproj.io/hook'] = 'Sync';
  }
  if (p.tier === 'crds') {
    a['argocd.argoproj.io/sync-options'] = 'ServerSideApply=true,Prune=false';
    // read by the umbrella's pre-upgrade check: Helm never upgrades CRDs
    a['kubeflow-charts.io/version'] = version;
  }
  if (p.keep) a['helm.sh/resource-policy'] = 'keep';
  return a;
}

/**
 * Adds annotations to kustomize's text of an object without re-printing it
 * (CRDs are megabytes): under metadata.annotations, keeping upstream's own.
 */
export function annotateRaw(raw: string, add: Record<string, string>, source: string): string {
  const entries = Object.entries(add);
  if (!entries.length) return raw;
  const lines = raw.split('\n');
  const block = metadataBlock(lines);
  if (!block) throw new KfcError(`${source}: no top-level "metadata:" line to annotate`, 'report this as a generator bug');
  const { start: meta, end } = block;
  const ann = lines.slice(meta + 1, end).indexOf('  annotations:');
  const fmt = ([k, v]: [string, string]) => `    ${k}: ${JSON.stringify(v)}`;
  if (ann < 0) {
    lines.splice(meta + 1, 0, '  annotations:', ...entries.map(fmt));
  } else {
    const at = meta + 1 + ann;
    let stop = at + 1;
    while (stop < end && lines[stop].startsWith('    ')) stop++;
    const existing = new Set(lines.slice(at + 1, stop).filter((l) => /^ {4}\S/.test(l)).map((l) => l.trim().split(':')[0].replace(/^["']|["']$/g, '')));
    lines.splice(at + 1, 0, ...entries.filter(([k]) => !existing.has(k)).map(fmt));
  }
  return lines.join('\n');
}

function toggleExpr(t: Toggle): string {
  const v = `.Values.kustomizeComponents.${t.name}`;
  return t.defaultOn ? `not ${v}` : v;
}

function caseExpr(variants: string[]): string {
  return variants.length === 1 ? `eq .Values.variant ${q(variants[0])}` : `has .Values.variant (list ${variants.map(q).join(' ')})`;
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
{{- with .global -}}{{- with .imageRegistry -}}{{- $registry = . -}}{{- end -}}{{- end -}}
{{- if $registry }}{{ $registry }}/{{ end }}{{ .image.repository }}
{{- with .image.tag }}:{{ . }}{{ end }}
{{- with .image.digest }}@{{ . }}{{ end }}
{{- end -}}
`;
}

/** The values.yaml text: every key has a comment from the schema above it. */
export function valuesYaml(values: Record<string, unknown>, schema: any, header: string): string {
  const doc = new YAML.Document(values, { aliasDuplicateObjects: false });
  const walk = (node: unknown, keys: string[], inData: boolean) => {
    if (!YAML.isMap(node)) return;
    for (const pair of node.items) {
      const key = YAML.isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const p = [...keys, key];
      const s = inData ? undefined : schemaAt(schema, p);
      const desc: string = s?.description ?? `Upstream default for ${p.join('.')}.`;
      if (YAML.isScalar(pair.key)) pair.key.commentBefore = ` -- ${desc.replace(/\s+/g, ' ')}`;
      const v = pair.value;
      const freeForm = !s || !s.properties;
      if (YAML.isCollection(v) && freeForm && (v.items.length === 0 || ['nodeSelector', 'tolerations', 'affinity', 'podAnnotations', 'podLabels'].includes(key))) v.flow = true;
      else walk(v, p, inData || (!s?.properties && !!s));
    }
  };
  walk(doc.contents, [], false);
  const body = doc.toString({ version: '1.1', lineWidth: 0, indentSeq: false, flowCollectionPadding: false } as YAML.ToStringOptions);
  return `${header}${body}`;
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function defaultAt(values: any, p: string): string {
  const v = p.split('.').reduce((o, k) => (o == null ? undefined : o[k]), values);
  if (v === undefined) return '';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function readme(m: ChartModel, s: ChartSummary, values: any): string {
  const { plan, release } = m;
  const lines = [
    `# ${s.name}`,
    '',
    plan.description,
    '',
    `Generated by kubeflow-charts from Kubeflow manifests **${release.tag}** (commit \`${release.commit.slice(0, 12)}\`); do not edit generated files.`,
    `With default values it renders exactly what \`kustomize build\` renders for:`,
    '',
    ...s.upstreamPaths.map((p) => `- [\`${p}\`](https://github.com/${release.repository}/tree/${release.tag}/${p})`),
    '',
    '## Install',
    '',
    '```sh',
    'helm repo add kubeflow-charts <chart repository URL>',
    `helm install ${s.name} kubeflow-charts/${s.name} --version ${s.version}`,
    '```',
    '',
    `Most users install it through the \`kubeflow\` umbrella chart (\`${camel(s.name)}.enabled\`).` +
      (s.enabled ? '' : ' Upstream leaves this component commented out, so the umbrella disables it by default.'),
    '',
  ];
  if (s.variants.length) {
    lines.push('## Variants', '', 'Upstream offers alternative overlays; `variant` selects one.', '', '| variant | upstream overlay |', '| --- | --- |');
    for (const v of plan.variants) lines.push(`| \`${v.name}\`${v.isDefault ? ' (default)' : ''} | \`${v.path}\` |`);
    lines.push('');
  }
  if (s.toggles.length) {
    lines.push('## kustomize Components', '', 'Components the upstream example applies (or offers commented out) become switches under `kustomizeComponents`.', '', '| value | component | default |', '| --- | --- | --- |');
    for (const t of s.toggles) lines.push(`| \`kustomizeComponents.${t.name}\` | \`${t.path}\` | ${t.defaultOn} |`);
    lines.push('');
  }
  if (s.crds.length) {
    lines.push('## CRDs', '', `${s.crds.length} CustomResourceDefinitions ship in \`crds/\`: Helm installs them before anything else and never upgrades or deletes them. See the repository README, "Upgrading".`, '');
  }
  lines.push('## Values', '', '| Key | Type | Default | Description |', '| --- | --- | --- | --- |');
  for (const r of schemaRows(s.schema)) lines.push(`| \`${r.path}\` | ${r.type} | \`${mdEscape(defaultAt(values, r.path))}\` | ${mdEscape(r.description)} |`);
  lines.push(
    '',
    '## Upgrading',
    '',
    `Chart versions follow Kubeflow releases: vMAJOR.MINOR.PATCH gives MAJOR.MINOR.(PATCH*100+revision), so ${s.version} is Kubeflow ${release.tag}.`,
    ...(s.crds.length
      ? ['', 'Helm never upgrades `crds/`. Apply the new version\'s CRDs before `helm upgrade`:', '', '```sh', `helm show crds kubeflow-charts/${s.name} --version <new version> | kubectl apply --server-side --force-conflicts -f -`, '```']
      : []),
    '',
    'Values keys derive from upstream workload and container names; when upstream renames one, the old key is rejected by the schema instead of being ignored.',
    '',
  );
  return lines.join('\n');
}

function camel(s: string): string {
  return s.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function write(file: string, data: string): void {
  if (Buffer.byteLength(data) > MAX_FILE_BYTES) throw new KfcError(`${file} would be ${Buffer.byteLength(data)} bytes, over the 5 MiB chart file limit`, 'split the object or report it');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, data);
}

/** Writes one component chart into `dir` and returns its summary. */
export function emitChart(m: ChartModel, dir: string): ChartSummary {
  const name = m.plan.name;
  const labels = generatorLabels(name, m.version);
  const allObjects = m.folded.flatMap((f) => [...f.cases.map((c) => c.obj), ...f.toggled.flatMap((t) => (t.obj ? [t.obj] : []))]);
  const workloadKeys = assignWorkloadKeys(allObjects);
  const cv = new ChartValues(name);
  const topts: TemplatizeOptions = { chart: name, labels, workloadKeys, values: cv };
  const defaultVariant = m.variants[0] ?? '';
  const crds: string[] = [];
  const taken = new Set<string>();
  const texts = new Map<KObject, string>();
  const render = (o: KObject) => {
    let t = texts.get(o);
    if (t === undefined) {
      t = templatizeObject(o, { ...topts, annotations: placementAnnotations(m.placements?.get(o.key), m.version) }, `${name}: ${o.key}`);
      texts.set(o, t);
    }
    return t;
  };
  // Default-variant contents first: their upstream values become the chart defaults.
  for (const f of m.folded) for (const c of f.cases) if (!m.variants.length || c.variants.includes(defaultVariant)) if (!(f.isStatic && f.sample.kind === 'CustomResourceDefinition')) render(c.obj);
  for (const f of m.folded) {
    if (f.isStatic && f.sample.kind === 'CustomResourceDefinition') {
      const file = fileName(f.sample, taken);
      write(path.join(dir, 'crds', `${file}.yaml`), annotateRaw(f.sample.raw, placementAnnotations(m.placements?.get(f.sample.key), m.version), `${name}: ${f.sample.key}`));
      crds.push(f.sample.name);
      continue;
    }
    const file = fileName(f.sample, taken);
    let text: string;
    if (f.isStatic) text = render(f.sample);
    else {
      const branches: Array<[string, string]> = [];
      for (const t of f.toggled) branches.push([toggleExpr(t.toggle), t.obj ? render(t.obj) : '']);
      for (const c of f.cases) {
        const body = m.sharedKeys?.has(f.key) && !c.variants.includes(defaultVariant) ? `{{- if not .Values.global.kubeflowUmbrella }}\n${render(c.obj)}{{- end }}\n` : render(c.obj);
        branches.push([c.variants.length === Math.max(1, m.variants.length) ? 'true' : caseExpr(c.variants), body]);
      }
      text = branches.map(([cond, body], i) => `{{- ${i ? 'else if' : 'if'} ${cond} }}\n${body}`).join('') + '{{- end }}\n';
    }
    write(path.join(dir, 'templates', `${file}.yaml`), text);
  }
  write(path.join(dir, 'templates', '_helpers.tpl'), helpers(name));

  // values and schema
  const defs = loadSchemaDefinitions();
  const values: Record<string, unknown> = { global: { imageRegistry: '', imagePullSecrets: [] } };
  const props: Record<string, unknown> = {
    global: structuredClone(defs.global),
    enabled: { description: 'Whether the umbrella chart installs this component (read by the kubeflow chart only).', type: 'boolean' },
  };
  if (m.variants.length) {
    values.variant = defaultVariant;
    props.variant = { description: `Upstream overlay to render: ${m.plan.variants.map((v) => `${v.name} (${v.path})`).join(', ')}.`, type: 'string', enum: m.variants };
  }
  if (m.toggles.length) {
    values.kustomizeComponents = Object.fromEntries(m.toggles.map((t) => [t.name, t.defaultOn]));
    props.kustomizeComponents = {
      description: 'kustomize Components of the upstream example, applied when true.',
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(m.toggles.map((t) => [t.name, { description: `Apply ${t.path}${t.defaultOn ? ' (upstream applies it)' : ' (upstream leaves it commented out)'}.`, type: 'boolean' }])),
    };
  }
  for (const [k, v] of Object.entries(cv.workloads)) {
    values[k] = v;
    props[k] = cv.schemas[k];
  }
  const schema = { $schema: DRAFT_07, title: `Values of the ${name} chart`, type: 'object', additionalProperties: false, properties: props };

  const ciFiles: ChartSummary['ciFiles'] = [];
  const ci = (slug: string, vals: Record<string, unknown>, comment: string) => {
    const file = `ci/${String(ciFiles.length + 1).padStart(2, '0')}-${slug}-values.yaml`;
    ciFiles.push({ file, values: vals });
    const body = Object.keys(vals).length ? YAML.stringify(vals, { version: '1.1' }) : '{}\n';
    write(path.join(dir, file), `# ${comment}\n${body}`);
  };
  if (m.variants.length) for (const v of m.plan.variants) ci(v.name, { variant: v.name }, `Variant ${v.name}: renders upstream ${v.path}`);
  else ci('default', {}, `Default values: render upstream ${m.plan.entries.map((e) => e.path).join(', ')}`);
  for (const t of m.toggles) ci(`${t.defaultOn ? 'without' : 'with'}-${t.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, { kustomizeComponents: { [t.name]: !t.defaultOn } }, `${t.defaultOn ? 'Without' : 'With'} the kustomize Component ${t.path}`);

  const summary: ChartSummary = {
    name,
    version: m.version,
    appVersion: m.release.tag,
    description: m.plan.description,
    enabled: m.plan.enabled,
    variants: m.variants,
    toggles: m.toggles.map((t) => ({ name: t.name, defaultOn: t.defaultOn, path: t.path })),
    upstreamPaths: [...new Set([...m.plan.entries.map((e) => e.path), ...m.plan.variants.map((v) => v.path)])],
    objects: m.folded.length,
    crds,
    schema,
    ciFiles,
  };
  const chartYaml = {
    apiVersion: 'v2',
    name,
    description: m.plan.description,
    type: 'application',
    version: m.version,
    appVersion: m.release.tag,
    home: 'https://www.kubeflow.org',
    icon: KUBEFLOW_ICON,
    sources: summary.upstreamPaths.map((p) => `https://github.com/${m.release.repository}/tree/${m.release.tag}/${p}`),
    keywords: ['kubeflow', ...m.plan.keywords],
    annotations: {
      'kubeflow-charts/upstream-commit': m.release.commit,
      'kubeflow-charts/upstream-paths': summary.upstreamPaths.join(','),
      ...(m.variants.length ? { 'kubeflow-charts/variants': m.variants.join(',') } : {}),
      'kubeflow-charts/enabled-upstream': String(m.plan.enabled),
    },
  };
  write(path.join(dir, 'Chart.yaml'), `# Generated by kubeflow-charts from ${m.release.repository}@${m.release.tag}; do not edit.\n${YAML.stringify(chartYaml, { version: '1.1', lineWidth: 0, indentSeq: false })}`);
  write(path.join(dir, 'values.yaml'), valuesYaml(values, schema, `# Default values of the ${name} chart: they render upstream ${m.release.tag} unchanged.\n# Generated by kubeflow-charts; the full reference is values.schema.json and README.md.\n\n`));
  write(path.join(dir, 'values.schema.json'), `${JSON.stringify(schema, null, 2)}\n`);
  write(path.join(dir, '.helmignore'), '# Files Helm leaves out of the packaged chart\nci/\n.DS_Store\n');
  write(path.join(dir, 'README.md'), readme(m, summary, values));
  return summary;
}
