import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { KfcError } from '../core/errors.js';

/** One line of example/kustomization.yaml naming an upstream directory. */
export interface ExampleEntry {
  /** directory relative to the release root, e.g. common/istio/istio-install/overlays/oauth2-proxy */
  path: string;
  /** 1-based line in example/kustomization.yaml */
  line: number;
  enabled: boolean;
  /** trailing comment on the line, if any */
  note?: string;
  /** the nearest comment line above that is not itself an entry */
  heading?: string;
  /** for a commented-out line: the last enabled line above it in the same section */
  after?: ExampleEntry;
  /** not a line of the example: a directory a component file installs apart from it */
  outside?: boolean;
  /** a directory a component file claims inside an aggregate line: that line (discover/aggregate.ts) */
  within?: ExampleEntry;
}

export interface Example {
  file: string;
  /** enabled resources, in file order */
  entries: ExampleEntry[];
  /** commented-out resources, in file order: alternatives of an enabled line or components generated disabled (plan.ts decides) */
  commented: ExampleEntry[];
  /** kustomize Components the example applies */
  components: ExampleEntry[];
  /** commented-out kustomize Components */
  commentedComponents: ExampleEntry[];
  /** other kustomization fields of the example, reproduced when the example is rebuilt */
  extra: Record<string, unknown>;
}

/** Example fields that carry no file paths and can be copied verbatim into a rebuilt example. */
const PATH_FREE = new Set(['namespace', 'namePrefix', 'nameSuffix', 'labels', 'commonLabels', 'commonAnnotations', 'images', 'replicas', 'buildMetadata']);

const ENTRY = /^(#\s*)?-\s+(\S+)\s*(?:#\s*(.*))?$/;
/** A top-level key of the example, possibly commented out (`# components:` switches to a commented section). */
const SECTION = /^(#\s*)?(resources|components):\s*(?:#.*)?$/;

function looksLikePath(p: string): boolean {
  return p.startsWith('.') || p.includes('/');
}

/**
 * Reads the release's example/kustomization.yaml, including its comments:
 * commented-out entries are the alternatives and optional parts upstream offers.
 */
export function discover(releaseDir: string): Example {
  const file = path.join(releaseDir, 'example', 'kustomization.yaml');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new KfcError(`cannot read ${file}: ${(e as Error).message}`, 'point the build at a Kubeflow manifests release');
  }
  const ex: Example = { file, entries: [], commented: [], components: [], commentedComponents: [], extra: {} };
  let section = '';
  let heading: string | undefined;
  let lastEnabled: ExampleEntry | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    const sec = SECTION.exec(raw);
    const top = /^([A-Za-z][\w-]*):/.exec(raw);
    if (sec || top) {
      section = sec ? sec[2] : top![1];
      heading = undefined;
      lastEnabled = undefined;
      return;
    }
    if (section !== 'resources' && section !== 'components') return;
    if (!line) {
      heading = undefined;
      return;
    }
    const m = ENTRY.exec(line);
    if (!m || !looksLikePath(m[2])) {
      if (line.startsWith('#')) heading = line.replace(/^#+\s*/, '');
      return;
    }
    const rel = path.posix.normalize(path.posix.join('example', m[2]));
    const entry: ExampleEntry = { path: rel, line: i + 1, enabled: !m[1], note: m[3]?.trim() || undefined, heading };
    heading = undefined;
    if (section === 'components') {
      (entry.enabled ? ex.components : ex.commentedComponents).push(entry);
      return;
    }
    if (entry.enabled) {
      ex.entries.push(entry);
      lastEnabled = entry;
    } else {
      if (lastEnabled) entry.after = lastEnabled;
      ex.commented.push(entry);
    }
  });
  // Cross-check the line reading against a real YAML parse.
  const parsed = YAML.parse(text) ?? {};
  for (const [k, v] of Object.entries<unknown>(parsed)) {
    if (['apiVersion', 'kind', 'resources', 'components', 'sortOptions'].includes(k)) continue;
    if (!PATH_FREE.has(k)) throw new KfcError(`${file}: the example uses "${k}", which the generator cannot reproduce yet`, 'extend discover.ts to carry that field into rebuilt examples');
    ex.extra[k] = v;
  }
  const want = ((parsed.resources ?? []) as string[]).map((r) => path.posix.normalize(path.posix.join('example', r)));
  const got = ex.entries.map((e) => e.path);
  if (want.join('\n') !== got.join('\n'))
    throw new KfcError(`${file}: could not read the resources list line by line (found ${got.length}, YAML has ${want.length})`, 'the example uses a layout the generator does not know; keep one "- path" per line');
  if (!ex.entries.length) throw new KfcError(`${file}: the example enables no resources`, 'this is not a usable Kubeflow release: point the build at a release whose example lists its components');
  for (const e of ex.entries) {
    if (!existsSync(path.join(releaseDir, e.path))) throw new KfcError(`${file}:${e.line}: resource ${e.path} does not exist in the release`, 'the release tree is incomplete; re-download or fix the mirror');
  }
  return ex;
}
