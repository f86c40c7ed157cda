import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { KfcError } from '../core/errors.js';
import { parseYaml } from '../core/model.js';
import { repoRoot } from '../core/paths.js';
import { packChart } from '../core/tar.js';
import { UMBRELLA } from '../core/chart-model.js';
import { HELMIGNORED } from '../emit/umbrella.js';
import { sha256 } from '../core/util.js';

export const DEFAULT_REPO_URL = 'https://kubeflow-charts.github.io/kubeflow-charts';

export interface RepoOptions {
  charts?: string;
  out?: string;
  /** the URL the repository will be served from */
  url?: string;
  /** index timestamps (reproducible builds pass a fixed one) */
  created?: string;
}

/**
 * Packages every chart and writes a chart repository (index.yaml + packages)
 * that `helm repo add` and Argo CD consume. The umbrella's dependencies point
 * at this repository's URL (and stay vendored in its package).
 */
export function buildRepo(o: RepoOptions = {}): { dir: string; charts: string[] } {
  const chartsDir = path.resolve(o.charts ?? path.join(repoRoot(), 'charts'));
  const out = path.resolve(o.out ?? path.join(repoRoot(), 'repo'));
  const url = (o.url ?? process.env.KFC_REPO_URL ?? DEFAULT_REPO_URL).replace(/\/+$/, '');
  if (!existsSync(path.join(chartsDir, UMBRELLA, 'Chart.yaml'))) throw new KfcError(`no charts in ${chartsDir}`, 'run `npm run build` first');
  const names = readdirSync(chartsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(chartsDir, d.name, 'Chart.yaml')))
    .map((d) => d.name)
    .sort();
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const created = o.created ?? new Date().toISOString();
  const entries: Record<string, unknown[]> = {};
  try {
    for (const name of names) {
      let dir = path.join(chartsDir, name);
      const chart = parseYaml(readFileSync(path.join(dir, 'Chart.yaml'), 'utf8'));
      if (chart.dependencies?.length) {
        // the packaged umbrella resolves its dependencies from this repository
        const staged = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-repo-')), name);
        cpSync(dir, staged, { recursive: true });
        for (const d of chart.dependencies) if (String(d.repository).startsWith('file://')) d.repository = url;
        const header = readFileSync(path.join(dir, 'Chart.yaml'), 'utf8').split('\n')[0];
        writeFileSync(path.join(staged, 'Chart.yaml'), `${header.startsWith('#') ? `${header}\n` : ''}${YAML.stringify(chart, { version: '1.1', lineWidth: 0, indentSeq: false })}`);
        dir = staged;
      }
      const file = `${name}-${chart.version}.tgz`;
      const data = packChart(dir, name, HELMIGNORED);
      writeFileSync(path.join(tmp, file), data);
      if (dir !== path.join(chartsDir, name)) rmSync(path.dirname(dir), { recursive: true, force: true });
      const { apiVersion, name: n, version, appVersion, description, type, home, sources, keywords, maintainers, icon, annotations, dependencies, kubeVersion } = chart;
      entries[name] = [{ apiVersion, name: n, version, appVersion, description, type, home, sources, keywords, maintainers, icon, annotations, dependencies, kubeVersion, urls: [`${url}/${file}`], created, digest: sha256(data) }].map((e) =>
        Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)),
      );
    }
    writeFileSync(path.join(tmp, 'index.yaml'), YAML.stringify({ apiVersion: 'v1', entries, generated: created }, { version: '1.1', lineWidth: 0, indentSeq: false }));
    rmSync(out, { recursive: true, force: true });
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { dir: out, charts: names };
}
