import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishOci } from '../packages/generator/src/commands/oci.js';
import { buildRepo } from '../packages/generator/src/commands/repo.js';
import { parseYaml } from '../packages/generator/src/core/model.js';
import { sha256 } from '../packages/generator/src/core/util.js';
import { readYaml } from './helpers.js';
import { registryAvailable, REGISTRY_UNAVAILABLE, startRegistry } from './registry.js';
import { tool } from './tools.js';
import { helmIn, publishedReleases } from './repo-helpers.js';

// without the registry every test here is reported as skipped (with the reason), and fails under CI=true
const registryTool = tool('the OCI registry', registryAvailable(), `npm run setup builds it from the Go module proxy${REGISTRY_UNAVAILABLE ? `: ${REGISTRY_UNAVAILABLE}` : ''}`);

describe.skipIf(registryTool.skip)(`OCI registry on 127.0.0.1 (the CNCF distribution registry)${registryTool.note}`, () => {
  const releases = publishedReleases();
  const newest = releases[releases.length - 1];
  let registry: Awaited<ReturnType<typeof startRegistry>>;
  let ref: string;
  const digests = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-oci-digests-')), 'digests.txt');
  beforeAll(async () => {
    registryTool.require();
    registry = await startRegistry();
    ref = `oci://${registry.host}/kubeflow-charts`;
  });
  afterAll(() => registry?.stop());

  it('kfc repo --oci pushes every chart of every release; a second run pushes nothing', async () => {
    for (const r of releases) {
      const res = await publishOci({ charts: r.charts, ref, plainHttp: true, digests });
      expect(res.pushed.length, r.tag).toBe(readdirSync(r.charts).filter((c) => !c.startsWith('.')).length);
      expect(res.unchanged).toEqual([]);
    }
    const again = await publishOci({ charts: newest.charts, ref, plainHttp: true, digests });
    expect(again.pushed).toEqual([]);
    expect(again.unchanged.length).toBe(readdirSync(newest.charts).filter((c) => !c.startsWith('.')).length);
    const lines = readFileSync(digests, 'utf8').trim().split('\n');
    expect(lines.length).toBe(again.unchanged.length);
    for (const l of lines) expect(l).toMatch(new RegExp(`^${registry.host.replace(/\./g, '\\.')}/kubeflow-charts/[a-z0-9-]+@sha256:[a-f0-9]{64}$`));
  });

  it('every version resolves by --version; the umbrella from OCI renders exactly the local umbrella (Helm 3 and 4)', async () => {
    const helm = helmIn(mkdtempSync(path.join(os.tmpdir(), 'kfc-oci-helm-')));
    for (const r of releases) {
      for (const major of [3, 4] as const) {
        const fromOci = await helm(major, 'template', 'kubeflow', `${ref}/kubeflow`, '--version', r.version, '--plain-http', '--namespace', 'kubeflow-charts');
        const local = await helm(major, 'template', 'kubeflow', path.join(r.charts, 'kubeflow'), '--namespace', 'kubeflow-charts');
        expect(fromOci.length).toBeGreaterThan(100_000);
        expect(fromOci === local, `${r.tag} helm ${major}: OCI render differs from the local umbrella`).toBe(true);
      }
    }
  });

  it('pulled packages are the chart repository packages; only the umbrella names the OCI repository for its dependencies', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'kfc-oci-pull-'));
    const helm = helmIn(home);
    const repo = buildRepo({ charts: newest.charts, out: path.join(home, 'repo'), url: 'https://charts.example.com', created: '2026-01-01T00:00:00Z' });
    mkdirSync(path.join(home, 'pulled'));
    for (const name of repo.charts) {
      await helm(4, 'pull', `${ref}/${name}`, '--version', newest.version, '--plain-http', '--destination', path.join(home, 'pulled'));
      const pulled = readFileSync(path.join(home, 'pulled', `${name}-${newest.version}.tgz`));
      const http = readFileSync(path.join(repo.dir, `${name}-${newest.version}.tgz`));
      if (name !== 'kubeflow') expect(sha256(pulled), name).toBe(sha256(http));
    }
    await helm(4, 'pull', `${ref}/kubeflow`, '--version', newest.version, '--plain-http', '--untar', '--untardir', path.join(home, 'untar'));
    const chart = readYaml(path.join(home, 'untar', 'kubeflow', 'Chart.yaml'));
    expect(new Set(chart.dependencies.map((d: any) => d.repository))).toEqual(new Set([ref]));
    // and `helm dependency update` resolves them from the registry
    rmSync(path.join(home, 'untar', 'kubeflow', 'charts'), { recursive: true, force: true });
    await helm(4, 'dependency', 'update', path.join(home, 'untar', 'kubeflow'), '--plain-http');
    expect(readdirSync(path.join(home, 'untar', 'kubeflow', 'charts')).length).toBe(chart.dependencies.length);
  });

  it('a pushed version with other content is refused before anything is pushed', async () => {
    const copy = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-oci-changed-')), 'charts');
    cpSync(newest.charts, copy, { recursive: true });
    appendFileSync(path.join(copy, 'katib', 'values.yaml'), '# edited\n');
    appendFileSync(path.join(copy, 'dex', 'values.yaml'), '# edited\n');
    await expect(publishOci({ charts: copy, ref, plainHttp: true })).rejects.toThrow(new RegExp(`already holds other content for dex:${newest.version.replace(/\./g, '\\.')}, katib:`));
    // the registry still serves the original
    const helm = helmIn(mkdtempSync(path.join(os.tmpdir(), 'kfc-oci-after-')));
    const values = await helm(4, 'show', 'values', `${ref}/katib`, '--version', newest.version, '--plain-http');
    expect(values).not.toContain('# edited');
    expect(parseYaml(values)).toBeTruthy();
  });

  it('bad references are clear errors', async () => {
    await expect(publishOci({ charts: newest.charts, ref: 'ghcr.io/x/charts' })).rejects.toThrow('--oci ghcr.io/x/charts is not oci://REGISTRY[/PATH]');
    await expect(publishOci({ charts: newest.charts, ref: `oci://${registry.host}/kubeflow-charts` })).rejects.toThrow(/cannot read oci:\/\/\S+ from the registry .*HTTP response to HTTPS client/);
  });
});
