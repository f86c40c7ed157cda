import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { KfcError } from '../core/errors.js';
import type { ChartModel, Content, ModelObject } from '../templatize/chart-model.js';
import { metadataBlock, type KObject } from '../core/model.js';
import { assertStrictSchema, DRAFT_07, hoistRepeated, type JsonSchema, requireDefaults, schemaAt, schemaRows, withDefinitions } from '../core/schema.js';
import { sourceRef } from '../upstream/release.js';
import { PROJECT } from '../core/project.js';
import { kubeRange, kubeVersionConstraint, templateObjects, type KubeRange } from './kube-version.js';
import { artifactHubAnnotations, chartYamlText, commonChartFields, type CrdInfo } from './metadata.js';
import { componentNotes, readinessTemplate } from './notes.js';

/** Each chart file must stay well under Helm's 5 MiB per-file limit. */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;

/** What the emitter reports about a chart it wrote. */
export interface ChartSummary {
  name: string;
  version: string;
  appVersion: string;
  description: string;
  enabled: boolean;
  variants: string[];
  toggles: Array<{ name: string; defaultOn: boolean; path: string; group: 'kustomizeComponents' | 'options' }>;
  upstreamPaths: string[];
  objects: number;
  crds: string[];
  schema: JsonSchema;
  ciFiles: Array<{ file: string; values: Record<string, unknown>; feature?: { name: string; expect: unknown; umbrella?: Record<string, unknown> } }>;
  /** container images of the default render (Artifact Hub's image inventory) */
  images: Array<{ name: string; image: string }>;
  /** CRDs of the default render */
  crdInfo: CrdInfo[];
  /** Kubernetes minors serving every object of any variant */
  kube: KubeRange;
  /** defines `<name>.readiness` (templates/_readiness.tpl) */
  readiness: boolean;
  /** conditions (chart-level templates) under which an object renders, by `namespace/Kind/name`; only objects features drop */
  renderedWhen?: Record<string, string[]>;
  /** a `namespace` feature moves the objects upstream leaves without namespace: its condition (chart-level) */
  namespaceWhen?: string;
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
    const existing = new Set(
      lines
        .slice(at + 1, stop)
        .filter((l) => /^ {4}\S/.test(l))
        .map((l) =>
          l
            .trim()
            .split(':')[0]
            .replace(/^["']|["']$/g, ''),
        ),
    );
    lines.splice(at + 1, 0, ...entries.filter(([k]) => !existing.has(k)).map(fmt));
  }
  return lines.join('\n');
}

/** The values.yaml text: every key has a comment from the schema above it. */
export function valuesYaml(values: Record<string, unknown>, schema: JsonSchema, header: string): string {
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
      const freeForm = !s?.properties;
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
    `Generated by kubeflow-charts from Kubeflow manifests **${release.tag}**${release.commit ? ` (commit \`${release.commit.slice(0, 12)}\`)` : ' (an untagged tree)'}; do not edit generated files.`,
    `With default values it renders exactly what \`kustomize build\` renders for:`,
    '',
    ...s.upstreamPaths.map((p) => `- [\`${p}\`](https://github.com/${release.repository}/tree/${sourceRef(release)}/${p})`),
    '',
    '## Install',
    '',
    '```sh',
    `helm repo add kubeflow-charts ${PROJECT.chartRepository}`,
    `helm install ${s.name} kubeflow-charts/${s.name} --version ${s.version}`,
    '```',
    '',
    `Most users install it through the \`kubeflow\` umbrella chart (\`${s.name}.enabled\` there).` + (s.enabled ? '' : ' Upstream leaves this component commented out, so the umbrella disables it by default.'),
    '',
  ];
  if (s.variants.length) {
    lines.push('## Variants', '', 'Upstream offers alternative overlays; `variant` selects one.', '', '| variant | upstream overlay |', '| --- | --- |');
    for (const v of plan.variants) lines.push(`| \`${v.name}\`${v.isDefault ? ' (default)' : ''} | \`${v.path}\` |`);
    lines.push('');
  }
  for (const group of ['kustomizeComponents', 'options'] as const) {
    const ts = s.toggles.filter((t) => t.group === group);
    if (!ts.length) continue;
    if (group === 'kustomizeComponents') lines.push('## kustomize Components', '', 'Components the upstream example applies (or offers commented out) become switches under `kustomizeComponents`.', '');
    else lines.push('## Options', '', 'Directories upstream installs beside this component become switches under `options`.', '');
    lines.push('| value | upstream | default |', '| --- | --- | --- |', ...ts.map((t) => `| \`${group}.${t.name}\` | \`${t.path}\` | ${t.defaultOn} |`), '');
  }
  if (s.crds.length) {
    lines.push('## CRDs', '', `${s.crds.length} CustomResourceDefinitions ship in \`crds/\`: Helm installs them before anything else and never upgrades or deletes them. See the repository README, "Upgrading".`, '');
  }
  lines.push('## Values', '', '| Key | Type | Default | Description |', '| --- | --- | --- | --- |');
  for (const r of schemaRows(s.schema)) lines.push(`| \`${r.path}\` | ${r.type} | \`${mdEscape(defaultAt(values, r.path))}\` | ${mdEscape(r.description)} |`);
  for (const section of m.readmeSections) lines.push('', section.trimEnd());
  lines.push(
    '',
    '## Upgrading',
    '',
    `Chart versions follow Kubeflow releases (vMAJOR.MINOR.PATCH or YY.MM[.PATCH] gives MAJOR.MINOR.(PATCH*100+revision)), so ${s.version} is Kubeflow ${release.tag}.`,
    ...(s.crds.length
      ? ['', "Helm never upgrades `crds/`. Apply the new version's CRDs before `helm upgrade`:", '', '```sh', `helm show crds kubeflow-charts/${s.name} --version <new version> | kubectl apply --server-side --force-conflicts -f -`, '```']
      : []),
    '',
    'Upgrade with `--reset-then-reuse-values` (new defaults, your values) or your values files, not `--reuse-values`. Values keys derive from upstream workload and container names; when upstream removes one, the old key is accepted for one release with a `DEPRECATED:` line in the NOTES, then rejected by the schema.',
    ...(m.objects.some((o) => o.annotations['kubeflow-charts.io/install-failure-policy'])
      ? [
          '',
          "Installed alone, this chart registers its admission webhooks that admit its own objects with `failurePolicy: Ignore` while their servers are not ready (the umbrella's gate sets them back); run `helm upgrade --reset-then-reuse-values` once the chart is ready to make them fail closed.",
        ]
      : []),
    '',
  );
  return lines.join('\n');
}

