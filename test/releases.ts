import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDir, repoRoot } from '../packages/generator/src/core/paths.js';
import { readLock, type Lock } from '../packages/generator/src/upstream/release.js';

/** The releases mirrored in ../shared/upstream that the suite proves parity for. */
export const RELEASES: Record<string, { commit: string; exampleObjects: number }> = {
  'v1.11.0': { commit: '854bd3a21044f767204def71b2dcda83e376891f', exampleObjects: 653 },
  'v1.10.2': { commit: 'd8d643f1a736b28c525bd9b8ee5c9b2f4a661b39', exampleObjects: 611 },
};

export const MIRROR = path.resolve(repoRoot(), '..', 'shared', 'upstream', 'kubeflow-manifests');

/** A lock file pinning `tag`: the committed lock with only tag and commit changed. */
export function lockFor(tag: string): string {
  const base: Lock = readLock(path.join(repoRoot(), 'upstream.lock.json'));
  const file = path.join(cacheDir(), 'test-locks', `${tag}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ ...base, tag, commit: RELEASES[tag].commit, mirrors: [MIRROR] }, null, 2));
  return file;
}

export const PINNED = readLock(path.join(repoRoot(), 'upstream.lock.json')).tag;

/** Where the suite's charts for `tag` live: the pinned release in charts/ (as `npm run build` makes it), others in the cache. */
export function chartsFor(tag: string): string {
  return tag === PINNED ? path.join(repoRoot(), 'charts') : path.join(cacheDir(), 'test-charts', tag);
}

/** The lock to build `tag` with: the committed one for the pinned release. */
export function buildLockFor(tag: string): string | undefined {
  return tag === PINNED ? undefined : lockFor(tag);
}
