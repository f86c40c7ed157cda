import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { KfcError } from '../core/errors.js';
import { cacheDir, repoRoot } from '../core/paths.js';
import { findKustomize } from '../core/toolchain.js';
import { sha256, stableStringify, writeFileAtomic } from '../core/util.js';
import { chartVersion, parseTag, requireTag, snapshotVersion, type ReleaseVersion } from './version.js';

/** The committed pin of the upstream release (upstream.lock.json). */
export interface Lock {
  repository: string;
  tag: string;
  commit: string;
  /** bumped when the charts change without an upstream change; see docs/versioning */
  chartRevision: number;
  /** local mirror directories holding `<tag>/`, relative to the repository root */
  mirrors?: string[];
  /** tarball URL template with {repository} and {tag} */
  download?: string;
}

export interface Release extends Lock {
  dir: string;
  source: 'explicit' | 'mirror' | 'cache' | 'download';
  /** changes whenever any file of the release tree changes */
  fingerprint: string;
  /** what the tree is: its tag (from the lock, or --tag for an explicit directory) or an untagged snapshot */
  id: ReleaseVersion;
  /** the chart version of every chart built from it (version.ts) */
  version: string;
}

export const DEFAULT_DOWNLOAD = 'https://github.com/{repository}/archive/refs/tags/{tag}.tar.gz';

export function defaultLockFile(): string {
  return process.env.KFC_LOCK ? path.resolve(process.env.KFC_LOCK) : path.join(repoRoot(), 'upstream.lock.json');
}

export function readLock(file = defaultLockFile()): Lock {
  let data: Partial<Lock>;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new KfcError(`cannot read the release pin ${file}: ${(e as Error).message}`, 'restore upstream.lock.json from git or pass --lock <file>');
  }
  for (const k of ['repository', 'tag', 'commit'] as const) {
    if (typeof data[k] !== 'string' || !data[k]) throw new KfcError(`${file}: "${k}" must be a non-empty string`, 'see README "Upgrading" for the lock file format');
  }
  requireTag(data.tag!, file);
  if (!/^[0-9a-f]{40}$/.test(data.commit!)) throw new KfcError(`${file}: commit "${data.commit}" is not a 40-hex commit id`, 'pin the commit the tag points to');
  return { chartRevision: 0, ...data } as Lock;
}

/** The commit a git checkout is at, or '' when the tree is not a git work tree. */
function gitHead(dir: string): string {
  try {
    const head = readFileSync(path.join(dir, '.git', 'HEAD'), 'utf8').trim();
    const ref = /^ref: (.+)$/.exec(head)?.[1];
    const id = ref ? readFileSync(path.join(dir, '.git', ref), 'utf8').trim() : head;
    return /^[0-9a-f]{40}$/.test(id) ? id : '';
  } catch {
    return '';
  }
}

function isManifestsTree(dir: string): boolean {
  return existsSync(path.join(dir, 'example', 'kustomization.yaml'));
}

function assertManifestsTree(dir: string, from: string): void {
  if (!existsSync(dir)) throw new KfcError(`upstream directory ${dir} (${from}) does not exist`, 'point --upstream / KFC_UPSTREAM_DIR at a kubeflow/manifests checkout, or unset it to use the pinned release');
  if (!isManifestsTree(dir)) throw new KfcError(`${dir} (${from}) is not a Kubeflow manifests release: example/kustomization.yaml is missing`, 'point it at the root of a kubeflow/manifests checkout or release tarball');
}

/** Cheap content fingerprint: path, size and mtime of every file. */
export function treeFingerprint(dir: string): string {
  const rows: string[] = [];
  const walk = (d: string) => {
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, ent.name);
      if (ent.isDirectory()) walk(p);
      else if (ent.isFile()) {
        const st = statSync(p);
        rows.push(`${path.relative(dir, p)}\0${st.size}\0${Math.trunc(st.mtimeMs)}`);
      }
    }
  };
  walk(dir);
  return sha256(rows.sort().join('\n'));
}

function mirrorDirs(lock: Lock): string[] {
  const env = process.env.KFC_UPSTREAM_MIRRORS;
  const list = env !== undefined ? env.split(path.delimiter).filter(Boolean) : (lock.mirrors ?? []);
  return list.map((m) => path.resolve(repoRoot(), m));
}

export interface ResolveOptions {
  lockFile?: string;
  lock?: Lock;
  /** explicit release directory (flag or KFC_UPSTREAM_DIR) */
  upstreamDir?: string;
  /** the tag of an explicit directory (flag or KFC_UPSTREAM_TAG); without one it is an untagged snapshot */
  upstreamTag?: string;
  /** skip mirrors (tests of the download path) */
  noMirrors?: boolean;
}

