import { describe, expect, it } from 'vitest';
import { findHelm, findKustomize, pinnedBinary } from '../packages/generator/src/core/toolchain.js';

describe('toolchain', () => {
  it('pinned helm 4.1.4 and 3.17.2 come out of the npm layers', async () => {
    const { execFileSync } = await import('node:child_process');
    expect(execFileSync(pinnedBinary('v35', 'helm'), ['version', '--template', '{{.Version}}'], { encoding: 'utf8' })).toBe('v4.1.4');
    expect(execFileSync(pinnedBinary('v32', 'helm'), ['version', '--template', '{{.Version}}'], { encoding: 'utf8' })).toBe('v3.17.2');
    expect((await findHelm(3)).version).toBe('v3.17.2');
    expect((await findHelm(4)).version).toMatch(/^v4\./);
    expect((await findKustomize()).version).toMatch(/kustomize v5\./);
  });

  it('a configured helm that does not run is a clear error saying how to provide one', async () => {
    process.env.HELM3_BIN = '/nonexistent/helm';
    try {
      await expect(findHelm(3)).rejects.toThrow(/helm at \/nonexistent\/helm \(\$HELM3_BIN\) does not run/);
    } finally {
      delete process.env.HELM3_BIN;
    }
    expect((await findHelm(3)).version).toBe('v3.17.2');
  });
});
