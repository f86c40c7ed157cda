import { existsSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { ChartModel } from '../templatize/chart-model.js';
import type { Logger } from '../core/log.js';
import { parseYaml, type KObject } from '../core/model.js';
import { chartModels } from '../generate/chart-models.js';
import { analyze, type Analysis } from '../fold/analyze.js';
import { readLock, type ResolveOptions } from '../upstream/release.js';
import { movedCharts, type ChartKeys, type KeyMove } from '../emit/deprecated.js';
import { parseTag } from '../upstream/version.js';
import { keyParts, removeCommand } from './remove-command.js';
import type { Change } from '../emit/changes.js';

/**
 * The upstream diff (`kfc diff A B`): what changes for users between two
 * releases, chart by chart, computed from the same in-memory chart models a
 * build makes (nothing is written).
 */

export interface ChartDiff {
  chart: string;
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  objectsAdded: string[];
  objectsRemoved: string[];
  objectsChanged: string[];
  valuesRemoved: string[];
  valuesAdded: string[];
  /** old workload key -> new workload key (same containers) */
  valuesRenamed: Array<[string, string]>;
  variantsRemoved: string[];
  variantsAdded: string[];
  crdsRemoved: string[];
  /** `crd: version` served before, gone now */
  crdVersionsRemoved: string[];
  selectorChanged: string[];
  /** objects Helm keeps on uninstall/upgrade (PVCs, CRDs, ...) that the new release no longer has */
  keptOrphans: string[];
  /** upstream directories: before -> after */
  pathsBefore: string[];
  pathsAfter: string[];
  /** a removed chart whose objects other charts render now: those charts, most objects first */
  movedInto?: string[];
}

export interface DiffReport {
  from: string;
  to: string;
  charts: ChartDiff[];
  /** umbrella values keys a values file for `from` must change: charts that moved, workload keys renamed */
  keyMoves: KeyMove[];
}

interface Side {
  tag: string;
  charts: Map<string, { model: ChartModel; objects: Map<string, KObject>; enabled: boolean }>;
  keep: Set<string>;
}

/** A tag (resolved like the pin: mirror, cache, download) or a release directory. */
export function sideOptions(arg: string, base: ResolveOptions): ResolveOptions {
  if (existsSync(path.join(arg, 'example', 'kustomization.yaml'))) {
    const tag = parseTag(path.basename(path.resolve(arg))) ? path.basename(path.resolve(arg)) : undefined;
    return { ...base, upstreamDir: arg, upstreamTag: tag };
  }
  const lock = readLock(base.lockFile);
  return { ...base, upstreamDir: undefined, lock: { ...lock, tag: arg, commit: arg === lock.tag ? lock.commit : '' } };
}

async function side(opts: ResolveOptions, logger: Logger): Promise<Side> {
  const a: Analysis = await analyze({ ...opts, logger });
  const { models, ordering } = chartModels(a);
  const charts = new Map<string, Side['charts'] extends Map<string, infer V> ? V : never>();
  for (const m of models) {
    const c = a.components.find((x) => x.plan.name === m.name)!;
    charts.set(m.name, { model: m, objects: new Map((c.configs[0]?.objects ?? []).map((o) => [o.key, o])), enabled: c.plan.enabled });
  }
  const keep = new Set([...ordering.placements].filter(([, p]) => p.keep).map(([k]) => k));
  return { tag: a.release.tag, charts, keep };
}

function chartKeys(s: Side): ChartKeys[] {
  return [...s.charts].map(([name, c]) => ({ name, objects: [...c.objects.keys()], values: Object.keys(c.model.values) }));
}

/** The key moves between two sides: charts whose objects moved to other charts, workload keys renamed inside a chart. */
function keyMoves(a: Side, b: Side, charts: ChartDiff[]): KeyMove[] {
  const moved = movedCharts(chartKeys(a), chartKeys(b));
  for (const [c, m] of Object.entries(moved)) charts.find((d) => d.chart === c)!.movedInto = m.into;
  const renames = charts.flatMap((d) => d.valuesRenamed.map(([o, n]) => ({ from: `${d.chart}.${o}`, to: `${d.chart}.${n}`, why: 'the workload was renamed upstream (same containers)' })));
  return [...Object.values(moved).flatMap((m) => m.keys), ...renames];
}

/** Leaf paths of a values tree (empty maps and lists are leaves). */
export function valuePaths(v: unknown, prefix = ''): string[] {
  if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.keys(v).length) return prefix ? [prefix] : [];
  return Object.entries(v).flatMap(([k, x]) => valuePaths(x, prefix ? `${prefix}.${k}` : k));
}

