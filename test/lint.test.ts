import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { helmRun } from '../packages/generator/src/core/helm.js';
import { findHelm } from '../packages/generator/src/core/toolchain.js';
import { pool } from '../packages/generator/src/core/util.js';
import { chartNames, ciFiles } from './helpers.js';
import { chartsFor, RELEASES } from './releases.js';

describe.each(Object.keys(RELEASES))('helm lint --strict, %s', (tag) => {
  it.each([4, 3] as const)('passes for every chart with each ci values file on helm %i', async (major) => {
    const helm = await findHelm(major);
    expect(helm.version).toMatch(new RegExp(`^v${major}\\.`));
    const dir = chartsFor(tag);
    const runs = chartNames(dir).flatMap((c) => ciFiles(path.join(dir, c)).map((f) => ({ c, f })));
    expect(runs.length).toBeGreaterThan(30);
    const failures = (
      await pool(runs, 4, async ({ c, f }) => {
        const res = await helmRun(['lint', '--strict', path.join(dir, c), '-f', f], helm);
        return res.exitCode === 0 ? undefined : `${c} -f ${path.basename(f)}:\n${res.stdout}\n${res.stderr}`;
      })
    ).filter(Boolean);
    expect(failures).toEqual([]);
  });
});
