import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { closest, validateValues } from '../packages/generator/src/commands/validate.js';
import { coalesce } from '../packages/generator/src/core/util.js';
import { UMBRELLA } from '../packages/generator/src/core/chart-model.js';
import { repoRoot } from '../packages/generator/src/core/paths.js';
import { brokenValues, chartNames } from './helpers.js';
import { chartsFor, PINNED } from './releases.js';
import { ciMatrix } from './renders.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kfc-validate-'));
const kfc = (...args: string[]) => spawnSync(process.execPath, [path.join(repoRoot(), 'packages/generator/dist/cli.js'), ...args], { encoding: 'utf8' });

describe(`kfc validate accepts every ci values file, ${PINNED}`, () => {
  it('for every chart, the umbrella included', () => {
    const dir = chartsFor(PINNED);
    const matrix = ciMatrix();
    expect(matrix.some((x) => x.chart === UMBRELLA)).toBe(true);
    // every chart has ci values files
    expect([...new Set(matrix.map((x) => x.chart))]).toEqual(chartNames(dir));
    for (const { chart, file } of matrix) expect(validateValues({ chart, values: [file], charts: dir }).issues, `${chart} ${path.basename(file)}`).toEqual([]);
  });
});

describe('kfc validate rejects bad values, naming each path', () => {
  const dir = chartsFor(PINNED);
  const { files, paths } = brokenValues(dir);
  const args = Object.entries(files).flatMap(([f, v]) => {
    writeFileSync(path.join(tmp, f), JSON.stringify(v));
    return ['-f', path.join(tmp, f)];
  });

  it('misspelt key with a suggestion, wrong type and bad quantity in the umbrella and its subcharts; exit code 1', () => {
    const r = kfc('validate', path.join(dir, UMBRELLA), ...args);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`misspelt.yaml: pipelnes\n    expected: one of the`);
    expect(r.stdout).toContain('got:      unknown key `pipelnes`\n    did you mean `pipelines`?');
    expect(r.stdout).toContain(`wrong-type.yaml: ${paths.replicas}\n    expected: integer\n    got:      "two" (string)`);
    expect(r.stdout).toMatch(new RegExp(`bad-quantity.yaml: ${paths.cpu.replace(/\./g, '\\.')}\\n    expected: A non-negative Kubernetes quantity.*\\n    got:      "5 cores" \\(string\\)`));
    expect(r.stdout).toContain('FAILED: 3 errors');
  });

  it('an umbrella without its sibling chart directories validates subchart keys from the vendored packages', () => {
    const alone = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-umbrella-')), UMBRELLA);
    cpSync(path.join(dir, UMBRELLA), alone, { recursive: true });
    const r = validateValues({ chart: alone, values: args.filter((a) => a !== '-f'), charts: path.join(tmp, 'no-charts-here') });
    expect(r.issues.map((i) => i.path).sort()).toEqual(['pipelnes', paths.cpu, paths.replicas].sort());
  });

  it('a component chart by name; valid values pass with exit 0; a missing chart suggests the closest name', () => {
    writeFileSync(path.join(tmp, 'ok.yaml'), `${paths.workload}:\n  replicas: 2\n`);
    expect(kfc('validate', 'katib', '--charts', dir, '-f', path.join(tmp, 'ok.yaml')).status).toBe(0);
    writeFileSync(path.join(tmp, 'bad.yaml'), `${paths.workload}:\n  replicaz: 2\n`);
    const bad = kfc('validate', 'katib', '--charts', dir, '-f', path.join(tmp, 'bad.yaml'));
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain(`${paths.workload}.replicaz`);
    expect(bad.stdout).toContain('did you mean `replicas`?');
    const missing = kfc('validate', 'katbi', '--charts', dir, '-f', path.join(tmp, 'ok.yaml'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('did you mean `katib`?');
    expect(kfc('validate', 'katib', '--charts', dir).status).not.toBe(0);
  });

  it('merges like helm: later files win, null removes a key; suggestions only for near misses', () => {
    expect(coalesce({ a: { b: 1, c: 2 }, d: [1] }, { a: { b: null, c: 3 }, d: [2] })).toEqual({ a: { c: 3 }, d: [2] });
    expect(closest('pipelnes', ['pipelines', 'katib'])).toBe('pipelines');
    expect(closest('Katib', ['pipelines', 'katib'])).toBe('katib');
    expect(closest('something', ['pipelines', 'katib'])).toBeUndefined();
  });
});
