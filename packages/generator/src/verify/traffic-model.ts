import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { KfcError } from '../core/errors.js';
import { componentsDir } from '../discover/components.js';

/**
 * The declared traffic model (components/_shared/traffic.yaml): the actors at the ends of the
 * paths Kubeflow needs, and the paths. Platform knowledge lives there; this file only reads it.
 */

export interface StandIn {
  /** a values expression, or `rendered <Kind> <ns/name>` */
  when: string;
  namespace: string;
  /** a values expression, a map of label -> expression, or a list of those (the first non-empty) */
  labels?: string | Record<string, string> | Array<string | Record<string, string>>;
  serviceAccount?: string;
  namespaceLabels?: Record<string, string>;
  namespaceLabelsFrom?: { configMap: string; key: string };
}

export interface Actor {
  name: string;
  description: string;
  /** a rendered workload: `namespace/name` (or `name`: in whatever namespace it is rendered) */
  workload?: string;
  /** rendered pods by labels (any namespace; `*` globs values) */
  pods?: { labels: Record<string, string> };
  /** ports paths to this actor use (default: any port) */
  ports?: number[];
  /** mesh membership of its stand-in: its own Envoy (gateway), none, or as its namespace says (auto) */
  mesh?: 'gateway' | 'none' | 'auto';
  standIn?: StandIn;
  /** outside the pod network (the API server) */
  external?: boolean;
}

export type Target = { actor: string } | { service: string; port: string | number } | { host: string } | { anyOf: Target[] } | { routes: string } | { webhooks: true } | { jwtIssuers: true } | { ownUrls: true };

export type Source = string | { workload: string } | { serviceBackends: string };

export interface TrafficPath {
  name: string;
  description?: string;
  from: Source;
  to: Target;
  when?: string;
  /** destinations upstream itself does not admit: `namespace/name` or `name` of the workload, and why */
  knownGaps?: Array<{ to: string; reason: string }>;
}

export interface TrafficModel {
  file: string;
  /** hosts (`name.namespace`) outside the charts that rendered strings may name */
  externalServices: Array<{ host: string; reason: string }>;
  actors: Record<string, Actor>;
  paths: TrafficPath[];
}

const ACTOR_KEYS = ['description', 'workload', 'pods', 'ports', 'mesh', 'standIn', 'external'];
const STANDIN_KEYS = ['when', 'namespace', 'labels', 'serviceAccount', 'namespaceLabels', 'namespaceLabelsFrom'];
const PATH_KEYS = ['name', 'description', 'from', 'to', 'when', 'knownGaps'];
const TARGET_KEYS = ['actor', 'service', 'port', 'host', 'anyOf', 'routes', 'webhooks', 'jwtIssuers', 'ownUrls'];

function unknownKeys(o: Record<string, unknown>, known: string[], where: string, file: string): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new KfcError(`${file}: ${where}: unknown key "${k}" (known: ${known.join(', ')})`, 'see the comments at the top of the file');
}

function checkTarget(t: any, where: string, file: string, actors: Record<string, Actor>): void {
  if (!t || typeof t !== 'object') throw new KfcError(`${file}: ${where}: "to" must be a mapping`, 'see the comments at the top of the file');
  unknownKeys(t, TARGET_KEYS, where, file);
  if (t.actor !== undefined && !actors[t.actor]) throw new KfcError(`${file}: ${where}: unknown actor "${t.actor}"`, `declare it under actors (known: ${Object.keys(actors).join(', ')})`);
  if (t.service !== undefined && t.port === undefined) throw new KfcError(`${file}: ${where}: a service target needs a port (name or number)`, 'name the Service port the path uses');
  for (const [i, x] of (t.anyOf ?? []).entries()) checkTarget(x, `${where} anyOf[${i}]`, file, actors);
}

