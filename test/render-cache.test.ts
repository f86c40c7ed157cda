import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { helmTemplateResult } from '../packages/generator/src/core/helm.js';
import type { Tool } from '../packages/generator/src/core/toolchain.js';
import { repoRoot } from '../packages/generator/src/core/paths.js';

const run = promisify(execFile);

/** A fake helm: logs `start <pid> <time>` / `end`, sleeps, prints a ConfigMap naming its arguments; `fail` in the arguments fails. */
function fakeHelm(dir: string): { tool: Tool; calls: () => string[] } {
  const log = path.join(dir, 'calls.log');
  const bin = path.join(dir, 'helm');
  writeFileSync(
    bin,
    `#!/bin/sh\necho "start $$ $(date +%s%N) $*" >> "${log}"\nsleep 0.3\necho "end $$ $(date +%s%N)" >> "${log}"\ncase "$*" in *fail*) echo "Error: it failed" >&2; exit 1;; esac\nprintf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: c\\ndata:\\n  args: "%s"\\n' "$*"\n`,
  );
  chmodSync(bin, 0o755);
  const calls = () => {
    try {
      return readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  return { tool: { name: 'helm', path: bin, version: 'v4.0.0-fake', source: 'test' }, calls };
}

/** The same render from another process (the built generator, as another test file's worker would call it). */
async function inOtherProcess(env: NodeJS.ProcessEnv, chart: string, helm: Tool, values: string[], set: string[] = []): Promise<{ exitCode: number; stdout: string }> {
  const helmJs = path.join(repoRoot(), 'packages/generator/dist/core/helm.js');
  const code = `const { helmTemplateResult } = await import(${JSON.stringify(helmJs)});
const r = await helmTemplateResult(${JSON.stringify(chart)}, { helm: ${JSON.stringify(helm)}, valuesFiles: ${JSON.stringify(values)}, set: ${JSON.stringify(set)} });
process.stdout.write(JSON.stringify({ exitCode: r.exitCode, stdout: r.stdout }));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { env });
  return JSON.parse(stdout);
}

describe('the render matrix cache (KFC_RENDER_CACHE)', () => {
  let dir: string;
  let chart: string;
  let values: string;
  const saved = { cache: process.env.KFC_RENDER_CACHE, jobs: process.env.KFC_RENDER_JOBS };
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-render-cache-test-'));
    chart = path.join(dir, 'chart');
    mkdirSync(chart);
    writeFileSync(path.join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: chart\nversion: 0.1.0\n');
    values = path.join(dir, 'values.yaml');
    writeFileSync(values, 'a: 1\n');
    process.env.KFC_RENDER_CACHE = path.join(dir, 'cache');
  });
  afterEach(() => {
    for (const [k, v] of [
      ['KFC_RENDER_CACHE', saved.cache],
      ['KFC_RENDER_JOBS', saved.jobs],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('renders once for three processes asking at the same time; other values content renders again', async () => {
    const helm = fakeHelm(dir);
    const env = { ...process.env };
    const [a, b, c] = await Promise.all([helmTemplateResult(chart, { helm: helm.tool, valuesFiles: [values] }), inOtherProcess(env, chart, helm.tool, [values]), inOtherProcess(env, chart, helm.tool, [values])]);
    expect(helm.calls().filter((l) => l.startsWith('start'))).toHaveLength(1);
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toContain('kind: ConfigMap');
    expect(b).toEqual({ exitCode: 0, stdout: a.stdout });
    expect(c).toEqual({ exitCode: 0, stdout: a.stdout });
    // the same path with other content is another render
    writeFileSync(values, 'a: 2\n');
    await helmTemplateResult(chart, { helm: helm.tool, valuesFiles: [values] });
    expect(helm.calls().filter((l) => l.startsWith('start'))).toHaveLength(2);
  });

  it('keeps a failed render with its message; without KFC_RENDER_CACHE every call runs helm', async () => {
    const helm = fakeHelm(dir);
    const first = await helmTemplateResult(chart, { helm: helm.tool, set: ['fail=1'] });
    const again = await helmTemplateResult(chart, { helm: helm.tool, set: ['fail=1'] });
    expect(first.exitCode).toBe(1);
    expect(again).toMatchObject({ exitCode: 1, stderr: 'Error: it failed' });
    expect(helm.calls().filter((l) => l.startsWith('start'))).toHaveLength(1);
    delete process.env.KFC_RENDER_CACHE;
    await helmTemplateResult(chart, { helm: helm.tool });
    await helmTemplateResult(chart, { helm: helm.tool });
    expect(helm.calls().filter((l) => l.startsWith('start'))).toHaveLength(3);
  });

  it('runs at most KFC_RENDER_JOBS helm processes at a time over all processes', async () => {
    const helm = fakeHelm(dir);
    process.env.KFC_RENDER_JOBS = '1';
    const env = { ...process.env };
    await Promise.all([...[1, 2, 3].map((i) => helmTemplateResult(chart, { helm: helm.tool, set: [`x=${i}`] })), ...[4, 5].map((i) => inOtherProcess(env, chart, helm.tool, [], [`x=${i}`]))]);
    const events = helm.calls().map((l) => ({ what: l.split(' ')[0], t: BigInt(l.split(' ')[2]) }));
    expect(events.filter((e) => e.what === 'start')).toHaveLength(5);
    // sorted by time, starts and ends alternate: never two at once
    const order = [...events].sort((x, y) => (x.t < y.t ? -1 : x.t > y.t ? 1 : 0)).map((e) => e.what);
    expect(order).toEqual(Array.from({ length: 10 }, (_x, i) => (i % 2 ? 'end' : 'start')));
  });
});
