import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { KfcError } from '../core/errors.js';
import { parseYaml } from '../core/model.js';
import { componentsDir } from '../discover/components.js';
import type { AnalyzedComponent } from '../fold/analyze.js';
import { placementAnnotations } from '../order/place.js';
import type { OrderingModel } from '../order/tiers.js';
import { escapeBraces } from '../templatize/template-doc.js';

/**
 * The central dashboard's menu, derived from the enabled components (components/_shared/dashboard.yaml):
 * the umbrella renders the dashboard's links ConfigMap, each link shown while the chart whose
 * VirtualService serves its path is enabled. With every component on, the text is upstream's
 * (JSON printed with 4-space indentation, as upstream writes it), so parity holds.
 */
export interface DashboardSpec {
  file: string;
  chart: string;
  configMap: string;
  key: string;
  extraLinks: Record<string, Record<string, unknown[]>>;
}

export function loadDashboardSpec(dir = componentsDir()): DashboardSpec | undefined {
  const file = path.join(dir, '_shared', 'dashboard.yaml');
  if (!existsSync(file)) return undefined;
  const d = YAML.parse(readFileSync(file, 'utf8')) ?? {};
  for (const k of Object.keys(d)) if (!['chart', 'configMap', 'key', 'extraLinks'].includes(k)) throw new KfcError(`${file}: unknown key "${k}"`, 'known: chart, configMap, key, extraLinks');
  if (typeof d.chart !== 'string' || typeof d.configMap !== 'string' || typeof d.key !== 'string')
    throw new KfcError(`${file}: needs chart, configMap and key`, 'name the dashboard chart, its links ConfigMap and the key holding the links JSON');
  return { file, chart: d.chart, configMap: d.configMap, key: d.key, extraLinks: d.extraLinks ?? {} };
}

/** Path prefixes of every chart's VirtualService routes, longest first. */
function routePrefixes(components: AnalyzedComponent[]): Array<{ prefix: string; chart: string }> {
  const out: Array<{ prefix: string; chart: string }> = [];
  for (const c of components)
    for (const o of c.configs.flatMap((x) => x.objects).filter((x) => x.kind === 'VirtualService'))
      for (const h of parseYaml(o.raw)?.spec?.http ?? []) for (const m of h.match ?? []) if (m.uri?.prefix) out.push({ prefix: m.uri.prefix, chart: c.plan.name });
  return out.sort((a, b) => b.prefix.length - a.prefix.length);
}

type Cond = string | undefined;

/** Go template text printing `v` as JSON.stringify(v, null, 4) does, array items shown under their condition. */
function jsonText(v: unknown, indent: number, cond: (item: unknown) => Cond, vars: { n: number }): string {
  const pad = ' '.repeat(indent + 4);
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    const f = `$f${++vars.n}`;
    const items = v.map((x) => {
      const c = cond(x);
      const body = `{{ if not ${f} }},{{ end }}\n${pad}${jsonText(x, indent + 4, cond, vars)}{{ ${f} = false }}`;
      return c ? `{{ if ${c} }}${body}{{ end }}` : body;
    });
    return `[{{ ${f} := true }}${items.join('')}\n${' '.repeat(indent)}]`;
  }
  if (v && typeof v === 'object') {
    const entries = Object.entries(v);
    if (!entries.length) return '{}';
    return `{\n${entries.map(([k, x]) => `${pad}${escapeBraces(JSON.stringify(k))}: ${jsonText(x, indent + 4, cond, vars)}`).join(',\n')}\n${' '.repeat(indent)}}`;
  }
  return escapeBraces(JSON.stringify(v));
}