/** Reads and checks components/_shared/traffic.yaml. */
export function loadTrafficModel(dir = componentsDir()): TrafficModel {
  const file = path.join(dir, '_shared', 'traffic.yaml');
  if (!existsSync(file)) throw new KfcError(`${file} is missing`, 'restore it from git: it declares the paths the traffic test checks');
  let data: any;
  try {
    data = YAML.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new KfcError(`${file}: invalid YAML: ${(e as Error).message}`, 'fix the file');
  }
  unknownKeys(data ?? {}, ['externalServices', 'actors', 'paths'], 'top level', file);
  const actors: Record<string, Actor> = {};
  for (const [name, a] of Object.entries<any>(data?.actors ?? {})) {
    unknownKeys(a ?? {}, ACTOR_KEYS, `actor ${name}`, file);
    if (a.standIn) {
      unknownKeys(a.standIn, STANDIN_KEYS, `actor ${name} standIn`, file);
      if (typeof a.standIn.when !== 'string' || typeof a.standIn.namespace !== 'string') throw new KfcError(`${file}: actor ${name}: standIn needs "when" and "namespace"`, 'say when the pods are yours and where they run');
    }
    if (!a.workload && !a.pods && !a.standIn && !a.external) throw new KfcError(`${file}: actor ${name} names no workload, pods, standIn or external`, 'say how to find it in a render');
    actors[name] = { name, description: String(a.description ?? name), ...a };
  }
  const paths: TrafficPath[] = [];
  for (const [i, p] of (data?.paths ?? []).entries()) {
    const where = `paths[${i}]${p?.name ? ` (${p.name})` : ''}`;
    unknownKeys(p ?? {}, PATH_KEYS, where, file);
    if (typeof p.name !== 'string' || !p.from || !p.to) throw new KfcError(`${file}: ${where}: a path needs name, from and to`, 'see the comments at the top of the file');
    if (typeof p.from === 'string' && !actors[p.from]) throw new KfcError(`${file}: ${where}: unknown actor "${p.from}"`, `declare it under actors (known: ${Object.keys(actors).join(', ')})`);
    checkTarget(p.to, where, file, actors);
    paths.push(p);
  }
  const names = paths.map((p) => p.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new KfcError(`${file}: path "${dup}" is declared twice`, 'give each path its own name');
  const externalServices = (data?.externalServices ?? []) as TrafficModel['externalServices'];
  for (const e of externalServices) if (typeof e?.host !== 'string' || typeof e.reason !== 'string') throw new KfcError(`${file}: externalServices entries need host (name.namespace) and reason`, 'say why the charts may name it');
  return { file, externalServices, actors, paths };
}

/** The value at a dotted path (`a.b.0.c`; keys may hold `-`). */
export function valueAt(values: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((x, k) => (x !== null && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined), values);
}

const empty = (v: unknown) => v === undefined || v === null || v === '' || v === false || (typeof v === 'object' && !Array.isArray(v) && !Object.keys(v as object).length);

/** Labels from a values expression, a map of label -> expression, or a list of those (the first non-empty). */
export function evalLabels(spec: StandIn['labels'], ctx: { values: unknown; releaseNamespace: string }): Record<string, string> {
  for (const one of Array.isArray(spec) ? spec : spec === undefined ? [] : [spec]) {
    const v =
      typeof one === 'string'
        ? evalExpr(one, ctx)
        : Object.fromEntries(
            Object.entries(one)
              .map(([k, e]) => [k, evalExpr(e, ctx)])
              .filter(([, x]) => !empty(x)),
          );
    if (!empty(v) && typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
  }
  return {};
}

/** Evaluates `a | b | ...`: each `.Values.x.y`, `.Release.Namespace` or a literal; the first non-empty. */
export function evalExpr(expr: string, ctx: { values: unknown; releaseNamespace: string }): unknown {
  for (const part of expr.split('|').map((s) => s.trim())) {
    let v: unknown = part;
    if (part === '.Release.Namespace') v = ctx.releaseNamespace;
    else if (part.startsWith('.Values.')) v = valueAt(ctx.values, part.slice('.Values.'.length));
    if (!empty(v)) return v;
  }
  return undefined;
}
