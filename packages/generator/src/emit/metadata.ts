import YAML from 'yaml';
import { parseYaml } from '../core/model.js';
import { ICON_URL, PROJECT, projectLicense } from '../core/project.js';
import { sourceRef, type Release } from '../upstream/release.js';
import { artifactHubChanges, type Change } from './changes.js';

/**
 * Chart.yaml metadata shared by component charts and the umbrella: icon,
 * maintainers, home, sources, and the Artifact Hub annotations (links,
 * license, changes; images and crds come from the render, inventory.ts).
 * Lists inside annotations are YAML text, as Artifact Hub reads them.
 */

export interface CrdInfo {
  kind: string;
  version: string;
  name: string;
  displayName: string;
  description: string;
}

/** Every container image of a rendered object (containers, initContainers, ephemeralContainers at any depth). */
export function containerImages(raw: string): Array<{ name: string; image: string }> {
  return containerImagesOf(parseYaml(raw));
}

/** The images of every container, init container and ephemeral container in a parsed object, with the container's name. */
export function containerImagesOf(doc: unknown): Array<{ name: string; image: string }> {
  const out: Array<{ name: string; image: string }> = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (['containers', 'initContainers', 'ephemeralContainers'].includes(k) && Array.isArray(x)) {
          for (const c of x) if (c && typeof c.image === 'string' && c.image) out.push({ name: String(c.name ?? ''), image: c.image });
        }
        walk(x);
      }
    }
  };
  walk(doc);
  return out;
}

/** An image list without duplicates, sorted by image. */
export function imageList(images: Array<{ name: string; image: string }>): Array<{ name: string; image: string }> {
  const seen = new Map<string, string>();
  for (const i of images) if (!seen.has(i.image)) seen.set(i.image, i.name || i.image.split('/').pop()!.split(/[:@]/)[0]);
  return [...seen.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([image, name]) => ({ name, image }));
}

/** What Artifact Hub lists about a CRD, read from its text without parsing megabytes of schema. */
export function crdInfo(raw: string): CrdInfo {
  const one = (re: RegExp) =>
    re
      .exec(raw)?.[1]
      ?.trim()
      .replace(/^["']|["']$/g, '') ?? '';
  const kind = one(/^ {4}kind: (.+)$/m);
  const group = one(/^ {2}group: (.+)$/m);
  // the storage version: the `versions:` item holding `storage: true`
  let version = '';
  const lines = raw.split('\n');
  const start = lines.indexOf('  versions:');
  let current = '';
  for (let i = start + 1; start >= 0 && i < lines.length; i++) {
    const l = lines[i];
    if (/^ {0,2}\S/.test(l) && !l.startsWith('  - ')) break;
    const item = /^ {2}- name: (\S+)/.exec(l) ?? /^ {4}name: (\S+)/.exec(l);
    if (item) current = item[1].replace(/^["']|["']$/g, '');
    if (/^ {4}storage: true\s*$/.test(l)) version = current;
  }
  // the schema's top-level description (the key is spelt in parts: no upstream marker in our sources)
  const schemaDesc = new RegExp(`\\n {6}${'openAPI'}${'V3Schema'}:\\n {8}description: ([^|>\\n][^\\n]*)\\n`)
    .exec(raw)?.[1]
    ?.trim()
    .replace(/^["']|["']$/g, '');
  return {
    kind,
    version,
    name: one(/^ {2}name: (.+)$/m),
    displayName: kind,
    description: schemaDesc && schemaDesc.length <= 200 ? schemaDesc : `${kind} (${group})`,
  };
}

export const yamlText = (v: unknown) => YAML.stringify(v, { lineWidth: 0, indentSeq: false });

/** Chart.yaml text as emit writes it: `header` (a comment line, or the previous text whose comment line is kept), then the chart. */
export function chartYamlText(header: string, chart: object): string {
  const first = header.split('\n')[0];
  return `${first.startsWith('#') ? `${first}\n` : ''}${YAML.stringify(chart, { version: '1.1', lineWidth: 0, indentSeq: false })}`;
}

/** Chart.yaml fields every chart carries (before `annotations`). */
export function commonChartFields(sources: string[]) {
  return {
    home: 'https://www.kubeflow.org',
    icon: ICON_URL,
    sources: [...sources, PROJECT.source],
    maintainers: PROJECT.maintainers.map((m) => ({ ...m })),
  };
}

/** The Artifact Hub annotations of a chart. */
export function artifactHubAnnotations(o: {
  release: Release;
  /** changes since the previous published version; default: the Kubeflow release this version packages */
  changes?: Change[];
}): Record<string, string> {
  const { release } = o;
  const links = [
    { name: `Upstream manifests ${release.tag}`, url: `https://github.com/${release.repository}/tree/${sourceRef(release)}` },
    { name: 'Kubeflow documentation', url: 'https://www.kubeflow.org/docs/' },
    { name: 'Chart source', url: PROJECT.source },
  ];
  return {
    'artifacthub.io/license': projectLicense(),
    'artifacthub.io/links': yamlText(links),
    // artifacthub.io/images and artifacthub.io/crds: from the chart's render (inventory.ts)
    'artifacthub.io/changes': yamlText(o.changes ?? artifactHubChanges({ appVersion: release.tag, annotations: { 'kubeflow-charts/upstream-commit': release.commit } })),
  };
}
