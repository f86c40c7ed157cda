import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRepo } from '../packages/generator/src/commands/repo.js';
import { compareVersions, mergeIndex, readIndex } from '../packages/generator/src/commands/repo-index.js';
import { changesFromDiff } from '../packages/generator/src/diff/diff.js';
import { artifactHubChanges } from '../packages/generator/src/emit/changes.js';
import { parseYaml } from '../packages/generator/src/core/model.js';
import { repoRoot } from '../packages/generator/src/core/paths.js';
import { iconFile, PROJECT } from '../packages/generator/src/core/project.js';
import { serveDir } from './fixtures.js';
import { helmIn, publishedReleases } from './repo-helpers.js';
import { readYaml } from './helpers.js';
import { chartsFor, PINNED } from './releases.js';
import { renderResult } from './renders.js';

const cli = path.join(repoRoot(), 'packages/generator/dist/cli.js');

describe('chart repository with history', () => {
  const releases = publishedReleases();
  let server: Awaited<ReturnType<typeof serveDir>>;
  const created = (i: number) => `2026-0${i + 1}-01T00:00:00Z`;
  beforeAll(async () => {
    server = await serveDir(mkdtempSync(path.join(os.tmpdir(), 'kfc-history-')));
    // publish every release in turn into the same repository
    releases.forEach((r, i) => buildRepo({ charts: r.charts, out: server.root, url: server.url, created: created(i) }));
  });
  afterAll(() => server?.close());

  it('keeps every published version, newest first, each package next to the index', () => {
    expect(releases.length).toBeGreaterThan(1);
    const index = readIndex(path.join(server.root, 'index.yaml'));
    const versions = index.entries.kubeflow.map((e) => e.version);
    expect(versions).toEqual(releases.map((r) => r.version).reverse());
    releases.forEach((r, i) => {
      for (const name of readdirSync(r.charts).filter((c) => existsSync(path.join(r.charts, c, 'Chart.yaml')))) {
        const e = index.entries[name]?.find((x) => x.version === r.version);
        expect(e, `${name} ${r.version}`).toBeDefined();
        expect(e!.created).toBe(created(i));
        expect(e!.urls).toEqual([`${server.url}/${name}-${r.version}.tgz`]);
        expect(existsSync(path.join(server.root, `${name}-${r.version}.tgz`))).toBe(true);
      }
    });
  });

  it('republishing unchanged charts keeps their created time; only `generated` moves', () => {
    const before = readIndex(path.join(server.root, 'index.yaml'));
    const last = releases[releases.length - 1];
    const r = buildRepo({ charts: last.charts, out: server.root, url: server.url, created: '2030-01-01T00:00:00Z' });
    expect(r.added).toEqual([]);
    expect(r.unchanged.length).toBe(r.charts.length);
    const after = readIndex(path.join(server.root, 'index.yaml'));
    expect(after.generated).toBe('2030-01-01T00:00:00Z');
    expect(after.entries).toEqual(before.entries);
  });

  it('every published version installs by --version (Helm 4 dry-run, Helm 3 and 4 template)', async () => {
    const helm = helmIn(mkdtempSync(path.join(os.tmpdir(), 'kfc-history-helm-')));
    await helm(4, 'repo', 'add', 'kubeflow-charts', server.url);
    await helm(3, 'repo', 'add', 'kubeflow-charts', server.url);
    for (const r of releases) {
      const notes = await helm(4, 'install', 'kubeflow', 'kubeflow-charts/kubeflow', '--version', r.version, '--dry-run=client', '--namespace', 'kubeflow-charts');
      expect(notes).toContain(`Kubeflow ${r.tag} is installing (release kubeflow, chart ${r.version})`);
      for (const major of [3, 4] as const) {
        const out = await helm(major, 'template', 'kubeflow', 'kubeflow-charts/katib', '--version', r.version);
        expect(out).toContain(`helm.sh/chart: katib-${r.version}`);
        // exactly what the built chart renders
        const local = await renderResult('katib', { tag: r.tag, helm: major, release: 'kubeflow', namespace: 'default', crds: false });
        expect(local.exitCode).toBe(0);
        expect(out === local.stdout, `katib ${r.version} from the repository renders like the built chart (helm ${major})`).toBe(true);
      }
    }
    expect(server.hits.filter((h) => h.startsWith('/kubeflow-')).length).toBeGreaterThanOrEqual(releases.length);
  });

  it('newer versions say what changed since the previous one (artifacthub.io/changes)', () => {
    const index = readIndex(path.join(server.root, 'index.yaml'));
    for (let i = 1; i < releases.length; i++) {
      const e = index.entries.kubeflow.find((x) => x.version === releases[i].version)!;
      const changes = parseYaml(e.annotations!['artifacthub.io/changes']);
      expect(changes[0]).toEqual({ kind: 'changed', description: `Kubeflow ${releases[i - 1].tag} -> ${releases[i].tag}` });
      expect(changes.length).toBeGreaterThan(1);
      for (const c of changes) expect(['added', 'changed', 'deprecated', 'removed', 'fixed', 'security']).toContain(c.kind);
    }
    const first = index.entries.kubeflow.find((x) => x.version === releases[0].version)!;
    expect(parseYaml(first.annotations!['artifacthub.io/changes'])).toHaveLength(1);
  });

  it('serves the icon the charts point at and artifacthub-repo.yml', async () => {
    const icon = await fetch(`${server.url}/${PROJECT.icon}`);
    expect(icon.status).toBe(200);
    expect(Buffer.from(await icon.arrayBuffer()).equals(readFileSync(iconFile()))).toBe(true);
    const meta = parseYaml(await (await fetch(`${server.url}/artifacthub-repo.yml`)).text());
    for (const k of Object.keys(meta)) expect(['repositoryID', 'owners', 'ignore']).toContain(k);
    for (const r of releases) expect(readYaml(path.join(r.charts, 'kubeflow', 'Chart.yaml')).icon).toBe(`${PROJECT.chartRepository}/${PROJECT.icon}`);
  });

  it('kfc previous names the version an upgrade starts from', () => {
    const run = (index: string) => spawnSync(process.execPath, [cli, 'previous', '--index', index, '--charts', releases[releases.length - 1].charts], { encoding: 'utf8' });
    const r = run(path.join(server.root, 'index.yaml'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(releases[releases.length - 2].version);
    // an index holding nothing older: no output, still success
    const only = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-prev-')), 'index.yaml');
    writeFileSync(only, 'apiVersion: v1\nentries: {}\n');
    expect(run(only).stdout).toBe('');
  });
});

describe('chart repository refusals', () => {
  const charts = chartsFor(PINNED);

  it('a published version with other content is refused, naming it, and nothing changes; --force replaces it', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'kfc-refuse-'));
    buildRepo({ charts, out, url: 'https://charts.example.com', created: '2026-01-01T00:00:00Z' });
    const copy = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-refuse-charts-')), 'charts');
    cpSync(charts, copy, { recursive: true });
    appendFileSync(path.join(copy, 'katib', 'values.yaml'), '# edited\n');
    const version = readYaml(path.join(charts, 'katib', 'Chart.yaml')).version;
    const snapshot = () => Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(path.join(out, f)).toString('base64')]));
    const before = snapshot();
    expect(() => buildRepo({ charts: copy, out, url: 'https://charts.example.com', created: '2026-02-01T00:00:00Z' })).toThrow(
      new RegExp(`${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/index.yaml already holds other content for katib-${version.replace(/\./g, '\\.')} \\(published [0-9a-f]{12}, now [0-9a-f]{12}\\)`),
    );
    expect(snapshot()).toEqual(before);
    const forced = buildRepo({ charts: copy, out, url: 'https://charts.example.com', created: '2026-02-01T00:00:00Z', force: true });
    expect(forced.replaced).toEqual([`katib-${version}`]);
    rmSync(out, { recursive: true, force: true });
    rmSync(path.dirname(copy), { recursive: true, force: true });
  });

  it('an index that is not one is a clear error naming the file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-badindex-'));
    writeFileSync(path.join(dir, 'index.yaml'), 'apiVersion: v2\nentries: []\n');
    expect(() => buildRepo({ charts, out: dir })).toThrow(`${dir}/index.yaml is not a chart repository index (apiVersion v1 with entries)`);
    expect(readdirSync(dir)).toEqual(['index.yaml']);
  });

  it('merging orders versions semantically and keeps other charts untouched', () => {
    const e = (name: string, version: string, digest = 'd') => ({ name, version, digest, created: 'c', urls: [] });
    const r = mergeIndex({ apiVersion: 'v1', generated: '', entries: { a: [e('a', '1.9.0'), e('a', '1.10.200')], b: [e('b', '0.1.0')] } }, [e('a', '1.11.0'), e('a', '1.10.200')], { generated: 'now' });
    expect(r.index.entries.a.map((x) => x.version)).toEqual(['1.11.0', '1.10.200', '1.9.0']);
    expect(r.index.entries.b).toEqual([e('b', '0.1.0')]);
    expect(r.added).toEqual(['a-1.11.0']);
    expect(r.unchanged).toEqual(['a-1.10.200']);
    expect(compareVersions('26.3.0', '1.11.0')).toBeGreaterThan(0);
    expect(compareVersions('1.11.0-rc.1', '1.11.0')).toBeLessThan(0);
  });
});

