import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheDir, repoRoot } from '../packages/generator/src/core/paths.js';

const tsc = path.join(repoRoot(), 'node_modules', 'typescript', 'bin', 'tsc');

/** Type-checks `code` from a directory inside the repository, so the workspace package resolves. */
function typecheck(code: string): { status: number | null; out: string } {
  mkdirSync(path.join(cacheDir(), 'tmp'), { recursive: true });
  const dir = mkdtempSync(path.join(cacheDir(), 'tmp', 'types-'));
  const file = path.join(dir, 'use.ts');
  writeFileSync(file, code.replaceAll('TYPES', '@kubeflow-charts/values-types'));
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', 'false', file], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('TypeScript types of chart values', () => {
  it('accept a valid values object', () => {
    const r = typecheck(`import type { KatibValues, IstioValues, DeepPartial } from 'TYPES';
const v: DeepPartial<KatibValues> = { katibController: { replicas: 2, containers: { katibController: { image: { tag: 'v1' } } } } };
const i: DeepPartial<IstioValues> = { variant: 'ambient' };
export { v, i };
`);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });

  it('reject a number as image tag, an unknown variant and an unknown key', () => {
    const r = typecheck(`import type { KatibValues, IstioValues, DeepPartial } from 'TYPES';
const v: DeepPartial<KatibValues> = { katibController: { containers: { katibController: { image: { tag: 1 } } } } };
const i: DeepPartial<IstioValues> = { variant: 'nope' };
const u: DeepPartial<KatibValues> = { notAValue: true };
export { v, i, u };
`);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/use\.ts\(2,.*Type 'number' is not assignable to type 'string'/);
    expect(r.out).toMatch(/use\.ts\(3,.*"nope"/);
    expect(r.out).toMatch(/use\.ts\(4,.*notAValue/);
  });

  it('the workspace package @kubeflow-charts/values-types resolves to the generated declarations', () => {
    expect(execFileSync('node', ['-e', "console.log(require.resolve('@kubeflow-charts/values-types/package.json'))"], { cwd: repoRoot(), encoding: 'utf8' })).toMatch(/packages\/values-types\/package\.json/);
  });
});
