import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDir, repoRoot } from '../packages/generator/src/core/paths.js';
import { readLock, type Lock } from '../packages/generator/src/upstream/release.js';
import { chartVersion, compareVersions } from '../packages/generator/src/upstream/version.js';

/** The releases mirrored in ../shared/upstream that the suite proves parity for. */
export const RELEASES: Record<string, { commit: string; exampleObjects: number; repository: string }> = {
  '26.03': { commit: 'd68ebc7fab366ab40ddd1541d2ec22febb31bc83', exampleObjects: 675, repository: 'kubeflow/community-distribution' },
  'v1.11.0': { commit: '854bd3a21044f767204def71b2dcda83e376891f', exampleObjects: 653, repository: 'kubeflow/manifests' },
  'v1.10.2': { commit: 'd8d643f1a736b28c525bd9b8ee5c9b2f4a661b39', exampleObjects: 611, repository: 'kubeflow/manifests' },
};

/** The offline mirror: the first of KFC_UPSTREAM_MIRRORS (as the generator reads it), else beside the repository. */
export const MIRROR = process.env.KFC_UPSTREAM_MIRRORS?.split(path.delimiter).find(Boolean) ?? path.resolve(repoRoot(), '..', 'shared', 'upstream', 'kubeflow-manifests');

/** A lock file pinning `tag`: the committed lock with only tag and commit changed. */
export function lockFor(tag: string): string {
  const base: Lock = readLock(path.join(repoRoot(), 'upstream.lock.json'));
  const file = path.join(cacheDir(), 'test-locks', `${tag}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ ...base, repository: RELEASES[tag].repository, tag, commit: RELEASES[tag].commit, mirrors: [MIRROR] }, null, 2));
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

/** The chart version of a mirrored release (chartRevision 0). */
export const versionOf = (tag: string): string => chartVersion(tag, 0);

/** The mirrored releases oldest first, by chart version. */
export const BY_VERSION = Object.keys(RELEASES).sort((a, b) => compareVersions(versionOf(a), versionOf(b)));

/** Consecutive pairs of mirrored releases: the upgrades the suite checks (renders; the control plane runs the last one). */
export const UPGRADES: Array<[string, string]> = BY_VERSION.slice(1).map((to, i) => [BY_VERSION[i], to]);
