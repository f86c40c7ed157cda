import path from 'node:path';
import { UMBRELLA } from '../core/chart-model.js';
import { KfcError } from '../core/errors.js';
import { parseYaml } from '../core/model.js';
import { repoRoot } from '../core/paths.js';
import { readFileSync } from 'node:fs';
import { previousEntry, readIndex } from './repo-index.js';

/**
 * The published version a new one upgrades from: the highest version of the
 * chart in a repository index below the version just built (the upgrade test
 * of the lint-test workflow installs it, then upgrades). Undefined when none.
 */
export function previousVersion(o: { index?: string; chart?: string; charts?: string }): string | undefined {
  if (!o.index) throw new KfcError('--index is required', 'pass the published index.yaml (curl -fsSL <repository>/index.yaml -o index.yaml)');
  const name = o.chart ?? UMBRELLA;
  const file = path.join(path.resolve(o.charts ?? path.join(repoRoot(), 'charts')), name, 'Chart.yaml');
  let version: string;
  try {
    version = String(parseYaml(readFileSync(file, 'utf8')).version);
  } catch (e) {
    throw new KfcError(`cannot read ${file}: ${(e as Error).message}`, 'run `npm run build` first');
  }
  return previousEntry(readIndex(path.resolve(o.index)), name, version)?.version;
}
