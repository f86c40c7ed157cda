import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { KfcError } from '../core/errors.js';
import { repoRoot } from '../core/paths.js';
import { validateContract } from './contract-schema.js';

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
  /**
   * upstream directories (alternatives, options, kustomize Components) known not to build in some release: such a
   * failure, when its message matches `error`, skips the directory with a warning; any other failure stops the build
   */
  knownBroken: KnownBroken[];
}

export interface KnownBroken {
  /** glob over release paths */
  path: string;
  /** a regular expression the kustomize error must match (default: any) */
  error?: string;
  /** why upstream does not build it (printed with the warning) */
  reason: string;
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

/** A component file as its schema (components/component.schema.json) admits it. */
interface ComponentFile {
  description: string;
  paths: string[];
  variants?: Record<string, string | string[]>;
  keywords?: string[];
  tier?: string;
  install?: string[];
  options?: Record<string, { path: string | string[]; default: boolean; description?: string }>;
  checks?: Check[];
  features?: unknown;
  variantOverrides?: Array<{ when: string; map: Record<string, string> }>;
  knownBroken?: KnownBroken[];
}

export function loadComponentConfigs(dir = componentsDir()): ComponentConfig[] {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
  } catch (e) {
    throw new KfcError(`cannot read component configurations in ${dir}: ${(e as Error).message}`, 'restore components/ from git');
  }
  return files.map((f) => {
    const file = path.join(dir, f);
    const name = f.replace(/\.yaml$/, '');
    let data: unknown;
    try {
      data = YAML.parse(readFileSync(file, 'utf8')) ?? {};
    } catch (e) {
      throw new KfcError(`${file}: invalid YAML: ${(e as Error).message}`, 'fix the component configuration');
    }
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw new KfcError(`${file}: "${name}" is not a valid chart name (lowercase letters, digits, dashes)`, 'rename the file: its name is the chart name');
    validateContract('component', data, file);
    const c = data as ComponentFile;
    (c.knownBroken ?? []).forEach((k, i) => {
      try {
        if (k.error !== undefined) new RegExp(k.error);
      } catch (e) {
        throw new KfcError(`${file}: knownBroken[${i}].error is not a regular expression: ${(e as Error).message}`, 'fix the component configuration');
      }
    });
    return {
      name,
      file,
      description: c.description.trim(),
      paths: c.paths,
      variants: Object.fromEntries(Object.entries(c.variants ?? {}).map(([k, v]) => [k, typeof v === 'string' ? [v] : v])),
      keywords: c.keywords ?? [],
      tier: c.tier,
      install: c.install ?? [],
      options: Object.fromEntries(
        Object.entries(c.options ?? {}).map(([k, v]) => {
          const paths = typeof v.path === 'string' ? [v.path] : v.path;
          return [k, { paths, default: v.default, description: v.description ?? `Install ${paths[0]}.` }];
        }),
      ),
      checks: c.checks ?? [],
      variantOverrides: c.variantOverrides ?? [],
      knownBroken: (c.knownBroken ?? []).map((k) => ({ path: k.path, reason: k.reason.trim(), ...(k.error !== undefined ? { error: k.error } : {}) })),
      ...(c.features !== undefined ? { features: c.features } : {}),
    } satisfies ComponentConfig;
  });
}
