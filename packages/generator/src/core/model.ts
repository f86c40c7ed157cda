import YAML from 'yaml';
import { KfcError } from './errors.js';

/** A Kubernetes object from a kustomize build, identified by apiVersion/kind/namespace/name. */
export interface KObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  /** `apiVersion/kind/namespace/name` (namespace empty for cluster-scoped or unset) */
  key: string;
  /** the document's text exactly as kustomize printed it */
  raw: string;
}

export function objectKey(o: { apiVersion: string; kind: string; namespace?: string; name: string }): string {
  return `${o.apiVersion}/${o.kind}/${o.namespace ?? ''}/${o.name}`;
}

/** The lines [start, end) of a document's top-level `metadata:` block in kustomize's block style. */
export function metadataBlock(lines: string[]): { start: number; end: number } | undefined {
  const start = lines.indexOf('metadata:');
  if (start < 0) return undefined;
  let end = start + 1;
  while (end < lines.length && (lines[end].startsWith(' ') || lines[end] === '')) end++;
  return { start, end };
}

const PARSE_OPTIONS = { version: '1.1', uniqueKeys: false } as const;

/** Parses YAML the way Kubernetes clients read it (YAML 1.1 scalars). */
export function parseYaml(text: string): any {
  return YAML.parse(text, { ...PARSE_OPTIONS, maxAliasCount: -1 });
}

function scalar(v: string): string {
  const t = v.trim();
  if (t.startsWith('"') || t.startsWith("'")) return String(YAML.parse(t));
  return t;
}

/**
 * Reads the identity of one document from its top-level lines without parsing
 * the whole document (CRDs are megabytes). kustomize prints block style with
 * two-space indentation, which this relies on; anything else falls back to a
 * full parse.
 */
function head(raw: string): { apiVersion?: string; kind?: string; name?: string; namespace?: string } {
  const h: { apiVersion?: string; kind?: string; name?: string; namespace?: string } = {};
  let inMeta = false;
  let start = 0;
  while (start < raw.length) {
    let end = raw.indexOf('\n', start);
    if (end < 0) end = raw.length;
    const line = raw.slice(start, end);
    start = end + 1;
    if (!line || line.startsWith('#')) continue;
    if (line[0] !== ' ') {
      inMeta = false;
      const m = /^(apiVersion|kind|metadata):(.*)$/.exec(line);
      if (!m) continue;
      if (m[1] === 'metadata') {
        if (m[2].trim()) return parseHead(raw);
        inMeta = true;
      } else h[m[1] as 'apiVersion' | 'kind'] = scalar(m[2]);
    } else if (inMeta && line.startsWith('  ') && line[2] !== ' ') {
      const m = /^ {2}(name|namespace):(.*)$/.exec(line);
      if (m) h[m[1] as 'name' | 'namespace'] = scalar(m[2]);
    }
    if (h.apiVersion && h.kind && h.name && h.namespace) break;
  }
  return h;
}

function parseHead(raw: string) {
  const d = parseYaml(raw) ?? {};
  return { apiVersion: d.apiVersion, kind: d.kind, name: d.metadata?.name, namespace: d.metadata?.namespace };
}

/** Splits a multi-document kustomize output into objects; `source` names it in errors. */
export function splitObjects(text: string, source: string): KObject[] {
  const out: KObject[] = [];
  const seen = new Set<string>();
  for (const part of text.split(/^---[ \t]*$/m)) {
    const raw = part.replace(/^\n+/, '');
    if (!raw.trim() || /^(\s*#.*\n?)*\s*$/.test(raw)) continue;
    const h = head(raw);
    if (!h.apiVersion || !h.kind || !h.name) throw new KfcError(`${source}: a document has no apiVersion/kind/metadata.name:\n${raw.slice(0, 200)}`, 'fix the upstream manifest');
    const obj: KObject = { apiVersion: h.apiVersion, kind: h.kind, name: h.name, namespace: h.namespace || undefined, key: '', raw: raw.endsWith('\n') ? raw : `${raw}\n` };
    obj.key = objectKey(obj);
    if (seen.has(obj.key)) throw new KfcError(`${source}: object ${obj.key} appears twice`, 'fix the upstream kustomization');
    seen.add(obj.key);
    out.push(obj);
  }
  return out;
}

export const MARKER_NAME = 'kubeflow-charts-build-marker-';

/**
 * Splits the objects of a marker build (see BuildUnit.markers) into one group
 * per resource: group i holds what resource i produced. Objects after the
 * last marker (added by the kustomization itself) form the final group.
 */
export function splitByMarkers(objs: KObject[], resources: number, source: string): KObject[][] {
  const groups: KObject[][] = [[]];
  for (const o of objs) {
    if (o.kind === 'ConfigMap' && o.name.startsWith(MARKER_NAME)) {
      const i = Number(o.name.slice(MARKER_NAME.length));
      if (i !== groups.length - 1) throw new KfcError(`${source}: build markers out of order (marker ${i} after group ${groups.length - 1})`, 'the kustomize build did not keep accumulation order; report this as a generator bug');
      groups.push([]);
    } else groups[groups.length - 1].push(o);
  }
  if (groups.length !== resources + 1) throw new KfcError(`${source}: found ${groups.length - 1} build markers for ${resources} resources`, 'report this as a generator bug');
  return groups;
}

/** Where the pod template sits in each workload kind. */
export const WORKLOAD_KINDS: Record<string, string[]> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** The pod template of a workload object (undefined for other kinds). */
export function podTemplate(doc: unknown, kind: string): any {
  return (WORKLOAD_KINDS[kind] ?? []).reduce<unknown>((x, k) => (x !== null && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined), doc);
}
