import { KfcError } from '../core/errors.js';

/**
 * Release identity: which upstream release a tree is, and the chart version
 * that follows from it.
 *
 * Upstream tags are either `vMAJOR.MINOR.PATCH` (up to v1.11.x) or calendar
 * versions `YY.MM[.PATCH][-PRERELEASE]` (from 26.03). Chart versions are
 * SemVer and order like the releases across the switch:
 *
 *   v1.10.2        -> 1.10.200
 *   v1.11.0        -> 1.11.0
 *   26.03          -> 26.3.0
 *   26.03.1        -> 26.3.100
 *   26.03.1-rc.2   -> 26.3.100-rc.2
 *   (no tag)       -> 0.0.0-snapshot.<id>
 *
 * The third number is PATCH*100 + the chart revision (upstream.lock.json
 * `chartRevision`), so up to 99 chart-only fixes fit between two upstream
 * patch releases.
 */
export interface ReleaseVersion {
  /** the upstream tag as written, or `snapshot-<id>` */
  tag: string;
  scheme: 'semver' | 'calendar' | 'snapshot';
  major: number;
  minor: number;
  patch: number;
  prerelease?: string;
}

const SEMVER = /^v(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;
const CALENDAR = /^(\d{2})\.(\d{2})(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?$/;
const PRERELEASE = /^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$/;

/** Parses an upstream release tag; undefined when it is neither scheme. */
export function parseTag(tag: string): ReleaseVersion | undefined {
  const s = SEMVER.exec(tag);
  if (s) return { tag, scheme: 'semver', major: Number(s[1]), minor: Number(s[2]), patch: Number(s[3]), ...(s[4] ? { prerelease: s[4] } : {}) };
  const c = CALENDAR.exec(tag);
  if (c) {
    const month = Number(c[2]);
    if (month < 1 || month > 12) return undefined;
    return { tag, scheme: 'calendar', major: Number(c[1]), minor: month, patch: Number(c[3] ?? 0), ...(c[4] ? { prerelease: c[4] } : {}) };
  }
  return undefined;
}

export const TAG_FORMS = 'vMAJOR.MINOR.PATCH (v1.11.0) or YY.MM[.PATCH][-PRERELEASE] (26.03, 26.03.1, 26.03.1-rc.2)';

/** Checks an upstream tag, naming where it came from. */
export function requireTag(tag: string, from: string): ReleaseVersion {
  const v = parseTag(tag);
  if (!v) throw new KfcError(`${from}: tag "${tag}" is not a release tag (${TAG_FORMS})`, 'pin a Kubeflow manifests release tag');
  if (v.prerelease && !PRERELEASE.test(v.prerelease)) throw new KfcError(`${from}: tag "${tag}" has an invalid prerelease part`, 'use dot-separated alphanumerics, e.g. rc.2');
  return v;
}

/** The identity of a tree that carries no tag: a SemVer prerelease that never passes for a release. */
export function snapshotVersion(id: string): ReleaseVersion {
  const clean =
    id
      .toLowerCase()
      .replace(/[^0-9a-z]/g, '')
      .slice(0, 12) || 'unknown';
  return { tag: `snapshot-${clean}`, scheme: 'snapshot', major: 0, minor: 0, patch: 0, prerelease: `snapshot.${clean}` };
}

/** The chart version of a release with `revision` chart-only revisions. */
export function chartVersion(v: ReleaseVersion | string, revision: number): string {
  const rv = typeof v === 'string' ? requireTag(v, 'release') : v;
  if (!Number.isInteger(revision) || revision < 0 || revision > 99) throw new KfcError(`chartRevision ${revision} must be an integer 0..99`, 'fix upstream.lock.json');
  const core = `${rv.major}.${rv.minor}.${rv.patch * 100 + revision}`;
  return rv.prerelease ? `${core}-${rv.prerelease}` : core;
}

/** Orders two chart versions like SemVer (prereleases before their release). */
export function compareVersions(a: string, b: string): number {
  const split = (v: string) => {
    const [core, ...pre] = v.split('-');
    return { nums: core.split('.').map(Number), pre: pre.join('-') };
  };
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < 3; i++) if (x.nums[i] !== y.nums[i]) return x.nums[i] - y.nums[i];
  if (!x.pre || !y.pre) return x.pre ? -1 : y.pre ? 1 : 0;
  const xp = x.pre.split('.');
  const yp = y.pre.split('.');
  for (let i = 0; i < Math.max(xp.length, yp.length); i++) {
    if (xp[i] === undefined) return -1;
    if (yp[i] === undefined) return 1;
    const xn = /^\d+$/.test(xp[i]);
    const yn = /^\d+$/.test(yp[i]);
    if (xn && yn && Number(xp[i]) !== Number(yp[i])) return Number(xp[i]) - Number(yp[i]);
    if (xn !== yn) return xn ? -1 : 1;
    if (xp[i] !== yp[i]) return xp[i] < yp[i] ? -1 : 1;
  }
  return 0;
}
