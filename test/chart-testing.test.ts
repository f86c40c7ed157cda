import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCtConfig } from '../packages/chart-testing/src/config.js';
import { checkChartYaml, ciValuesFiles, lintOffline } from '../packages/chart-testing/src/offline.js';
import { UMBRELLA } from '../packages/generator/src/core/chart-model.js';
import { cacheDir, repoRoot } from '../packages/generator/src/core/paths.js';
import { chartNames, ciFiles } from './helpers.js';
import { chartsFor, PINNED } from './releases.js';
import { needs, runs, tool } from './tools.js';

const CT_YAML = path.join(repoRoot(), 'ct.yaml');
const CLI = path.join(repoRoot(), 'packages/chart-testing/dist/cli.js');

/** PATH without any real ct (this machine has none; keep it so if one appears). */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e = { ...process.env };
  delete e.CT_BIN;
  return { ...e, ...extra };
}
const run = (args: string[], e: NodeJS.ProcessEnv) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: e, cwd: repoRoot() });

/** A directory with `name` as an executable script recording its arguments (one line per call) and exiting with `code`. */
function fakeTool(name: string, code: number): { dir: string; log: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `kfc-fake-${name}-`));
  const log = path.join(dir, 'calls.log');
  writeFileSync(path.join(dir, name), `#!/bin/sh\necho "$@" >> "${log}"\nexit ${code}\n`);
  chmodSync(path.join(dir, name), 0o755);
  return { dir, log };
}
const calls = (log: string) => {
  try {
    return readFileSync(log, 'utf8').trim().split('\n');
  } catch {
    return [];
  }
};

describe('ct.yaml and our restatement of ct rules', () => {
  it('ct.yaml is read with its options; lint-conf points at our yamllint rules', () => {
    const cfg = readCtConfig(CT_YAML);
    expect(cfg.chartDirs).toEqual([path.join(repoRoot(), 'charts')]);
    expect(cfg.all).toBe(true);
    expect(cfg.validateChartSchema).toBe(true);
    expect(cfg.validateYaml).toBe(true);
    expect(cfg.lintConf).toBe(path.join(repoRoot(), 'packages/chart-testing/config/lintconf.yaml'));
    expect(readFileSync(cfg.lintConf, 'utf8')).toMatch(/truthy: \{level: warning\}/);
    const bad = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-ct-')), 'ct.yaml');
    writeFileSync(bad, 'chart-dir: charts\n');
    expect(() => readCtConfig(bad)).toThrow(/unknown chart-testing option "chart-dir"/);
  });

  it("Chart.yaml against ct's chart schema: every generated chart passes, unknown keys and wrong types fail", () => {
    const dir = chartsFor(PINNED);
    for (const c of chartNames(dir)) expect(checkChartYaml(path.join(dir, c)), c).toEqual([]);
    const broken = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-ct-')), 'x');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'Chart.yaml'), 'apiVersion: v2\nname: x\nversion: 1.0.0\nmaintainer: me\nkeywords: [1]\nmaintainers:\n- email: a@b\n');
    expect(checkChartYaml(broken).sort()).toEqual(['(top): key "maintainer" is not allowed by ct\'s chart schema', 'keywords.0: must be string', "maintainers.0: must have required property 'name'"]);
  });

  it('no test reads files from outside the repository except the upstream mirrors (test/releases.ts)', () => {
    // the directory beside the repository, spelt so that this file does not name it
    const outside = new RegExp(`['"/]${'sha' + 'red'}['"/]`);
    const readers = readdirSync(path.join(repoRoot(), 'test')).filter((f) => outside.test(readFileSync(path.join(repoRoot(), 'test', f), 'utf8')));
    expect(readers).toEqual(['releases.ts']);
  });
});

const yamllint = tool('yamllint', runs(process.env.YAMLLINT_BIN ?? 'yamllint'), 'pip install yamllint, or apt-get install yamllint');

describe(`npm run ct -- lint, offline, ${PINNED}`, () => {
  it('every chart passes every check: chart schema, yamllint, helm lint --strict per ci file on helm 4 and 3', async (ctx) => {
    needs(ctx, yamllint);
    const dir = chartsFor(PINNED);
    const cfg = { ...readCtConfig(CT_YAML), chartDirs: [dir] };
    const results = await lintOffline(cfg);
    expect(results.filter((r) => r.status !== 'passed')).toEqual([]);
    const charts = chartNames(dir);
    const ci = charts.reduce((n, c) => n + ciFiles(path.join(dir, c)).length, 0);
    expect(results).toHaveLength(charts.length * 2 + ci * 2);
    expect(charts).toContain(UMBRELLA);
    for (const v of ['v4.', 'v3.']) expect(results.filter((r) => r.check.startsWith(`helm lint --strict (${v}`))).toHaveLength(ci);
  });
});

