import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The monorepo root: the nearest ancestor of this module holding turbo.json. */
export function repoRoot(): string {
  if (process.env.KFC_REPO_ROOT) return path.resolve(process.env.KFC_REPO_ROOT);
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'turbo.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** Where extracted tools, downloaded releases and kustomize outputs are cached. */
export function cacheDir(): string {
  return process.env.KFC_CACHE_DIR ? path.resolve(process.env.KFC_CACHE_DIR) : path.join(repoRoot(), '.cache', 'kfc');
}
