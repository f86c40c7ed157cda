import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { helmRun } from '../packages/generator/src/core/helm.js';
import { findHelm } from '../packages/generator/src/core/toolchain.js';
import { pool } from '../packages/generator/src/core/util.js';
import { chartNames, firstWorkload, readYaml } from './helpers.js';
import { chartsFor, PINNED } from './releases.js';

const dir = chartsFor(PINNED);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'kfc-schema-'));

interface Case {
  chart: string;
  what: string;
  values: string;
  /** the values path helm must name */
  path: RegExp;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const chart of chartNames(dir)) {
    out.push({ chart, what: 'unknown top-level key', values: 'notAValue: 1\n', path: /notAValue/ });
    const w = firstWorkload(readYaml(path.join(dir, chart, 'values.yaml')));
    if (!w) continue;
    const c = `${w.workload}:\n  containers:\n    ${w.container}:\n`;
    out.push({ chart, what: 'number as image tag', values: `${c}      image:\n        tag: 1.5\n`, path: new RegExp(`${w.workload}.containers.${w.container}.image.tag`) });
    out.push({ chart, what: 'string for resources', values: `${c}      resources: lots\n`, path: new RegExp(`${w.workload}.containers.${w.container}.resources`) });
    if (w.hasReplicas) out.push({ chart, what: 'negative replicas', values: `${w.workload}:\n  replicas: -1\n`, path: new RegExp(`${w.workload}.replicas`) });
  }
  return out;
}

describe('values.schema.json rejects bad values, naming the path', () => {
  it.each([4, 3] as const)('on helm %i, for every chart', async (major) => {
    const helm = await findHelm(major);
    const all = cases();
    // every chart is checked, and every check the issue names occurs
    expect(new Set(all.map((c) => c.chart)).size).toBe(chartNames(dir).length);
    for (const what of ['unknown top-level key', 'number as image tag', 'string for resources', 'negative replicas']) expect(all.some((c) => c.what === what)).toBe(true);
    const problems = (
      await pool(all, 4, async (c, i) => {
        const file = path.join(tmp, `${major}-${i}.yaml`);
        writeFileSync(file, c.values);
        const res = await helmRun(['template', 'x', path.join(dir, c.chart), '-f', file], helm);
        const msg = `${res.stderr}`.replace(/\//g, '.').replace(/'\.?/g, '');
        if (res.exitCode === 0) return `${c.chart}: ${c.what} was accepted`;
        if (!/schema/.test(res.stderr) || !c.path.test(msg)) return `${c.chart}: ${c.what}: message does not name ${c.path}: ${res.stderr}`;
        return undefined;
      })
    ).filter(Boolean);
    expect(problems).toEqual([]);
  });

  it('accepts the defaults and a valid override', async () => {
    const helm = await findHelm();
    const file = path.join(tmp, 'ok.yaml');
    writeFileSync(file, 'katibController:\n  replicas: 2\n  containers:\n    katibController:\n      image:\n        tag: "1.5"\n      resources:\n        limits:\n          cpu: 500m\n');
    const res = await helmRun(['template', 'x', path.join(dir, 'katib'), '-f', file], helm);
    expect(res.stderr).toBe('');
    expect(res.stdout).toContain('image: "ghcr.io/kubeflow/katib/katib-controller:1.5"');
    expect(readFileSync(path.join(dir, 'katib', 'values.schema.json'), 'utf8')).toContain('"$schema": "http://json-schema.org/draft-07/schema#"');
  });
});