describe('the ct wrapper', () => {
  it('finds broken charts: schema, yamllint error, helm lint --strict, maintainers; exits 1', async (ctx) => {
    needs(ctx, yamllint);
    const root = mkdtempSync(path.join(os.tmpdir(), 'kfc-ct-broken-'));
    const src = path.join(chartsFor(PINNED), chartNames(chartsFor(PINNED)).find((c) => c !== UMBRELLA)!);
    const chart = path.join(root, 'charts', 'broken');
    cpSync(src, chart, { recursive: true });
    // renamed, and without the maintainers every generated chart carries
    const chartYaml = readFileSync(path.join(chart, 'Chart.yaml'), 'utf8')
      .replace(/^name: .*$/m, 'name: broken')
      .replace(/^maintainers:\n(?:[- ] .*\n)+/m, '');
    expect(chartYaml).not.toContain('maintainers:');
    writeFileSync(path.join(chart, 'Chart.yaml'), `${chartYaml}owner: me\n`);
    writeFileSync(path.join(chart, 'values.yaml'), `${readFileSync(path.join(chart, 'values.yaml'), 'utf8')}extra: 1   \n`);
    writeFileSync(path.join(chart, 'ci', '99-bad-values.yaml'), 'notAValue: 1\n');
    writeFileSync(path.join(root, 'ct.yaml'), 'chart-dirs: [charts]\nall: true\nvalidate-maintainers: true\ncheck-version-increment: true\n');
    const results = await lintOffline(readCtConfig(path.join(root, 'ct.yaml')));
    const failed = results.filter((r) => r.status === 'failed');
    expect(failed.find((r) => r.check.startsWith('Chart.yaml'))?.detail).toContain('key "owner" is not allowed');
    expect(failed.find((r) => r.check.startsWith('yamllint'))?.detail).toMatch(/values\.yaml:\d+:\d+: \[error\] trailing spaces/);
    expect(failed.find((r) => r.check === 'maintainers')?.detail).toBe('the chart has no maintainers');
    expect(failed.filter((r) => r.check.startsWith('helm lint')).map((r) => r.check)).toEqual(expect.arrayContaining([expect.stringMatching(/v4\..* -f ci\/99-bad-values\.yaml/), expect.stringMatching(/v3\..* -f ci\/99-bad-values\.yaml/)]));
    expect(results.find((r) => r.check.startsWith('version increment'))?.status).toBe('skipped');
    expect(ciValuesFiles(chart).length).toBe(ciFiles(src).length + 1);
    const cli = run(['lint', '--config', path.join(root, 'ct.yaml')], env());
    expect(cli.status).toBe(1);
    expect(cli.stdout).toMatch(/FAILED  broken: Chart\.yaml against ct's chart schema/);
  });

  it('with ct on PATH, calls it with ct.yaml; install without a cluster is skipped (exit 3), never passed', () => {
    const ct = fakeTool('ct', 0);
    const noCluster = fakeTool('kubectl', 1);
    const e = env({ PATH: `${ct.dir}:${process.env.PATH}`, KUBECTL_BIN: path.join(noCluster.dir, 'kubectl') });
    const lint = run(['lint'], e);
    expect(lint.status).toBe(0);
    expect(calls(ct.log)).toEqual([`lint --config ${CT_YAML}`]);
    const install = run(['install'], e);
    expect(install.status).toBe(3);
    expect(install.stdout).toMatch(/^skipped: no reachable Kubernetes cluster/m);
    expect(calls(noCluster.log)).toEqual(['get --raw /readyz --request-timeout=10s']);
    const both = run(['lint-and-install', '--', '--debug'], e);
    expect(both.status).toBe(3);
    expect(calls(ct.log)).toEqual([`lint --config ${CT_YAML}`, `lint --config ${CT_YAML} --debug`]);
  });

  it('with ct and a reachable cluster, installs the umbrella through ct; a failing ct fails', () => {
    const ct = fakeTool('ct', 0);
    const cluster = fakeTool('kubectl', 0);
    const e = env({ CT_BIN: path.join(ct.dir, 'ct'), KUBECTL_BIN: path.join(cluster.dir, 'kubectl') });
    expect(run(['lint-and-install'], e).status).toBe(0);
    const staged = path.join(cacheDir(), 'ct-install', UMBRELLA);
    expect(calls(ct.log)).toEqual([`lint --config ${CT_YAML}`, `install --all=false --charts ${staged} --config ${CT_YAML}`]);
    // the umbrella with its siblings (file://../<name> dependencies) and only its first ci values file
    expect(readdirSync(path.join(staged, 'ci'))).toEqual([path.basename(ciFiles(path.join(chartsFor(PINNED), UMBRELLA))[0])]);
    for (const c of chartNames(chartsFor(PINNED))) expect(readdirSync(path.join(staged, '..')), c).toContain(c);
    const failing = fakeTool('ct', 1);
    expect(run(['lint'], env({ CT_BIN: path.join(failing.dir, 'ct') })).status).toBe(1);
  });

  it('without ct, install prints the reason and exits 3; unknown commands are usage errors', () => {
    const r = run(['install'], env({ PATH: path.dirname(process.execPath) }));
    expect(r.stdout).toBe('skipped: ct is not installed (install runs in the GitHub workflow, on kind)\n');
    expect(r.status).toBe(3);
    expect(run(['lnt'], env()).status).toBe(2);
  });
});
