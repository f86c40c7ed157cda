import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.js';

/**
 * Facts about this project (not about a Kubeflow release), in one place: where
 * the generator's source and the published chart repositories live, who
 * maintains the charts and under which license they ship. Chart.yaml, the
 * chart repository, the Argo CD examples and the workflows read them from here.
 */
export const PROJECT = {
  name: 'kubeflow-charts',
  /** the generator's source repository */
  source: 'https://github.com/kubeflow-charts/kubeflow-charts',
  /** the chart repository (GitHub Pages of the source repository) */
  chartRepository: 'https://kubeflow-charts.github.io/kubeflow-charts',
  /** the OCI repository the release workflow pushes to */
  ociRepository: 'oci://ghcr.io/kubeflow-charts/charts',
  maintainers: [{ name: 'kubeflow-charts', url: 'https://github.com/kubeflow-charts/kubeflow-charts' }],
  /** our icon: assets/ICON in this repository, published next to index.yaml by `kfc repo` */
  icon: 'kubeflow-charts.svg',
} as const;

/** The icon file we ship (drawn for this project). */
export function iconFile(): string {
  return path.join(repoRoot(), 'assets', PROJECT.icon);
}

/** The icon's URL: next to index.yaml in the published chart repository. */
export const ICON_URL = `${PROJECT.chartRepository}/${PROJECT.icon}`;

/** The charts' SPDX license: the project's (package.json), which is also upstream Kubeflow's. */
export function projectLicense(): string {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8'));
  return String(pkg.license);
}