function workloadContainers(values: Record<string, unknown>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(values)) {
    const containers = v && typeof v === 'object' ? (v as { containers?: object }).containers : undefined;
    if (containers) out.set(k, Object.keys(containers).sort().join(','));
  }
  return out;
}

/** Workloads whose spec.selector Kubernetes refuses to change. */
const SELECTOR_IMMUTABLE = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

const crdVersions = (o: KObject): string[] => (parseYaml(o.raw)?.spec?.versions ?? []).filter((v: { served?: boolean }) => v.served !== false).map((v: { name: string }) => v.name);
const label = (k: string) => {
  const { kind, namespace, name } = keyParts(k);
  return `${kind} ${namespace ? `${namespace}/` : ''}${name}`;
};

export function diffSides(a: Side, b: Side): DiffReport {
  const names = [...new Set([...a.charts.keys(), ...b.charts.keys()])].sort();
  const charts: ChartDiff[] = names.map((chart) => {
    const x = a.charts.get(chart);
    const y = b.charts.get(chart);
    const d: ChartDiff = {
      chart,
      status: !x ? 'added' : !y ? 'removed' : 'unchanged',
      objectsAdded: [],
      objectsRemoved: [],
      objectsChanged: [],
      valuesRemoved: [],
      valuesAdded: [],
      valuesRenamed: [],
      variantsRemoved: [],
      variantsAdded: [],
      crdsRemoved: [],
      crdVersionsRemoved: [],
      selectorChanged: [],
      keptOrphans: [],
      pathsBefore: x?.model.plan.entries.map((e) => e.path) ?? [],
      pathsAfter: y?.model.plan.entries.map((e) => e.path) ?? [],
    };
    const xo = x?.objects ?? new Map<string, KObject>();
    const yo = y?.objects ?? new Map<string, KObject>();
    for (const [k, o] of xo) {
      const n = yo.get(k);
      if (!n) {
        d.objectsRemoved.push(k);
        if (o.kind === 'CustomResourceDefinition') d.crdsRemoved.push(o.name);
        if (a.keep.has(k)) d.keptOrphans.push(k);
        continue;
      }
      if (n.raw === o.raw) continue;
      d.objectsChanged.push(k);
      if (o.kind === 'CustomResourceDefinition') {
        const now = crdVersions(n);
        for (const v of crdVersions(o)) if (!now.includes(v)) d.crdVersionsRemoved.push(`${o.name}: ${v}`);
      } else if (SELECTOR_IMMUTABLE.has(o.kind)) {
        const s1 = parseYaml(o.raw)?.spec?.selector;
        const s2 = parseYaml(n.raw)?.spec?.selector;
        if (!isDeepStrictEqual(s1, s2)) d.selectorChanged.push(k);
      }
    }
    for (const k of yo.keys()) if (!xo.has(k)) d.objectsAdded.push(k);
    if (x && y) {
      const vx = valuePaths(x.model.values);
      const vy = valuePaths(y.model.values);
      d.valuesRemoved = vx.filter((p) => !vy.includes(p));
      d.valuesAdded = vy.filter((p) => !vx.includes(p));
      const wx = workloadContainers(x.model.values);
      const wy = workloadContainers(y.model.values);
      for (const [k, cs] of wx) {
        if (wy.has(k)) continue;
        const to = [...wy].find(([k2, cs2]) => !wx.has(k2) && cs2 === cs && cs !== '');
        if (to) d.valuesRenamed.push([k, to[0]]);
      }
      d.variantsRemoved = x.model.variants.filter((v) => !y.model.variants.includes(v));
      d.variantsAdded = y.model.variants.filter((v) => !x.model.variants.includes(v));
    }
    if (
      d.status === 'unchanged' &&
      (d.objectsAdded.length || d.objectsRemoved.length || d.objectsChanged.length || d.valuesRemoved.length || d.valuesAdded.length || d.variantsAdded.length || d.variantsRemoved.length || d.pathsBefore.join() !== d.pathsAfter.join())
    )
      d.status = 'changed';
    return d;
  });
  return { from: a.tag, to: b.tag, charts, keyMoves: keyMoves(a, b, charts) };
}

export async function diffReleases(from: string, to: string, base: ResolveOptions, logger: Logger): Promise<DiffReport> {
  const [a, b] = await Promise.all([side(sideOptions(from, base), logger), side(sideOptions(to, base), logger)]);
  return diffSides(a, b);
}