/** Finds the pinned release: explicit dir, mirror, cache, else download of the tag's tarball. */
export async function resolveRelease(opts: ResolveOptions = {}): Promise<Release> {
  const lock = opts.lock ?? readLock(opts.lockFile);
  const explicit = opts.upstreamDir ?? process.env.KFC_UPSTREAM_DIR;
  const done = (dir: string, source: Release['source'], l: Lock = lock): Release => {
    const fingerprint = treeFingerprint(dir);
    const id = parseTag(l.tag) ?? snapshotVersion(l.commit || fingerprint);
    return { ...l, dir, source, fingerprint, id, version: chartVersion(id, l.chartRevision) };
  };
  if (explicit) {
    const dir = path.resolve(explicit);
    assertManifestsTree(dir, opts.upstreamDir ? '--upstream' : 'KFC_UPSTREAM_DIR');
    // The lock describes another tree: take the tag from --tag / KFC_UPSTREAM_TAG, else call it a snapshot.
    const tag = opts.upstreamTag ?? process.env.KFC_UPSTREAM_TAG;
    if (tag) requireTag(tag, opts.upstreamTag ? '--tag' : 'KFC_UPSTREAM_TAG');
    const commit = tag && tag === lock.tag ? lock.commit : gitHead(dir);
    return done(dir, 'explicit', { ...lock, tag: tag ?? snapshotVersion(commit || treeFingerprint(dir)).tag, commit, chartRevision: tag === lock.tag ? lock.chartRevision : 0 });
  }
  if (!opts.noMirrors) {
    for (const m of mirrorDirs(lock)) {
      const dir = path.join(m, lock.tag);
      if (isManifestsTree(dir)) return done(dir, 'mirror');
    }
  }
  const cached = path.join(cacheDir(), 'upstream', `${lock.tag}-${lock.commit.slice(0, 12)}`);
  if (isManifestsTree(cached)) return done(cached, 'cache');
  await download(lock, cached);
  return done(cached, 'download');
}

/** Reads the commit id git-archive stores in the tarball's pax global header, if any. */
export function tarballCommit(tar: Buffer): string | undefined {
  if (tar.length < 1024 || String.fromCharCode(tar[156]) !== 'g') return undefined;
  const size = parseInt(tar.toString('ascii', 124, 136).replace(/\0.*$/, '').trim(), 8);
  const body = tar.toString('utf8', 512, 512 + size);
  return /(?:^|\n)\d+ comment=([0-9a-f]{40})\n/.exec(body)?.[1];
}

async function download(lock: Lock, dest: string): Promise<void> {
  const template = process.env.KFC_UPSTREAM_URL ?? lock.download ?? DEFAULT_DOWNLOAD;
  const url = template.replaceAll('{repository}', lock.repository).replaceAll('{tag}', lock.tag);
  const way = `pin an existing tag in upstream.lock.json, or provide the release offline with --upstream <dir> or a mirror holding ${lock.tag}/`;
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (e) {
    throw new KfcError(`cannot download release ${lock.tag} from ${url}: ${(e as Error).cause ?? (e as Error).message}`, way);
  }
  if (res.status === 404) throw new KfcError(`release tag ${lock.tag} not found: GET ${url} answered 404`, way);
  if (!res.ok) throw new KfcError(`cannot download release ${lock.tag}: GET ${url} answered ${res.status}`, way);
  const gz = Buffer.from(await res.arrayBuffer());
  let tar: Buffer;
  try {
    tar = gunzipSync(gz);
  } catch {
    throw new KfcError(`${url} is not a gzip tarball`, way);
  }
  const commit = tarballCommit(tar);
  if (commit && lock.commit && commit !== lock.commit)
    throw new KfcError(`release ${lock.tag} from ${url} is commit ${commit}, the lock pins ${lock.commit}`, 'the tag moved upstream: update "commit" in upstream.lock.json after reviewing the change');
  const tmp = `${dest}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const tarFile = path.join(tmp, 'release.tar');
    writeFileSync(tarFile, tar);
    await execa('tar', ['-xf', tarFile, '-C', tmp, '--strip-components=1', '--exclude=pax_global_header']);
    rmSync(tarFile);
    if (!isManifestsTree(tmp)) throw new KfcError(`${url} does not hold a Kubeflow manifests tree (no example/kustomization.yaml)`, way);
    mkdirSync(path.dirname(dest), { recursive: true });
    rmSync(dest, { recursive: true, force: true });
    renameSync(tmp, dest);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * One `kustomize build`: upstream directories plus kustomize Components
 * applied on top. With `markers`, a marker object follows each resource and
 * the output keeps accumulation order, so objects can be traced back to the
 * resource they came from (see splitByMarkers).
 */
export interface BuildUnit {
  /** directories relative to the release root */
  resources: string[];
  components: string[];
  markers?: boolean;
  /** further kustomization fields copied from the example (path-free ones only) */
  extra?: Record<string, unknown>;
}

export const MARKER_LABEL = 'kubeflow-charts.io/build-marker';

export function unitLabel(u: BuildUnit): string {
  const what = u.markers ? `example (${u.resources.length} resources)` : u.resources.join(' + ');
  return u.components.length ? `${what} with components ${u.components.join(', ')}` : what;
}

function cleanStderr(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('# Warning:') && !/^I\d{4} /.test(l))
    .join('\n');
}

function markerDoc(i: number): string {
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kubeflow-charts-build-marker-${i}\n  labels:\n    ${MARKER_LABEL}: "${i}"\n`;
}

