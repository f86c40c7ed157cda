import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { ComponentConfig } from './components.js';
import type { ExampleEntry } from './example.js';

/**
 * Aggregate lines: an example line whose directory no component file claims
 * but which builds on directories that component files do claim (upstream's
 * `applications/dashboard/overlays/istio` bundling the central dashboard, the
 * PodDefaults webhook and the profile controller). Its objects are split by
 * content among those components (fold/split.ts), so a regrouped release keeps
 * its per-component charts; what no component produces goes to a chart named
 * after the line.
 */

/** A directory an aggregate line reaches that a component file claims: its own directory. */
export interface Part {
  path: string;
  config: ComponentConfig;
}

export interface Aggregate {
  /** the example line (enabled or commented out) */
  entry: ExampleEntry;
  /** the claimed directories it reaches, outermost first (a claimed directory is not searched further) */
  parts: Part[];
  /** the chart that gets the objects no part produces (generated only when there are any) */
  remainder: string;
}

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** The kustomization file of a release directory, if it has one. */
export function kustomizationFile(releaseDir: string, dir: string): string | undefined {
  return KUSTOMIZATION_FILES.map((f) => path.join(releaseDir, dir, f)).find(existsSync);
}

/** The local directories a kustomization builds on (its `resources` and legacy `bases` that are directories of the release). */
export function localDirs(releaseDir: string, dir: string): string[] {
  const file = kustomizationFile(releaseDir, dir);
  if (!file) return [];
  let k: { resources?: unknown; bases?: unknown };
  try {
    k = YAML.parse(readFileSync(file, 'utf8')) ?? {};
  } catch {
    return [];
  }
  const list = [k.resources, k.bases].flatMap((x) => (Array.isArray(x) ? x : []));
  return list
    .filter((r): r is string => typeof r === 'string' && !r.includes('://'))
    .map((r) => path.posix.normalize(path.posix.join(dir, r)))
    .filter((r) => !r.startsWith('..') && !path.extname(r) && existsSync(path.join(releaseDir, r)));
}

/**
 * The claimed directories a line reaches through its kustomizations, in
 * build order. `claim` names the component file claiming a directory (and
 * throws when two do). Unclaimed directories are searched further.
 */
export function findParts(releaseDir: string, dir: string, claim: (dir: string) => ComponentConfig | undefined): Part[] {
  const parts: Part[] = [];
  const seen = new Set<string>();
  const walk = (d: string, depth: number) => {
    if (seen.has(d) || depth > 8) return;
    seen.add(d);
    for (const sub of localDirs(releaseDir, d)) {
      const config = claim(sub);
      if (!config) walk(sub, depth + 1);
      else if (!parts.some((p) => p.path === sub)) parts.push({ path: sub, config });
    }
  };
  walk(dir, 0);
  return parts;
}

/** The aggregate a directory is a part of (by part path), if any. */
export function aggregateOf(aggregates: Aggregate[], dir: string): Aggregate | undefined {
  return aggregates.find((a) => a.parts.some((p) => p.path === dir));
}
