import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { helmTemplate } from '../core/helm.js';
import { parseYaml, splitObjects } from '../core/model.js';
import { findHelm } from '../core/toolchain.js';
import { imageRefs } from '../core/images.js';
import { defaultConcurrency, pool } from '../core/util.js';
import type { ChartSummary } from './chart.js';
import { chartYamlText, containerImagesOf, crdInfo, imageList, yamlText } from './metadata.js';

/**
 * Artifact Hub's image list and CRD list of a written chart, from its default
 * render (`helm template --include-crds`, default values) and the image
 * inventory of `kfc images`: variants, feature switches and template helpers
 * count exactly as Helm evaluates them.
 * Written into the chart's Chart.yaml (`artifacthub.io/images`, `artifacthub.io/crds`)
 * and its summary.
 */
export async function addInventories(chartsDir: string, charts: ChartSummary[]): Promise<void> {
  const helm = await findHelm();
  await pool(charts, defaultConcurrency(), async (c) => {
    const dir = path.join(chartsDir, c.name);
    const rendered = await helmTemplate(dir, { helm, includeCrds: true, namespace: 'kubeflow' });
    const objs = splitObjects(rendered, `chart ${c.name} (default values)`);
    // the image inventory (`kfc images`: containers and every reference upstream keeps elsewhere), named by container where one runs it
    const images: Array<{ name: string; image: string }> = [];
    const refs = new Set<string>();
    for (const o of objs.filter((x) => x.kind !== 'CustomResourceDefinition')) {
      const d = parseYaml(o.raw);
      images.push(...containerImagesOf(d));
      for (const r of imageRefs(d)) refs.add(r);
    }
    c.images = imageList([...images, ...[...refs].sort().map((image) => ({ name: '', image }))]);
    c.crdInfo = objs
      .filter((o) => o.kind === 'CustomResourceDefinition')
      .map((o) => crdInfo(o.raw))
      .sort((a, b) => a.name.localeCompare(b.name));
    writeInventory(path.join(dir, 'Chart.yaml'), c);
  });
}

/** Rewrites Chart.yaml with the inventory annotations just before `artifacthub.io/changes`, keeping its header line. */
function writeInventory(file: string, c: Pick<ChartSummary, 'images' | 'crdInfo'>): void {
  const text = readFileSync(file, 'utf8');
  const chart = parseYaml(text);
  const inventory: Record<string, string> = {
    ...(c.images.length ? { 'artifacthub.io/images': yamlText(c.images) } : {}),
    ...(c.crdInfo.length ? { 'artifacthub.io/crds': yamlText(c.crdInfo) } : {}),
  };
  const before = chart.annotations ?? {};
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries<string>(before)) {
    if (k === 'artifacthub.io/images' || k === 'artifacthub.io/crds') continue;
    if (k === 'artifacthub.io/changes') Object.assign(annotations, inventory);
    annotations[k] = v;
  }
  chart.annotations = 'artifacthub.io/changes' in before ? annotations : { ...annotations, ...inventory };
  writeFileSync(file, chartYamlText(text, chart));
}