/** The umbrella's template of the dashboard's links ConfigMap, or undefined when the release has no such dashboard. */
export function dashboardTemplate(spec: DashboardSpec | undefined, components: AnalyzedComponent[], ordering: OrderingModel, version: string): string | undefined {
  const dash = spec && components.find((c) => c.plan.name === spec.chart);
  if (!spec || !dash) return undefined;
  const prefixes = routePrefixes(components);
  const enabled = (chart: string) => `(index $.Values ${JSON.stringify(chart)}).enabled`;
  const linkCond = (link: unknown): Cond => {
    if (typeof link !== 'string' || !link.startsWith('/')) return undefined;
    const hit = prefixes.find((p) => link.split('#')[0].startsWith(p.prefix) || `${link.split('#')[0]}/`.startsWith(p.prefix));
    return hit && hit.chart !== spec.chart ? enabled(hit.chart) : undefined;
  };
  // entries extraLinks adds, by their chart
  const extraOf = new WeakMap<object, string>();
  const cond = (item: unknown): Cond => {
    const o = item as Record<string, unknown> | null;
    if (!o || typeof o !== 'object') return undefined;
    // an entry upstream's configuration lacks: not with global.devMode, which renders upstream's
    const extra = extraOf.get(o);
    if (extra) return `and ${enabled(extra)} (not $.Values.global.devMode)`;
    if (Array.isArray(o.items)) {
      const cs = o.items.map(cond);
      return cs.some((c) => !c) ? undefined : `or ${cs.map((c) => `(${c})`).join(' ')} false`;
    }
    return linkCond(o.link);
  };
  const branches: string[] = [];
  const defines: string[] = [];
  const variants = [...new Set(dash.configs.map((c) => c.variant))];
  const configMapOf = (objects: AnalyzedComponent['configs'][number]['objects'], variant: string | undefined) => {
    const obj = objects.find((o) => o.kind === 'ConfigMap' && (o.name === spec.configMap || o.name.startsWith(`${spec.configMap}-`)));
    if (!obj) throw new KfcError(`${spec.file}: chart ${spec.chart} has no ConfigMap ${spec.configMap}${variant ? ` in variant ${variant}` : ''}`, 'upstream renamed it: update the file');
    return { obj, doc: parseYaml(obj.raw) as { metadata: Record<string, unknown> & { labels?: Record<string, string>; annotations?: Record<string, string> }; data?: Record<string, string> } };
  };
  const parseLinks = (doc: { data?: Record<string, string> }, key: string): Record<string, unknown[]> => {
    try {
      return JSON.parse(doc.data?.[spec.key] ?? '');
    } catch {
      throw new KfcError(`${spec.file}: ${key} key ${spec.key} holds no JSON`, 'upstream changed the dashboard configuration: update the file');
    }
  };
  const withExtra = (links: Record<string, unknown[]>) => {
    for (const [chart, extra] of Object.entries(spec.extraLinks))
      if (components.some((c) => c.plan.name === chart))
        for (const [k, items] of Object.entries(extra))
          links[k] = [
            ...(links[k] ?? []),
            ...items.map((i) => {
              const copy = { ...(i as object) };
              extraOf.set(copy, chart);
              return copy;
            }),
          ];
    return links;
  };
  for (const variant of variants) {
    const cfg = dash.configs.find((c) => c.variant === variant && !c.toggle)!;
    const { obj, doc } = configMapOf(cfg.objects, variant);
    const links = parseLinks(doc, obj.key);
    // a kustomize Component or option of the dashboard that changes the ConfigMap: its data under its switch
    const toggled = dash.configs
      .filter((c) => c.variant === variant && c.toggle)
      .map((c) => ({ toggle: c.toggle!, doc: configMapOf(c.objects, variant).doc }))
      .filter((t) => JSON.stringify(t.doc.data ?? {}) !== JSON.stringify(doc.data ?? {}));
    const switchOf = (t: { group: string; name: string; defaultOn: boolean }) => `${t.defaultOn ? 'not ' : ''}(index $.Values ${JSON.stringify(spec.chart)}).${t.group}.${t.name}`;
    const suffix = variants.length > 1 ? `.${variant}` : '';
    const text = jsonText(withExtra(links), 0, cond, { n: 0 });
    const labels = { ...(doc.metadata.labels ?? {}), 'helm.sh/chart': '{{ .Chart.Name }}-{{ .Chart.Version }}', 'app.kubernetes.io/managed-by': '{{ .Release.Service }}' };
    const meta = { ...doc.metadata, labels, annotations: { ...(doc.metadata.annotations ?? {}), ...placementAnnotations(ordering.placements.get(obj.key), version) } };
    defines.push(`{{- define "kubeflow.dashboardLinks${suffix}" }}${text}{{ end }}`);
    const dataValue = (d: { data?: Record<string, string> }, k: string, define: string) => (k === spec.key ? `{{ include ${JSON.stringify(define)} . | toJson }}` : d.data?.[k] === undefined ? '' : escapeBraces(JSON.stringify(d.data[k])));
    toggled.forEach((t, i) => {
      if (t.doc.data?.[spec.key] !== doc.data?.[spec.key]) defines.push(`{{- define "kubeflow.dashboardLinks${suffix}.${i}" }}${jsonText(withExtra(parseLinks(t.doc, obj.key)), 0, cond, { n: 0 })}{{ end }}`);
    });
    const keys = [...new Set([...Object.keys(doc.data ?? {}), ...toggled.flatMap((t) => Object.keys(t.doc.data ?? {}))])];
    const data = keys.map((k) => {
      const base = dataValue(doc, k, `kubeflow.dashboardLinks${suffix}`);
      const changes = toggled.map((t, i) => ({ t, i })).filter(({ t }) => t.doc.data?.[k] !== doc.data?.[k]);
      if (!changes.length) return `  ${JSON.stringify(k)}: ${base}`;
      // each switch's value (one switch at a time, as upstream builds them), else the default's
      const chain = changes.map(({ t, i }, n) => `{{ ${n ? 'else if' : 'if'} ${switchOf(t.toggle)} }}${t.doc.data?.[k] === undefined ? '' : `${JSON.stringify(k)}: ${dataValue(t.doc, k, `kubeflow.dashboardLinks${suffix}.${i}`)}`}`).join('');
      return `  ${chain}{{ else }}${base ? `${JSON.stringify(k)}: ${base}` : ''}{{ end }}`;
    });
    branches.push(`${variants.length > 1 ? `{{- if eq (index .Values ${JSON.stringify(spec.chart)}).variant ${JSON.stringify(variant)} }}\n` : ''}apiVersion: v1
kind: ConfigMap
metadata: ${JSON.stringify(meta)}
data:
${data.join('\n')}${variants.length > 1 ? '\n{{- end }}' : ''}`);
  }
  return `{{- /* The dashboard's menu, following the enabled components (components/_shared/dashboard.yaml). */}}
${defines.join('\n')}
{{- if ${enabled(spec.chart)} }}
${branches.join('\n')}
{{- end }}
`;
}
