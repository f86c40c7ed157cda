import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseYaml } from '../core/model.js';
import { coalesce } from '../core/util.js';

/**
 * The values an umbrella render ran with, as the charts see them: the umbrella's defaults,
 * each component's own defaults under its key, then the values files (helm's coalescing).
 */
export function umbrellaValues(umbrellaDir: string, files: string[]): Record<string, unknown> {
  const read = (f: string) => (existsSync(f) ? (parseYaml(readFileSync(f, 'utf8')) ?? {}) : {});
  let merged = read(path.join(umbrellaDir, 'values.yaml')) as Record<string, unknown>;
  for (const f of files) merged = coalesce(merged, read(f)) as Record<string, unknown>;
  const siblings = path.dirname(umbrellaDir);
  for (const key of Object.keys(merged)) {
    const sub = path.join(siblings, key, 'values.yaml');
    if (key === 'global' || !existsSync(sub)) continue;
    merged[key] = coalesce(read(sub), merged[key]);
  }
  return merged;
}
