import path from 'node:path';
import { UMBRELLA } from '../core/chart-model.js';
import { helmTemplate } from '../core/helm.js';
import { imageRefs } from '../core/images.js';
import { parseYaml, splitObjects } from '../core/model.js';
import { repoRoot } from '../core/paths.js';

export interface ImagesOptions {
  /** chart directory (default charts/kubeflow) */
  chart?: string;
  values: string[];
  set?: string[];
}

/**
 * Every image a values file deploys, as rendered (so `global.imageRegistry`
 * applies): pod containers, and the references upstream keeps elsewhere (env,
 * args, custom resources, ConfigMaps) found by the same rules that rewrite them.
 */
export async function listImages(o: ImagesOptions): Promise<string[]> {
  const chart = path.resolve(o.chart ?? path.join(repoRoot(), 'charts', UMBRELLA));
  const text = await helmTemplate(chart, { valuesFiles: o.values, set: o.set, release: UMBRELLA });
  return imagesIn(text);
}

/** The image references of a rendered manifest. */
export function imagesIn(rendered: string): string[] {
  const out = new Set<string>();
  for (const obj of splitObjects(rendered, 'rendered manifest')) {
    if (obj.kind === 'CustomResourceDefinition') continue;
    for (const r of imageRefs(parseYaml(obj.raw))) out.add(r);
  }
  return [...out].sort();
}
