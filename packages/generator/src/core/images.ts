import { parseYaml, splitObjects } from './model.js';

/**
 * Finds container image references wherever upstream names them: pod specs,
 * custom resources, env values, args, ConfigMap values and the YAML, JSON or
 * code inside them. Rules, not a list: a reference on a public registry host is
 * an image wherever it appears; any other reference (Docker Hub short names such
 * as `mysql:8.0`) counts only in an image context (a key, env var or flag whose
 * name says image, or the values under such a key). Used by templatize (to
 * rewrite them for `global.imageRegistry`) and by `kfc images`.
 */

/** Registry hosts images are pulled from publicly. */
export const PUBLIC_REGISTRIES = ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'gcr.io', 'ghcr.io', 'quay.io', 'registry.k8s.io', 'k8s.gcr.io', 'public.ecr.aws', 'nvcr.io', 'mcr.microsoft.com', 'registry.gitlab.com'];

const host = PUBLIC_REGISTRIES.map((h) => h.replace(/\./g, '\\.')).join('|');
const component = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const tag = '(?::[\\w][\\w.-]{0,127})?';
const digest = '(?:@sha256:[a-f0-9]{64})?';
/** A reference on a public registry (`*.gcr.io` and `*.pkg.dev` too), anywhere in a text. */
const ON_PUBLIC = new RegExp(`(?<![\\w./:-])((?:${host}|[a-z0-9-]+\\.gcr\\.io|[a-z0-9-]+-docker\\.pkg\\.dev)(?:/${component})+${tag}${digest})(?![\\w/.-])`, 'g');
/** Any reference: [host[:port]/]path[:tag][@digest]. */
const REFERENCE = new RegExp(`^(?:[a-zA-Z0-9.-]+(?::\\d+)?/)?${component}(?:/${component})*${tag}${digest}$`);

/** Keys, env var names and flags whose value is an image. */
export function imageKey(k: string): boolean {
  return /(^|[-_.])image$/i.test(k) || /[a-z0-9]Image$/.test(k) || /^image$/i.test(k) || /(^|_)IMAGE$/.test(k) || /-image$/.test(k) || k === 'defaultJobImage';
}

/** Whether a whole string is an image reference worth rewriting in an image context. */
export function isReference(s: string): boolean {
  if (!REFERENCE.test(s) || s.length > 300) return false;
  // a bare word (`proxyv2`, `latest`) is not a reference; a path, tag or digest makes one
  return s.includes('/') || s.includes(':') || s.includes('@');
}

/** References on public registries inside a text, with their offsets. */
export function publicReferencesIn(text: string): Array<{ ref: string; index: number }> {
  const out: Array<{ ref: string; index: number }> = [];
  for (const m of text.matchAll(ON_PUBLIC)) out.push({ ref: m[1], index: m.index! + m[0].indexOf(m[1]) });
  return out;
}

/**
 * Walks a parsed object and calls `found(parent, key, ref, how)` for every
 * string leaf that is an image reference (`how: whole`), or a text holding
 * references (`how: text`, with the references). Metadata and Knative's
 * `_example` keys are skipped (Knative's webhook rejects edits to them).
 */
/** The map or list holding an image reference, indexed by the key given beside it. */
export type ImageParent = Record<string | number, unknown> | unknown[];
/** Called for every string holding image references: whole (the string is one) or inside a text. */
export type ImageFound = (parent: ImageParent, key: string | number, refs: string[], how: 'whole' | 'text') => void;

/** The image references in a parsed object (pod containers, env, args, custom resources, ConfigMap texts). */
export function imageRefs(doc: unknown): string[] {
  const out: string[] = [];
  visitImages(doc, (_parent, _key, refs) => out.push(...refs));
  return out;
}