describe('artifacthub.io/changes', () => {
  it('compares two versions by release, images, CRDs and components; takes the upstream diff first', () => {
    const facts = (tag: string, images: string[], crds: string[], deps: string[]) => ({
      appVersion: tag,
      version: '1.0.0',
      annotations: { 'artifacthub.io/images': YAML.stringify(images.map((image) => ({ name: 'x', image }))), 'artifacthub.io/crds': YAML.stringify(crds.map((name) => ({ name, version: 'v1' }))) },
      dependencies: deps.map((name) => ({ name, version: '1.0.0' })),
    });
    const prev = facts('v1', ['ghcr.io/a/b:1.0', 'mysql:8.0'], ['x.example.com'], ['a', 'b']);
    const cur = facts('v2', ['ghcr.io/a/b:2.0', 'docker.io/c/d:1'], ['y.example.com'], ['a', 'c']);
    const upstream = changesFromDiff({
      chart: 'a',
      status: 'changed',
      objectsAdded: ['k'],
      objectsRemoved: [],
      objectsChanged: [],
      valuesRemoved: ['old.key'],
      valuesAdded: [],
      valuesRenamed: [['fooBar', 'foo']],
      variantsRemoved: [],
      variantsAdded: ['gke'],
      crdsRemoved: [],
      crdVersionsRemoved: [],
      selectorChanged: [],
      keptOrphans: ['PersistentVolumeClaim kubeflow/x'],
      pathsBefore: [],
      pathsAfter: [],
    });
    expect(artifactHubChanges(cur, prev, upstream).map((c) => `${c.kind}: ${c.description}`)).toEqual([
      'changed: values key fooBar is now foo',
      'removed: value old.key',
      'added: variant gke',
      'removed: PersistentVolumeClaim kubeflow/x is gone from the release but kept on the cluster (delete it when unused)',
      'changed: objects: 1 added, 0 removed, 0 changed',
      'changed: Kubeflow v1 -> v2',
      'changed: image ghcr.io/a/b:1.0 -> :2.0',
      'added: image docker.io/c/d:1',
      'removed: image mysql:8.0',
      'added: CRD y.example.com (v1)',
      'removed: CRD x.example.com (Helm keeps it installed; delete it yourself when unused)',
      'added: component c',
      'removed: component b',
    ]);
    expect(artifactHubChanges(cur, cur)).toEqual([{ kind: 'changed', description: 'Chart-only revision of Kubeflow v2 (1.0.0 -> 1.0.0)' }]);
  });
});
