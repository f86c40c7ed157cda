import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../packages/generator/src/commands/build.js';
import { silentLogger } from '../packages/generator/src/core/log.js';
import { resolveRelease, type Lock } from '../packages/generator/src/upstream/release.js';
import { makeRelease, serve, tarball } from './fixtures.js';

describe('upstream release download', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  let commit: string;
  const cache = mkdtempSync(path.join(os.tmpdir(), 'kfc-dl-cache-'));
  const lock = (over: Partial<Lock> = {}): Lock => ({ repository: 'kubeflow/manifests', tag: 'v1.11.0', commit, chartRevision: 0, mirrors: [], download: `${server.url}/{repository}/archive/refs/tags/{tag}.tar.gz`, ...over });

  beforeAll(async () => {
    const dir = makeRelease({
      lines: ['- ../common/kubeflow-namespace/base', '- ../common/kubeflow-roles/base'],
      copy: ['common/kubeflow-namespace', 'common/kubeflow-roles'],
    });
    const t = tarball(dir, 'manifests-1.11.0');
    commit = t.commit;
    server = await serve({ '/kubeflow/manifests/archive/refs/tags/v1.11.0.tar.gz': t.file });
    process.env.KFC_CACHE_DIR = cache;
  });
  afterAll(async () => {
    delete process.env.KFC_CACHE_DIR;
    await server.close();
  });

  it('downloads the tag tarball from 127.0.0.1, checks its commit, caches it and builds charts from it', async () => {
    const r = await resolveRelease({ lock: lock(), noMirrors: true });
    expect(r.source).toBe('download');
    expect(existsSync(path.join(r.dir, 'example', 'kustomization.yaml'))).toBe(true);
    expect(server.hits).toEqual(['/kubeflow/manifests/archive/refs/tags/v1.11.0.tar.gz']);
    const again = await resolveRelease({ lock: lock(), noMirrors: true });
    expect(again.source).toBe('cache');
    expect(server.hits).toHaveLength(1);

    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-dl-out-')), 'charts');
    const res = await build({ lock: lock(), noMirrors: true, out, logger: silentLogger });
    expect(res.charts.map((c) => c.name).sort()).toEqual(['kubeflow', 'kubeflow-namespace', 'kubeflow-roles']);
    expect(readdirSync(path.join(out, 'kubeflow-roles', 'templates')).filter((f) => f.startsWith('clusterrole-')).length).toBeGreaterThan(3);
  });

  it('a tarball of another commit than the lock pins is refused', async () => {
    await expect(resolveRelease({ lock: lock({ tag: 'v1.11.0', commit: 'f'.repeat(40) }), noMirrors: true })).rejects.toThrow(/is commit [0-9a-f]{40}, the lock pins f{40}/);
  });

  it('an unknown release tag ends with one message naming the tag and the way out', async () => {
    const err = await resolveRelease({ lock: lock({ tag: 'v9.9.9' }), noMirrors: true }).catch((e) => e);
    expect(err.message).toMatch(/release tag v9\.9\.9 not found: GET http:\/\/127\.0\.0\.1:\d+\/kubeflow\/manifests\/archive\/refs\/tags\/v9\.9\.9\.tar\.gz answered 404/);
    expect(err.hint).toMatch(/upstream\.lock\.json|--upstream/);
  });
});
