import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { chartVersion, compareVersions } from '../packages/generator/src/upstream/version.js';
import { schemaRows } from '../packages/generator/src/core/schema.js';
import { chartNames, ciFiles, readYaml } from './helpers.js';
import { chartsFor, PINNED } from './releases.js';

function yamlKeysWithoutComment(text: string): string[] {
  const doc = YAML.parseDocument(text);
  const missing: string[] = [];
  const walk = (node: unknown, p: string) => {
    // a flow collection is one value on its key's line (upstream data such as nodeSelector)
    if (YAML.isCollection(node) && node.flow) return;
    if (YAML.isMap(node)) {
      for (const pair of node.items) {
        const k = String((pair.key as YAML.Scalar).value);
        if (!(pair.key as YAML.Scalar).commentBefore && !(node.items[0] === pair && node.commentBefore)) missing.push(`${p}${k}`);
        walk(pair.value, `${p}${k}.`);
      }
    } else if (YAML.isSeq(node)) node.items.forEach((x, i) => walk(x, `${p}[${i}].`));
  };
  walk(doc.contents, '');
  return missing;
}

describe(`chart files, ${PINNED}`, () => {
  const tag = PINNED;
  const dir = chartsFor(tag);
  const charts = chartNames(dir);

  // ct's own chart schema checks every Chart.yaml in test/chart-testing.test.ts (the real ct lint)
  it('Chart.yaml names the chart, the release and the version the documented scheme gives', () => {
    for (const c of charts) {
      const chart = readYaml(path.join(dir, c, 'Chart.yaml'));
      expect(chart.name).toBe(c);
      expect(chart.appVersion).toBe(tag);
      expect(chart.version).toBe(chartVersion(tag, 0));
    }
    expect(chartVersion('v1.10.2', 0)).toBe('1.10.200');
    expect(chartVersion('v1.11.0', 3)).toBe('1.11.3');
  });

  it('chart versions order like the releases across the switch to calendar tags', () => {
    const tags = ['v1.10.2', 'v1.11.0', 'v1.11.1', '26.03-rc.1', '26.03', '26.03.1-rc.2', '26.03.1', '26.07'];
    const versions = tags.map((t) => chartVersion(t, 0));
    expect(versions).toEqual(['1.10.200', '1.11.0', '1.11.100', '26.3.0-rc.1', '26.3.0', '26.3.100-rc.2', '26.3.100', '26.7.0']);
    expect([...versions].sort(compareVersions)).toEqual(versions);
    expect(chartVersion('26.03', 2)).toBe('26.3.2');
    expect(() => chartVersion('26.13', 0)).toThrow(/not a release tag/);
    expect(() => chartVersion('main', 0)).toThrow(/not a release tag/);
  });

  it('values.yaml has a comment above every key', () => {
    for (const c of charts) expect(yamlKeysWithoutComment(readFileSync(path.join(dir, c, 'values.yaml'), 'utf8')), c).toEqual([]);
  });

  it('one ci values file per variant and per switch, plus one per feature scenario', () => {
    const summary = JSON.parse(readFileSync(path.join(dir, '.kfc-build.json'), 'utf8'));
    // the build recorded every chart
    expect(summary.charts.map((s: any) => s.name).sort()).toEqual(charts);
    for (const s of summary.charts) {
      const files = ciFiles(path.join(dir, s.name)).map((f) => path.basename(f));
      for (const f of files) expect(f).toMatch(/^\d\d-[a-z0-9-]+-values\.yaml$/);
      // every file on disk is recorded, feature scenarios marked
      expect(s.ciFiles.map((c: any) => path.basename(c.file))).toEqual(files);
      const parity = s.ciFiles.filter((c: any) => !c.feature).length;
      if (s.name === 'kubeflow') {
        // the umbrella: defaults, every component variant and switch, everything enabled
        const comps = summary.charts.filter((x: any) => x.name !== 'kubeflow');
        const variants = comps.reduce((n: number, x: any) => n + Math.max(0, x.variants.length - 1) + x.toggles.length, 0);
        expect(parity).toBe(1 + variants + (comps.some((x: any) => !x.enabled) ? 1 : 0));
        continue;
      }
      expect(parity).toBe(Math.max(1, s.variants.length) + s.toggles.length);
      for (const v of s.variants) expect(files.some((f: string) => f.endsWith(`-${v}-values.yaml`))).toBe(true);
    }
  });

  it('CRDs sit in crds/, one per file, each under 5 MiB; templates hold only variant-guarded ones; together they hold every CRD the build recorded', () => {
    const summary: Array<{ name: string; crds: string[] }> = JSON.parse(readFileSync(path.join(dir, '.kfc-build.json'), 'utf8')).charts;
    const crdName = (text: string) => /^metadata:\n(?: {2}.*\n)*? {2}name: (\S+)$/m.exec(text)?.[1];
    expect(summary.some((s) => s.crds.length)).toBe(true);
    for (const c of charts) {
      const recorded = summary.find((s) => s.name === c)?.crds ?? [];
      const found: string[] = [];
      const crdDir = path.join(dir, c, 'crds');
      for (const f of existsSync(crdDir) ? readdirSync(crdDir, { withFileTypes: true }).filter((x) => x.isFile()) : []) {
        const file = path.join(crdDir, f.name);
        const text = readFileSync(file, 'utf8');
        expect(statSync(file).size).toBeLessThan(5 * 1024 * 1024);
        expect(text.match(/^kind: CustomResourceDefinition$/gm)).toHaveLength(1);
        const name = crdName(text) ?? `${c}/crds/${f.name}: no metadata.name`;
        // crds/ holds CRDs of every variant: the default render's among them
        expect(recorded, c).toContain(name);
        found.push(name);
      }
      for (const f of readdirSync(path.join(dir, c, 'templates')).filter((x) => x.startsWith('customresourcedefinition-'))) {
        // a CRD only some variants have cannot live in crds/ (which is not templated)
        const text = readFileSync(path.join(dir, c, 'templates', f), 'utf8');
        expect(text, `${c}/templates/${f}`).toMatch(/^\{\{- if (eq|has) \.Values\.variant /);
        found.push(crdName(text) ?? `${c}/templates/${f}: no metadata.name`);
      }
      // every CRD of the default render lies in one of them
      for (const name of recorded) expect(found, c).toContain(name);
    }
  });

  it('README documents every value of the schema', () => {
    for (const c of charts) {
      const readme = readFileSync(path.join(dir, c, 'README.md'), 'utf8');
      const schema = JSON.parse(readFileSync(path.join(dir, c, 'values.schema.json'), 'utf8'));
      for (const r of schemaRows(schema)) expect(readme, `${c}: ${r.path}`).toContain(`| \`${r.path}\` |`);
    }
  });
});
