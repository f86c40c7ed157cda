import { existsSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import { KfcError } from '../core/errors.js';
import { parseYaml } from '../core/model.js';
import { compareVersions as compareReleaseVersions } from '../upstream/version.js';

/**
 * A Helm chart repository index (index.yaml) and how `kfc repo` merges new
 * packages into it, like `helm repo index --merge`: earlier versions stay,
 * an unchanged package (same digest) keeps its `created` time, and a version
 * already published with other content is refused (a chart version is
 * immutable once users pinned it) unless forced.
 */

export interface IndexEntry {
  name: string;
  version: string;
  appVersion?: string;
  created: string;
  digest: string;
  urls: string[];
  annotations?: Record<string, string>;
  dependencies?: Array<{ name: string; version: string; repository?: string }>;
  [k: string]: unknown;
}

export interface RepoIndex {
  apiVersion: 'v1';
  entries: Record<string, IndexEntry[]>;
  generated: string;
}

const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** Chart version order (build metadata ignored, as Helm does). */
export function compareVersions(a: string, b: string): number {
  return compareReleaseVersions(a.replace(/\+.*$/, ''), b.replace(/\+.*$/, ''));
}

/** Reads an index.yaml; a file that is not one is an error naming it. */
export function readIndex(file: string): RepoIndex {
  if (!existsSync(file)) throw new KfcError(`${file} does not exist`, 'pass the index.yaml of the published repository (download it first)');
  let doc: any;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new KfcError(`${file} is not YAML: ${(e as Error).message}`, 'pass a chart repository index.yaml');
  }
  if (doc?.apiVersion !== 'v1' || !doc.entries || typeof doc.entries !== 'object' || Array.isArray(doc.entries)) {
    throw new KfcError(`${file} is not a chart repository index (apiVersion v1 with entries)`, 'pass a chart repository index.yaml');
  }
  for (const [name, list] of Object.entries<any>(doc.entries)) {
    if (!Array.isArray(list)) throw new KfcError(`${file}: entries.${name} is not a list`, 'repair or regenerate the index');
    list.forEach((e, i) => {
      if (typeof e?.version !== 'string' || typeof e?.digest !== 'string') throw new KfcError(`${file}: entries.${name}[${i}] lacks version or digest`, 'repair or regenerate the index');
      if (!SEMVER.test(e.version)) throw new KfcError(`${file}: entries.${name}[${i}] has version "${e.version}", not MAJOR.MINOR.PATCH`, 'repair or regenerate the index');
    });
  }
  return { apiVersion: 'v1', entries: doc.entries, generated: String(doc.generated ?? '') };
}

/** The highest version of `name` in the index lower than `version` (the one a new version follows). */
export function previousEntry(index: RepoIndex | undefined, name: string, version: string): IndexEntry | undefined {
  return (index?.entries[name] ?? []).filter((e) => compareVersions(e.version, version) < 0).sort((a, b) => compareVersions(b.version, a.version))[0];
}

export interface MergeResult {
  index: RepoIndex;
  added: string[];
  unchanged: string[];
  replaced: string[];
}

/** Merges fresh entries into an existing index (see the module comment). */
export function mergeIndex(existing: RepoIndex | undefined, fresh: IndexEntry[], o: { generated: string; force?: boolean; source?: string }): MergeResult {
  const entries: Record<string, IndexEntry[]> = {};
  for (const [name, list] of Object.entries(existing?.entries ?? {})) entries[name] = list.map((e) => ({ ...e }));
  const r: MergeResult = { index: { apiVersion: 'v1', entries, generated: o.generated }, added: [], unchanged: [], replaced: [] };
  const conflicts: string[] = [];
  for (const e of fresh) {
    const list = (entries[e.name] ??= []);
    const at = list.findIndex((x) => x.version === e.version);
    const id = `${e.name}-${e.version}`;
    if (at < 0) {
      list.push(e);
      r.added.push(id);
    } else if (list[at].digest === e.digest) {
      list[at] = { ...e, created: list[at].created };
      r.unchanged.push(id);
    } else if (o.force) {
      list[at] = e;
      r.replaced.push(id);
    } else conflicts.push(`${id} (published ${list[at].digest.slice(0, 12)}, now ${e.digest.slice(0, 12)})`);
  }
  if (conflicts.length) {
    throw new KfcError(`${o.source ?? 'the index'} already holds other content for ${conflicts.join(', ')}`, 'a published chart version is immutable: raise chartRevision in upstream.lock.json and rebuild, or pass --force to replace it');
  }
  for (const list of Object.values(entries)) list.sort((a, b) => compareVersions(b.version, a.version));
  r.index.entries = Object.fromEntries(
    Object.keys(entries)
      .sort()
      .map((k) => [k, entries[k]]),
  );
  return r;
}

export function indexYaml(index: RepoIndex): string {
  return YAML.stringify(index, { version: '1.1', lineWidth: 0, indentSeq: false });
}
