import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { helmRun } from '../packages/generator/src/core/helm.js';
import { parseYaml, splitObjects } from '../packages/generator/src/core/model.js';
import { ICON_URL, iconFile, PROJECT, projectLicense } from '../packages/generator/src/core/project.js';
import { findHelm } from '../packages/generator/src/core/toolchain.js';
import { containerImages } from '../packages/generator/src/emit/metadata.js';
import { imagesIn } from '../packages/generator/src/commands/images.js';
import { pool } from '../packages/generator/src/core/util.js';
import { chartNames, ciFiles, readYaml } from './helpers.js';
import { chartsFor, PINNED } from './releases.js';
import { forEachRender, render, renderResult } from './renders.js';
import { UMBRELLA } from '../packages/generator/src/core/chart-model.js';

const WORKLOADS = ['Deployment', 'StatefulSet', 'DaemonSet'];
const isHook = (raw: string) => /^\s+helm\.sh\/hook:/m.test(raw);

/** `ns/kind/name` of every workload the NOTES tell the user to wait for. */
function notesWorkloads(notes: string): string[] {
  const out: string[] = [];
  for (const m of notes.matchAll(/^ {2}kubectl wait --for=condition=Available --timeout=\S+ -n (\S+) (.+)$/gm)) for (const ref of m[2].split(' ')) out.push(`${m[1]}/${ref}`);
  for (const m of notes.matchAll(/^ {2}kubectl rollout status --timeout=\S+ -n (\S+) (\S+)$/gm)) out.push(`${m[1]}/${m[2]}`);
  return out.sort();
}

/** `ns/kind/name` of every long-running workload a render holds (hooks and tests left out). */
function renderedWorkloads(rendered: string): string[] {
  return splitObjects(rendered, 'render')
    .filter((o) => WORKLOADS.includes(o.kind) && !isHook(o.raw))
    .map((o) => `${o.namespace ?? 'kubeflow-charts'}/${o.kind.toLowerCase()}/${o.name}`)
    .sort();
}

async function installNotes(chart: string, valuesFiles: string[] = []): Promise<{ notes: string; manifest: string }> {
  const res = await helmRun(['install', 'kubeflow', chart, '--dry-run=client', '--namespace', 'kubeflow-charts', ...valuesFiles.flatMap((f) => ['-f', f])], await findHelm(4));
  if (res.exitCode !== 0) throw new Error(`${chart} ${valuesFiles.join(' ')}: ${res.stderr}`);
  // NAME/STATUS..., HOOKS:, MANIFEST:, NOTES:
  const [rest, notes = ''] = res.stdout.split(/^NOTES:$/m);
  const manifest = rest.split(/^MANIFEST:$/m)[1] ?? '';
  return { notes, manifest };
}

