import path from 'node:path';
import { UMBRELLA } from '../core/chart-model.js';
import { helmTemplate } from '../core/helm.js';
import { imagesIn } from '../core/images.js';
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

export { imagesIn };