export function visitImages(node: unknown, found: ImageFound, context = false): void {
  if (Array.isArray(node)) {
    node.forEach((v, i) => {
      if (typeof v === 'string') leaf(node, i, v, context, found);
      else visitImages(v, found, context);
    });
    // args: `--x-image value` names the next item an image
    node.forEach((v, i) => {
      if (typeof v === 'string' && /^--?[\w-]*image$/i.test(v) && typeof node[i + 1] === 'string' && isReference(node[i + 1])) found(node, i + 1, [node[i + 1]], 'whole');
    });
    return;
  }
  if (!node || typeof node !== 'object') return;
  const o = node as Record<string, unknown> & { metadata?: { name?: unknown }; data?: Record<string, unknown> };
  // a ConfigMap named for images (Knative's `eventing-integrations-images`): each value is one
  if (o.kind === 'ConfigMap' && typeof o.metadata?.name === 'string' && /(^|-)images?$/.test(o.metadata.name) && o.data && typeof o.data === 'object') {
    for (const [k, v] of Object.entries(o.data)) if (typeof v === 'string') leaf(o.data, k, v, true, found);
    return;
  }
  // env entries and similar {name: X_IMAGE, value: ref}
  const named = typeof o.name === 'string' && imageKey(o.name);
  for (const [k, v] of Object.entries(o)) {
    if (k === 'metadata' || k.startsWith('_example')) continue;
    const ctx = context || imageKey(k) || (named && k === 'value');
    if (typeof v === 'string') leaf(o, k, v, ctx, found);
    else visitImages(v, found, context || imageKey(k));
  }
}

function leaf(parent: ImageParent, key: string | number, v: string, context: boolean, found: ImageFound): void {
  if (v.includes('__KFC_')) return; // already a template (pod spec images)
  const flag = /^(--?[\w-]*image=)(.+)$/i.exec(v);
  if (flag && isReference(flag[2])) return found(parent, key, [flag[2]], 'text');
  if (context && isReference(v)) return found(parent, key, [v], 'whole');
  const inText = publicReferencesIn(v).map((r) => r.ref);
  const nested = v.includes('\n') || /^\s*[[{]/.test(v) ? referencesInEmbedded(v) : [];
  const refs = [...new Set([...inText, ...nested])];
  if (refs.length) found(parent, key, refs, refs.length === 1 && refs[0] === v ? 'whole' : 'text');
}

/** References in image contexts of a YAML/JSON text (Katib's suggestion images, the spawner's image options, KServe's JSON). */
function referencesInEmbedded(text: string): string[] {
  const out: string[] = [];
  // `image: ref`, `"image" : "ref"`, `imageFoo: ref`, and the `value:` / list items under an `image*:` block
  for (const m of text.matchAll(/^\s*(?:-\s+)?"?([\w.-]*[iI]mage[\w.-]*)"?\s*:\s*"?([^\s",}]+)"?/gm)) if (isReference(m[2])) out.push(m[2]);
  let block: number | undefined;
  for (const line of text.split('\n')) {
    const indent = line.length - line.trimStart().length;
    const key = /^\s*([\w.-]+):\s*(\S*)\s*$/.exec(line);
    // `image:`, `imageGroupOne:` (the notebook spawner's image groups) open a block of images
    if (key && (imageKey(key[1]) || /^image[A-Z]/.test(key[1])) && !key[2]) {
      block = indent;
      continue;
    }
    if (block !== undefined && line.trim() && indent <= block) block = undefined;
    if (block === undefined) continue;
    const item = /^\s*(?:-\s+|value:\s+)"?([^\s"]+)"?\s*$/.exec(line);
    if (item && isReference(item[1])) out.push(item[1]);
  }
  return out;
}

/** The image references of a rendered manifest (CRDs aside), sorted. */
export function imagesIn(rendered: string): string[] {
  const out = new Set<string>();
  for (const obj of splitObjects(rendered, 'rendered manifest')) {
    if (obj.kind === 'CustomResourceDefinition') continue;
    visitImages(parseYaml(obj.raw), (_parent, _key, refs) => refs.forEach((r) => out.add(r)));
  }
  return [...out].sort();
}
