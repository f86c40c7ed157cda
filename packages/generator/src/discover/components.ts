import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { KfcError } from '../core/errors.js';
import { repoRoot } from '../core/paths.js';
import { isTier, TIERS } from '../order/tiers.js';

/**
 * The whole contract of one component chart with upstream: which upstream
 * directories it claims, what its variants are called, and how it is
 * described. One file per component in components/<name>.yaml, keyed by a
 * stable name, so upstream may move paths between releases.
 */
export interface ComponentConfig {
  /** chart name = file name */
  name: string;
  file: string;
  description: string;
  /** globs over release-relative paths (`*` one segment, `**` any) claiming example lines (enabled or commented out) */
  paths: string[];
  /** variant value -> globs over release paths identifying that overlay (the enabled line's variant is the default) */
  variants: Record<string, string[]>;
  keywords: string[];
  /** install tier (docs/ordering.md); derived from kinds when unset */
  tier?: string;
  /** directories upstream installs apart from the example (globs, each matching one directory), in install order */
  install: string[];
  /** optional directories installed beside `install` (or reached by an aggregate line), each a boolean value under `options`; globs, the first naming one directory wins */
  options: Record<string, { paths: string[]; default: boolean; description: string }>;
  /** objects the umbrella's helm tests and NOTES point at (resolved in the release's objects; missing ones fail the build) */
  checks: Check[];
  /** the raw `features` block (read by the features stage) */
  features?: unknown;
  /** variants chosen by other values: when `when` holds, variant `from` renders as `to` (istio follows global.mesh.mode) */
  variantOverrides: Array<{ when: string; map: Record<string, string> }>;
}

/** An object the umbrella checks after install: a workload that must be ready, or an HTTP endpoint of a Service. */
export interface Check {
  kind: 'Deployment' | 'StatefulSet' | 'Service';
  name: string;
  /** for Services: HTTP path to GET, and a text the answer must contain or the accepted status codes */
  path?: string;
  expect?: string;
  status?: number[];
  /** the named port of the Service (default: its first port) */
  port?: string;
}

const KEYS = new Set(['description', 'paths', 'variants', 'keywords', 'tier', 'install', 'options', 'checks', 'features', 'variantOverrides']);

export function componentsDir(): string {
  return process.env.KFC_COMPONENTS_DIR ? path.resolve(process.env.KFC_COMPONENTS_DIR) : path.join(repoRoot(), 'components');
}

export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` matches zero or more segments, a trailing `**` anything
      if (glob[i + 2] === '/') {
        re += '(?:[^/]+/)*';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Whether any of `globs` matches `p`. */
export function matchesAny(globs: string[], p: string): boolean {
  return globs.some((g) => globToRegExp(g).test(p));
}

const globList = (v: unknown): string[] | undefined => (typeof v === 'string' ? [v] : Array.isArray(v) && v.length && v.every((x) => typeof x === 'string') ? v : undefined);

function parseChecks(data: unknown, bad: (what: string) => KfcError): Check[] {
  if (data === undefined) return [];
  if (!Array.isArray(data)) throw bad('"checks" must be a list');
  return data.map((c, i) => {
    if (!c || typeof c !== 'object' || !['Deployment', 'StatefulSet', 'Service'].includes(c.kind) || typeof c.name !== 'string')
      throw bad(`checks[${i}] needs kind (Deployment, StatefulSet or Service) and name`);
    if (c.kind === 'Service' && typeof c.path !== 'string') throw bad(`checks[${i}]: a Service check needs the HTTP "path" to GET`);
    for (const k of Object.keys(c)) if (!['kind', 'name', 'path', 'expect', 'status', 'port'].includes(k)) throw bad(`checks[${i}]: unknown key "${k}"`);
    return c as Check;
  });
}

function parseOptions(data: unknown, bad: (what: string) => KfcError): ComponentConfig['options'] {
  if (data === undefined) return {};
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw bad('"options" must map option names to {path, default, description}');
  return Object.fromEntries(
    Object.entries<any>(data).map(([k, v]) => {
      if (!/^[a-z][a-zA-Z0-9]*$/.test(k)) throw bad(`option "${k}" must be a camelCase values key`);
      const paths = globList(v?.path);
      if (!paths || typeof v.default !== 'boolean') throw bad(`option "${k}" needs "path" (a glob or a list of globs) and "default" (true or false)`);
      return [k, { paths, default: v.default, description: typeof v.description === 'string' ? v.description : `Install ${paths[0]}.` }];
    }),
  );
}

export function loadComponentConfigs(dir = componentsDir()): ComponentConfig[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  } catch (e) {
    throw new KfcError(`cannot read component configurations in ${dir}: ${(e as Error).message}`, 'restore components/ from git');
  }
  return files.map((f) => {
    const file = path.join(dir, f);
    const name = f.replace(/\.yaml$/, '');
    let data: any;
    try {
      data = YAML.parse(readFileSync(file, 'utf8')) ?? {};
    } catch (e) {
      throw new KfcError(`${file}: invalid YAML: ${(e as Error).message}`, 'fix the component configuration');
    }
    const bad = (what: string) => new KfcError(`${file}: ${what}`, 'see components/README.md for the format');
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw bad(`"${name}" is not a valid chart name (lowercase letters, digits, dashes)`);
    for (const k of Object.keys(data)) if (!KEYS.has(k)) throw bad(`unknown key "${k}" (known: ${[...KEYS].join(', ')})`);
    if (typeof data.description !== 'string') throw bad('"description" must be a string');
    const paths = globList(data.paths);
    if (!paths) throw bad('"paths" must be a non-empty list of path globs');
    const rawVariants = data.variants ?? {};
    if (typeof rawVariants !== 'object' || Array.isArray(rawVariants)) throw bad('"variants" must map variant names to path globs');
    const variants: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(rawVariants)) {
      const globs = globList(v);
      if (!/^[a-z0-9][-a-z0-9]*$/.test(k) || !globs) throw bad(`variant "${k}" must be a lowercase name mapped to one path glob or a list of them`);
      if (globs.some((g) => !g.includes('/'))) throw bad(`variant "${k}": "${globs.find((g) => !g.includes('/'))}" is a bare directory name; use a path glob (e.g. '*/pipeline/overlays') so it means the same overlay on every release`);
      variants[k] = globs;
    }
    if (data.tier !== undefined && !isTier(String(data.tier))) throw bad(`"tier" must be one of ${TIERS.map((t) => t.name).join(', ')}`);
    const install = data.install === undefined ? [] : globList(data.install);
    if (!install) throw bad('"install" must be a list of path globs');
    return {
      name,
      file,
      description: data.description.trim(),
      paths,
      variants,
      keywords: data.keywords ?? [],
      tier: data.tier,
      install,
      options: parseOptions(data.options, bad),
      checks: parseChecks(data.checks, bad),
      variantOverrides: (data.variantOverrides ?? []).map((o: any, i: number) => {
        if (!o || typeof o.when !== 'string' || !o.map || typeof o.map !== 'object') throw bad(`variantOverrides[${i}] needs "when" (a template condition) and "map" (variant -> variant)`);
        return { when: o.when, map: o.map };
      }),
      ...(data.features !== undefined ? { features: data.features } : {}),
    } satisfies ComponentConfig;
  });
}
