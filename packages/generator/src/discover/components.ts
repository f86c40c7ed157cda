import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { KfcError } from '../core/errors.js';
import { repoRoot } from '../core/paths.js';
import { isTier, TIERS } from '../order/tiers.js';

/**
 * The whole contract of one component chart: which upstream directories it
 * takes from the release's example, what its variants are called, and how it
 * is described. One file per component in components/<name>.yaml, keyed by a
 * stable name, so upstream may move paths between releases.
 */
export interface ComponentConfig {
  /** chart name = file name */
  name: string;
  file: string;
  description: string;
  /** globs over release-relative paths (`*` one segment, `**` any) claiming example entries */
  paths: string[];
  /** variant value -> overlay directory name (the enabled entry's is the default) */
  variants: Record<string, string>;
  keywords: string[];
  /** install tier (docs/ordering.md); derived from kinds when unset */
  tier?: string;
}

const KEYS = new Set(['description', 'paths', 'variants', 'keywords', 'tier']);

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
    if (!Array.isArray(data.paths) || !data.paths.length || data.paths.some((p: unknown) => typeof p !== 'string')) throw bad('"paths" must be a non-empty list of path globs');
    const variants = data.variants ?? {};
    if (typeof variants !== 'object' || Array.isArray(variants) || Object.entries(variants).some(([k, v]) => typeof v !== 'string' || !/^[a-z0-9][-a-z0-9]*$/.test(k)))
      throw bad('"variants" must map lowercase variant names to overlay directory names');
    if (data.tier !== undefined && !isTier(String(data.tier))) throw bad(`"tier" must be one of ${TIERS.map((t) => t.name).join(', ')}`);
    return { name, file, description: data.description.trim(), paths: data.paths, variants, keywords: data.keywords ?? [], tier: data.tier } satisfies ComponentConfig;
  });
}