/** Builds a unit with kustomize, caching the output by tool version, release fingerprint and unit. */
export async function kustomizeBuild(release: Release, unit: BuildUnit): Promise<string> {
  const k = await findKustomize();
  const key = sha256(stableStringify({ v: k.version, f: release.fingerprint, dir: release.dir, unit }));
  const cacheFile = path.join(cacheDir(), 'kustomize', `${key}.yaml`);
  if (existsSync(cacheFile)) return readFileSync(cacheFile, 'utf8');
  for (const r of [...unit.resources, ...unit.components]) {
    if (!existsSync(path.join(release.dir, r)))
      throw new KfcError(`kustomize build ${r}: directory missing in release ${release.tag} (${release.dir})`, 'the release moved this path: update the component configuration in components/, or check the release directory');
  }
  let target: string;
  let wrapper: string | undefined;
  if (unit.resources.length === 1 && unit.components.length === 0 && !unit.markers && !unit.extra) {
    target = path.join(release.dir, unit.resources[0]);
  } else {
    wrapper = path.join(cacheDir(), 'wrappers', `${key}-${process.pid}`);
    mkdirSync(wrapper, { recursive: true });
    const rel = (p: string) => path.relative(wrapper!, path.join(release.dir, p));
    const kz: Record<string, unknown> = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', ...(unit.extra ?? {}) };
    const resources: string[] = [];
    unit.resources.forEach((r, i) => {
      resources.push(rel(r));
      if (unit.markers) {
        writeFileSync(path.join(wrapper!, `marker-${i}.yaml`), markerDoc(i));
        resources.push(`marker-${i}.yaml`);
      }
    });
    kz.resources = resources;
    if (unit.components.length) kz.components = unit.components.map(rel);
    if (unit.markers) kz.sortOptions = { order: 'fifo' };
    writeFileSync(path.join(wrapper, 'kustomization.yaml'), `${JSON.stringify(kz, null, 1)}\n`);
    target = wrapper;
  }
  try {
    const res = await execa(k.path, [...k.args, target], { reject: false, maxBuffer: 512 * 1024 * 1024 });
    if (res.exitCode !== 0) {
      const msg = cleanStderr(String(res.stderr ?? '')) || res.shortMessage;
      throw new KfcError(`kustomize build of ${unitLabel(unit)} in ${release.tag} failed:\n${msg}`, `fix the release tree at ${release.dir}, or drop that path from the component configuration`);
    }
    writeFileAtomic(cacheFile, res.stdout);
    return res.stdout;
  } finally {
    if (wrapper) rmSync(wrapper, { recursive: true, force: true });
  }
}

/** The innermost reason of a kustomize error (its messages nest "accumulating ...: " prefixes). */
export function briefKustomizeError(message: string): string {
  // kubectl kustomize logs a multi-line error as klog's block: `"command failed" err=<` lines ` >`
  const block = /err=<\n([\s\S]*?)\n\s*>/.exec(message);
  if (block)
    message = block[1]
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .join(' ');
  const lines = message.split('\n').filter((l) => l.trim());
  const line = lines.find((l) => /err=|Error:|error:/.test(l)) ?? lines[lines.length - 1] ?? message;
  const parts = line.replace(/"$/, '').split(/': |: /);
  return parts.slice(-2).join(': ').trim();
}

/** The git ref of the release on its repository (links in Chart.yaml and READMEs). */
export function sourceRef(r: Pick<Release, 'id' | 'tag' | 'commit'>): string {
  return r.id.scheme === 'snapshot' ? r.commit || 'HEAD' : r.tag;
}
