import { parseYaml } from '../core/model.js';

/**
 * `artifacthub.io/changes`: what changed since the previous published version
 * of a chart. Derived from the two versions' own metadata (appVersion, image
 * inventory, CRDs, dependencies); the upstream diff (`kfc diff <tagA> <tagB>`)
 * can add its findings through `upstream`, which come first.
 *
 * - `kfc build` knows no previous version: one entry naming the Kubeflow release.
 * - `kfc repo` merging into an index compares with the highest earlier version
 *   there and writes the result into the packaged Chart.yaml (commands/repo.ts).
 */

export interface Change {
  kind: 'added' | 'changed' | 'deprecated' | 'removed' | 'fixed' | 'security';
  description: string;
  links?: Array<{ name: string; url: string }>;
}

/** The parts of a Chart.yaml (or index entry) the changes are read from. */
export interface ChartFacts {
  appVersion?: string;
  version?: string;
  annotations?: Record<string, string>;
  dependencies?: Array<{ name: string; version: string }>;
}

const list = (text: string | undefined): any[] => {
  if (!text) return [];
  const v = parseYaml(text);
  return Array.isArray(v) ? v : [];
};

/** `repository` of an image reference (without tag and digest), for matching versions of one image. */
function repositoryOf(image: string): string {
  const at = image.indexOf('@');
  const noDigest = at >= 0 ? image.slice(0, at) : image;
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
}

export function artifactHubChanges(cur: ChartFacts, prev?: ChartFacts, upstream: Change[] = []): Change[] {
  const a = cur.annotations ?? {};
  const commit = a['kubeflow-charts/upstream-commit'];
  if (!prev) return [...upstream, { kind: 'changed', description: `Kubeflow ${cur.appVersion}${commit ? ` (upstream commit ${commit.slice(0, 12)})` : ''}` }];
  const out: Change[] = [...upstream];
  const p = prev.annotations ?? {};
  if (prev.appVersion !== cur.appVersion) out.push({ kind: 'changed', description: `Kubeflow ${prev.appVersion} -> ${cur.appVersion}` });
  else if (p['kubeflow-charts/upstream-commit'] !== commit) out.push({ kind: 'changed', description: `Kubeflow ${cur.appVersion} rebuilt from upstream commit ${commit?.slice(0, 12)}` });

  const before = new Map(list(p['artifacthub.io/images']).map((i) => [repositoryOf(String(i.image)), String(i.image)]));
  const after = new Map(list(a['artifacthub.io/images']).map((i) => [repositoryOf(String(i.image)), String(i.image)]));
  for (const [repo, img] of after) {
    const old = before.get(repo);
    if (!old) out.push({ kind: 'added', description: `image ${img}` });
    else if (old !== img) out.push({ kind: 'changed', description: `image ${old} -> ${img.slice(repo.length)}` });
  }
  for (const [repo, img] of before) if (!after.has(repo)) out.push({ kind: 'removed', description: `image ${img}` });

  const crdsBefore = new Map(list(p['artifacthub.io/crds']).map((c) => [String(c.name), String(c.version)]));
  const crdsAfter = new Map(list(a['artifacthub.io/crds']).map((c) => [String(c.name), String(c.version)]));
  for (const [name, v] of crdsAfter) {
    if (!crdsBefore.has(name)) out.push({ kind: 'added', description: `CRD ${name} (${v})` });
    else if (crdsBefore.get(name) !== v) out.push({ kind: 'changed', description: `CRD ${name} stores ${v} (was ${crdsBefore.get(name)})` });
  }
  for (const name of crdsBefore.keys()) if (!crdsAfter.has(name)) out.push({ kind: 'removed', description: `CRD ${name} (Helm keeps it installed; delete it yourself when unused)` });

  const depsBefore = new Set((prev.dependencies ?? []).map((d) => d.name));
  const depsAfter = new Set((cur.dependencies ?? []).map((d) => d.name));
  for (const d of depsAfter) if (!depsBefore.has(d)) out.push({ kind: 'added', description: `component ${d}` });
  for (const d of depsBefore) if (!depsAfter.has(d)) out.push({ kind: 'removed', description: `component ${d}` });

  if (!out.length) out.push({ kind: 'changed', description: `Chart-only revision of Kubeflow ${cur.appVersion} (${prev.version} -> ${cur.version})` });
  return out;
}