describe(`chart metadata, ${PINNED}`, () => {
  const tag = PINNED;
  const dir = chartsFor(tag);
  const charts = chartNames(dir);

  it('every Chart.yaml: kubeVersion, maintainers, home, our icon, sources pinned to the tag, Artifact Hub annotations', () => {
    expect(existsSync(iconFile())).toBe(true);
    expect(readFileSync(iconFile(), 'utf8')).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>\n$/);
    const ranges = new Set<string>();
    expect(charts).toContain(UMBRELLA);
    for (const c of charts) {
      const y = readYaml(path.join(dir, c, 'Chart.yaml'));
      expect(y.kubeVersion, c).toMatch(/^>=1\.\d+\.0-0( <1\.\d+\.0-0)?$/);
      ranges.add(y.kubeVersion);
      expect(y.maintainers.length, c).toBeGreaterThan(0);
      for (const m of y.maintainers) expect(m.name, c).toBeTruthy();
      expect(y.home).toMatch(/^https:\/\//);
      expect(y.icon).toBe(ICON_URL);
      expect(y.icon).toBe(`${PROJECT.chartRepository}/${path.basename(iconFile())}`);
      const upstream = y.sources.filter((s: string) => s !== PROJECT.source);
      expect(upstream.length, c).toBeGreaterThan(0);
      for (const s of upstream) expect(s, c).toMatch(new RegExp(`^https://github\\.com/[^/]+/[^/]+/tree/${tag.replace(/\./g, '\\.')}/`));
      const a = y.annotations;
      for (const v of Object.values(a)) expect(typeof v, c).toBe('string');
      expect(a['artifacthub.io/license']).toBe(projectLicense());
      expect(
        parseYaml(a['artifacthub.io/links']).every((l: any) => l.name && /^https:\/\//.test(l.url)),
        c,
      ).toBe(true);
      const changes = parseYaml(a['artifacthub.io/changes']);
      expect(changes[0].description, c).toContain(`Kubeflow ${tag}`);
      const crdFiles = existsSync(path.join(dir, c, 'crds')) ? readdirSync(path.join(dir, c, 'crds')).length : 0;
      if (crdFiles) {
        const crds = parseYaml(a['artifacthub.io/crds']);
        expect(crds.length, c).toBeGreaterThanOrEqual(crdFiles);
        for (const x of crds) {
          expect(x.kind && x.name && x.displayName && x.description, `${c} ${JSON.stringify(x)}`).toBeTruthy();
          expect(x.version, `${c} ${x.name}`).toMatch(/^v\d+((alpha|beta)\d+)?$/);
        }
      }
    }
    // one release, one range
    expect([...ranges]).toHaveLength(1);
  });

  it('artifacthub.io/images lists the image inventory of the default render (every container image among it), and nothing else', async () => {
    expect(charts).toContain(UMBRELLA);
    await forEachRender(
      charts.map((chart) => ({ chart })),
      ({ chart: c }, rendered) => {
        // the image inventory of the render (`kfc images`), pod containers among them
        const images = new Set(imagesIn(rendered.text));
        for (const o of rendered.objects) for (const i of containerImages(o.raw)) expect(images.has(i.image), `${c}: ${i.image}`).toBe(true);
        const listed = parseYaml(readYaml(path.join(dir, c, 'Chart.yaml')).annotations['artifacthub.io/images'] ?? '[]') ?? [];
        expect(new Set(listed.map((i: any) => i.image)), c).toEqual(images);
        for (const i of listed) expect(i.name, `${c} ${i.image}`).toBeTruthy();
      },
    );
  });

  it('artifacthub.io/crds of the umbrella are the CRDs of its default render', async () => {
    const umbrella = path.join(dir, UMBRELLA);
    const crds = (await render(UMBRELLA)).objects
      .filter((o) => o.kind === 'CustomResourceDefinition')
      .map((o) => o.name)
      .sort();
    expect(crds.length).toBeGreaterThan(0);
    const listed = parseYaml(readYaml(path.join(umbrella, 'Chart.yaml')).annotations['artifacthub.io/crds'])
      .map((x: any) => x.name)
      .sort();
    expect(listed).toEqual(crds);
  });

  it('kubeVersion holds: Helm refuses a cluster older than it, accepts the minimum', async () => {
    const umbrella = path.join(dir, 'kubeflow');
    const min = Number(/^>=1\.(\d+)\.0-0/.exec(readYaml(path.join(umbrella, 'Chart.yaml')).kubeVersion)![1]);
    const old = await renderResult(umbrella, { helm: 4, extraArgs: ['--kube-version', `1.${min - 1}.0`] });
    expect(old.exitCode).not.toBe(0);
    expect(old.stderr).toMatch(/kubeVersion/);
    expect((await renderResult(umbrella, { helm: 4, extraArgs: ['--kube-version', `1.${min}.3`] })).exitCode).toBe(0);
  });

  it('umbrella NOTES wait for exactly the workloads rendered, for defaults and every ci values file; CRD upgrades name only enabled components', async () => {
    const umbrella = path.join(dir, 'kubeflow');
    const summary = JSON.parse(readFileSync(path.join(dir, '.kfc-build.json'), 'utf8')).charts;
    const withCrds = new Set(summary.filter((s: any) => s.crds.length && s.name !== 'kubeflow').map((s: any) => s.name));
    await pool([undefined, ...ciFiles(umbrella)], 2, async (f) => {
      const { notes, manifest } = await installNotes(umbrella, f ? [f] : []);
      const waited = notesWorkloads(notes);
      expect(waited.length, f).toBeGreaterThan(0);
      expect(waited, f ?? 'defaults').toEqual(renderedWorkloads(manifest));
      const loop = /^ {2}for c in (.+); do helm show crds kubeflow-charts\/\$c --version <new version> \| kubectl apply --server-side --force-conflicts -f -; done$/m.exec(notes);
      const enabledWithCrds = [...withCrds].filter((c) => new RegExp(`^# Source: kubeflow/charts/${c}/`, 'm').test(manifest));
      expect(loop?.[1].split(' ').sort(), f).toEqual(enabledWithCrds.sort());
    });
  });

  it('each component chart has NOTES waiting for exactly its rendered workloads', async () => {
    expect(charts.filter((c) => c !== 'kubeflow').length).toBeGreaterThan(0);
    await pool(
      charts.filter((c) => c !== 'kubeflow'),
      2,
      async (c) => {
        const { notes, manifest } = await installNotes(path.join(dir, c));
        expect(notes, c).toContain(`${c} `);
        const rendered = renderedWorkloads(manifest);
        if (rendered.length) expect(notesWorkloads(notes), c).toEqual(rendered);
        else expect(notes, c).toMatch(/runs no workloads|no workloads with these values/);
        if (existsSync(path.join(dir, c, 'crds'))) expect(notes, c).toContain(`helm show crds kubeflow-charts/${c} --version <new version>`);
      },
    );
  });
});