function write(file: string, data: string): void {
  if (Buffer.byteLength(data) > MAX_FILE_BYTES) throw new KfcError(`${file} would be ${Buffer.byteLength(data)} bytes, over the 5 MiB chart file limit`, 'split the object or report it');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, data);
}

/** The template text of one object: its branches, inside the conditions of features that drop it. */
export function objectTemplate(o: ModelObject, text: (c: Content) => string): string {
  const body = (c: Content, outside?: boolean) => (outside ? `{{- if not .Values.global.kubeflowUmbrella }}\n${text(c)}{{- end }}\n` : text(c));
  let out: string;
  if (o.branches.length === 1 && o.branches[0].cond === 'true' && o.branches[0].content && !o.branches[0].outsideUmbrellaOnly) out = body(o.branches[0].content);
  else out = `${o.branches.map((b, i) => `{{- ${i ? 'else if' : 'if'} ${b.cond} }}\n${b.content ? body(b.content, b.outsideUmbrellaOnly) : ''}`).join('')}{{- end }}\n`;
  for (const w of [...o.when].reverse()) out = `{{- if ${w} }}\n${out}{{- end }}\n`;
  return out;
}

/** Every object a chart model can render (any variant, switch or feature), CRDs included. */
export function everyObject(m: Pick<ChartModel, 'objects'>): KObject[] {
  return m.objects.flatMap((x) => (x.crd ? [x.sample] : x.branches.flatMap((b) => (b.content ? [b.content.obj] : []))));
}

/** The values schema of a chart model. */
export function chartSchema(m: Pick<ChartModel, 'name' | 'properties' | 'values'>): JsonSchema {
  const schema = { $schema: DRAFT_07, title: `Values of the ${m.name} chart`, type: 'object', additionalProperties: false, properties: m.properties };
  return withDefinitions(requireDefaults(schema, m.values));
}