export function formatDiff(r: DiffReport, verbose = false): string {
  const lines = [`upstream diff ${r.from} -> ${r.to}`, ''];
  const list = (title: string, items: string[], limit = verbose ? Infinity : 8) => {
    if (!items.length) return;
    lines.push(`  ${title} (${items.length}):`);
    for (const i of items.slice(0, limit)) lines.push(`    ${i}`);
    if (items.length > limit) lines.push(`    ... ${items.length - limit} more (-v lists all)`);
  };
  for (const c of r.charts.filter((x) => x.status !== 'unchanged')) {
    const moved = c.movedInto ? `; its objects are now in ${c.movedInto.join(', ')}` : '';
    const what = c.status === 'added' ? 'new chart' : c.status === 'removed' ? `chart removed${moved}` : `${c.objectsAdded.length} added, ${c.objectsRemoved.length} removed, ${c.objectsChanged.length} changed objects`;
    lines.push(`${c.chart}: ${what}`);
    if (c.pathsBefore.join() !== c.pathsAfter.join()) lines.push(`  upstream: ${c.pathsBefore.join(', ') || '-'} -> ${c.pathsAfter.join(', ') || '-'}`);
    if (c.status === 'changed') {
      list('objects added', c.objectsAdded.map(label));
      list('objects removed', c.objectsRemoved.map(label));
    }
    list('variant values removed', c.variantsRemoved);
    list('variant values added', c.variantsAdded);
    list(
      'values keys renamed',
      c.valuesRenamed.map(([o, n]) => `${o} -> ${n}`),
    );
    list(
      'values keys removed',
      c.valuesRemoved.filter((p) => !c.valuesRenamed.some(([o]) => p.startsWith(`${o}.`))),
    );
    list('CRDs removed', c.crdsRemoved);
    list('CRD versions removed', c.crdVersionsRemoved);
    list('workload selectors changed (immutable: delete the workload before helm upgrade)', c.selectorChanged.map(label));
    list(
      'kept objects orphaned (Helm keeps them; remove by hand when unused)',
      c.keptOrphans.map((k) => `${label(k)}: ${removeCommand(k)}`),
    );
  }
  const unchanged = r.charts.filter((x) => x.status === 'unchanged').map((x) => x.chart);
  if (unchanged.length) lines.push('', `unchanged: ${unchanged.join(', ')}`);
  lines.push('', r.keyMoves.length ? `key moves: a values file written for ${r.from} must change (${r.keyMoves.length}):` : `key moves: none (every umbrella key of ${r.from} still names the same chart)`);
  for (const m of r.keyMoves) lines.push(m.to ? `  ${m.from} -> ${m.to}  (${m.why})` : `  ${m.from}: no equivalent in ${r.to} (${m.why})`);
  return `${lines.join('\n')}\n`;
}

/**
 * The upstream diff of one chart (`kfc diff`) as Artifact Hub changes (emit/changes.ts), for
 * `artifactHubChanges(cur, prev, changesFromDiff(d))` where both releases are at hand.
 */
export function changesFromDiff(d: ChartDiff): Change[] {
  const out: Change[] = [];
  const add = (kind: Change['kind'], items: string[], say: (x: string) => string) => items.forEach((x) => out.push({ kind, description: say(x) }));
  if (d.status === 'added') out.push({ kind: 'added', description: `chart ${d.chart} (upstream ${d.pathsAfter.join(', ')})` });
  if (d.status === 'removed') out.push({ kind: 'removed', description: `chart ${d.chart}: upstream no longer ships ${d.pathsBefore.join(', ')}` });
  for (const [from, to] of d.valuesRenamed) out.push({ kind: 'changed', description: `values key ${from} is now ${to}` });
  add('removed', d.valuesRemoved, (v) => `value ${v}`);
  add('added', d.variantsAdded, (v) => `variant ${v}`);
  add('removed', d.variantsRemoved, (v) => `variant ${v}`);
  add('removed', d.crdsRemoved, (c) => `CRD ${c} (Helm keeps it installed)`);
  add('removed', d.crdVersionsRemoved, (c) => `CRD version ${c} is no longer served`);
  add('changed', d.selectorChanged, (o) => `${o}: its selector changed (the upgrade replaces it)`);
  add('removed', d.keptOrphans, (o) => `${o} is gone from the release but kept on the cluster (delete it when unused)`);
  if (d.objectsAdded.length || d.objectsRemoved.length || d.objectsChanged.length) {
    out.push({ kind: 'changed', description: `objects: ${d.objectsAdded.length} added, ${d.objectsRemoved.length} removed, ${d.objectsChanged.length} changed` });
  }
  return out;
}
