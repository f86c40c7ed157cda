import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UMBRELLA } from '../core/chart-model.js';
import { KfcError } from '../core/errors.js';
import { parseYaml } from '../core/model.js';
import { repoRoot } from '../core/paths.js';
import { iconFile, PROJECT } from '../core/project.js';
import { packChart } from '../core/tar.js';
import { sha256, writeFileAtomic } from '../core/util.js';
import { artifactHubChanges } from '../emit/changes.js';
import { chartYamlText, yamlText } from '../emit/metadata.js';
import { HELMIGNORED } from '../emit/umbrella.js';
import { indexYaml, mergeIndex, previousEntry, readIndex, type IndexEntry, type RepoIndex } from './repo-index.js';

export const DEFAULT_REPO_URL = PROJECT.chartRepository;

/** Files published next to index.yaml: the charts' icon and Artifact Hub's repository metadata. */
export const REPO_FILES = () => [iconFile(), path.join(repoRoot(), 'artifacthub-repo.yml')];

export interface RepoOptions {
  charts?: string;
  out?: string;
  /** the URL the repository will be served from */
  url?: string;
  /** index timestamps (reproducible builds pass a fixed one) */
  created?: string;
  /** index.yaml to merge into; default: <out>/index.yaml when it exists */
  merge?: string;
  /** replace a published version whose content changed (normally refused) */
  force?: boolean;
}

export interface Packaged {
  name: string;
  version: string;
  file: string;
  data: Buffer;
  chart: any;
}

const INDEX_FIELDS = ['apiVersion', 'name', 'version', 'appVersion', 'description', 'type', 'home', 'sources', 'keywords', 'maintainers', 'icon', 'annotations', 'dependencies', 'kubeVersion'] as const;

/** The chart directories under `chartsDir` (each holding a Chart.yaml). */
export function chartDirs(chartsDir: string): string[] {
  if (!existsSync(path.join(chartsDir, UMBRELLA, 'Chart.yaml'))) throw new KfcError(`no charts in ${chartsDir}`, 'run `npm run build` first');
  return readdirSync(chartsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(chartsDir, d.name, 'Chart.yaml')))
    .map((d) => d.name)
    .sort();
}

/**
 * Packages every chart as published: the umbrella's dependencies resolve from
 * `depRepository` (an http(s) repository or an oci:// one), and where `previous`
 * (the published index) holds an earlier version, `artifacthub.io/changes`
 * says what changed since it.
 */
export function packageCharts(chartsDir: string, depRepository: string, previous?: RepoIndex): Packaged[] {
  const out: Packaged[] = [];
  for (const name of chartDirs(chartsDir)) {
    const src = path.join(chartsDir, name);
    const text = readFileSync(path.join(src, 'Chart.yaml'), 'utf8');
    const chart = parseYaml(text);
    let changed = false;
    for (const d of chart.dependencies ?? []) {
      if (String(d.repository).startsWith('file://')) {
        d.repository = depRepository;
        changed = true;
      }
    }
    const prev = previousEntry(previous, name, String(chart.version));
    if (prev) {
      chart.annotations = { ...chart.annotations, 'artifacthub.io/changes': yamlText(artifactHubChanges(chart, prev)) };
      changed = true;
    }
    let dir = src;
    let staged: string | undefined;
    if (changed) {
      staged = mkdtempSync(path.join(os.tmpdir(), 'kfc-repo-'));
      dir = path.join(staged, name);
      cpSync(src, dir, { recursive: true });
      writeFileSync(path.join(dir, 'Chart.yaml'), chartYamlText(text, chart));
    }
    try {
      out.push({ name, version: String(chart.version), file: `${name}-${chart.version}.tgz`, data: packChart(dir, name, HELMIGNORED), chart });
    } finally {
      if (staged) rmSync(staged, { recursive: true, force: true });
    }
  }
  return out;
}

export function indexEntry(p: Packaged, url: string, created: string): IndexEntry {
  const fields = Object.fromEntries(INDEX_FIELDS.map((k) => [k, p.chart[k]]).filter(([, v]) => v !== undefined));
  return { ...fields, urls: [`${url}/${p.file}`], created, digest: sha256(p.data) } as IndexEntry;
}

export interface RepoResult {
  dir: string;
  charts: string[];
  added: string[];
  unchanged: string[];
  replaced: string[];
}

/**
 * Writes (or updates) a chart repository: every chart packaged, merged into
 * the existing index.yaml (earlier versions kept, `created` stable for
 * unchanged packages), plus the icon and artifacthub-repo.yml. Nothing in
 * `out` changes when the merge is refused; index.yaml is written last.
 */
export function buildRepo(o: RepoOptions = {}): RepoResult {
  const chartsDir = path.resolve(o.charts ?? path.join(repoRoot(), 'charts'));
  const out = path.resolve(o.out ?? path.join(repoRoot(), 'repo'));
  const url = (o.url ?? process.env.KFC_REPO_URL ?? DEFAULT_REPO_URL).replace(/\/+$/, '');
  const created = o.created ?? new Date().toISOString();
  const mergeFrom = o.merge ? path.resolve(o.merge) : existsSync(path.join(out, 'index.yaml')) ? path.join(out, 'index.yaml') : undefined;
  const existing = mergeFrom ? readIndex(mergeFrom) : undefined;
  const packages = packageCharts(chartsDir, url, existing);
  const merged = mergeIndex(
    existing,
    packages.map((p) => indexEntry(p, url, created)),
    { generated: created, force: o.force, source: mergeFrom },
  );
  mkdirSync(out, { recursive: true });
  for (const p of packages) writeFileAtomic(path.join(out, p.file), p.data);
  for (const f of REPO_FILES()) copyFileSync(f, path.join(out, path.basename(f)));
  writeFileAtomic(path.join(out, 'index.yaml'), indexYaml(merged.index));
  return { dir: out, charts: packages.map((p) => p.name), added: merged.added, unchanged: merged.unchanged, replaced: merged.replaced };
}