/** The emit stage: writes one chart model into `dir` and returns its summary. */
export function emitChart(m: ChartModel, dir: string, opts: { kube?: KubeRange } = {}): ChartSummary {
  const name = m.name;
  const crds: string[] = [];
  const texts = new Map<Content, string>();
  const text = (c: Content) => {
    let t = texts.get(c);
    if (t === undefined) {
      t = c.t.toText(c.doc, `${name}: ${c.obj.key}`);
      texts.set(c, t);
    }
    return t;
  };
  for (const o of m.objects) {
    if (o.crd) {
      write(path.join(dir, 'crds', `${o.file}.yaml`), annotateRaw(o.sample.raw, o.annotations, `${name}: ${o.key}`));
      crds.push(o.sample.name);
    } else write(path.join(dir, 'templates', `${o.file}.yaml`), objectTemplate(o, text));
  }
  for (const [f, t] of Object.entries(m.files)) write(path.join(dir, f), t);
  const schema = chartSchema(m);
  assertStrictSchema(schema, name);
  for (const c of m.ciFiles) write(path.join(dir, c.file), `# ${c.comment}\n${Object.keys(c.values).length ? YAML.stringify(c.values, { version: '1.1' }) : '{}\n'}`);

  // the release's range when given (every chart of a release states the same), else this chart's own
  const kube = opts.kube ?? kubeRange([...everyObject(m), ...templateObjects(m.files)], `chart ${name}`);
  const readiness = readinessTemplate(m, objectTemplate);
  if (readiness) write(path.join(dir, 'templates', '_readiness.tpl'), readiness);
  const ownNotes = componentNotes(m, !!readiness, crds.length);
  const featureNotes = m.files['templates/NOTES.txt'];
  write(path.join(dir, 'templates', 'NOTES.txt'), featureNotes ? `${ownNotes}\n${featureNotes}` : ownNotes);

  const summary: ChartSummary = {
    name,
    version: m.version,
    appVersion: m.release.tag,
    description: m.plan.description,
    enabled: m.plan.enabled,
    variants: m.variants,
    toggles: m.toggles.map((t) => ({ name: t.name, defaultOn: t.defaultOn, path: t.path, group: t.group })),
    upstreamPaths: [...new Set([...m.plan.entries.map((e) => e.path), ...m.plan.variants.map((v) => v.path)])],
    objects: m.objects.length,
    crds,
    schema,
    ciFiles: m.ciFiles.map((c) => ({ file: c.file, values: c.values, ...(c.feature ? { feature: c.feature } : {}) })),
    // filled from the written chart's render (inventory.ts)
    images: [],
    crdInfo: [],
    kube,
    readiness: !!readiness,
    renderedWhen: Object.fromEntries(m.objects.filter((o) => o.when.length).map((o) => [`${o.sample.namespace ?? ''}/${o.sample.kind}/${o.sample.name}`, o.when])),
    ...(m.features.find((f) => f.name === 'namespace')?.when ? { namespaceWhen: m.features.find((f) => f.name === 'namespace')!.when } : {}),
  };
  const chartYaml = {
    apiVersion: 'v2',
    name,
    description: m.plan.description,
    type: 'application',
    version: m.version,
    appVersion: m.release.tag,
    kubeVersion: kubeVersionConstraint(kube),
    ...commonChartFields(summary.upstreamPaths.map((p) => `https://github.com/${m.release.repository}/tree/${sourceRef(m.release)}/${p}`)),
    keywords: ['kubeflow', ...m.plan.keywords],
    annotations: {
      'kubeflow-charts/upstream-commit': m.release.commit,
      'kubeflow-charts/upstream-paths': summary.upstreamPaths.join(','),
      ...(m.variants.length ? { 'kubeflow-charts/variants': m.variants.join(',') } : {}),
      'kubeflow-charts/enabled-upstream': String(m.plan.enabled),
      ...artifactHubAnnotations({ release: m.release }),
    },
  };
  write(path.join(dir, 'Chart.yaml'), chartYamlText(`# Generated by kubeflow-charts from ${m.release.repository}@${m.release.tag}; do not edit.`, chartYaml));
  write(
    path.join(dir, 'values.yaml'),
    valuesYaml(m.values, schema, `# Default values of the ${name} chart: they render upstream ${m.release.tag} unchanged.\n# Generated by kubeflow-charts; the full reference is values.schema.json and README.md.\n\n`),
  );
  // repeated parts (image, resources, scheduling of each workload) once, under definitions: Helm validates values faster
  write(path.join(dir, 'values.schema.json'), `${JSON.stringify(hoistRepeated(schema), null, 2)}\n`);
  write(path.join(dir, '.helmignore'), '# Files Helm leaves out of the packaged chart\nci/\n.DS_Store\n');
  write(path.join(dir, 'README.md'), readme(m, summary, m.values));
  return summary;
}
