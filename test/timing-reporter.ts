import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Reporter, TestModule, TestRunEndReason, Vitest } from 'vitest/node';
import { cacheDir, repoRoot } from '../packages/generator/src/core/paths.js';
import { writeFileAtomic } from '../packages/generator/src/core/util.js';

/**
 * Records the wall time of each test run in .cache/kfc/last-test-run.json (and of the last
 * full one in last-full-test-run.json): `npm run bench` prints it against its target.
 */
export default class TimingReporter implements Reporter {
  private start = 0;
  private filtered = false;

  onInit(vitest: Vitest): void {
    this.start = performance.now();
    this.filtered = Boolean(vitest.config.testNamePattern) || vitest.config.project?.length > 0;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, _errors: unknown, reason: TestRunEndReason): void {
    const all = readdirSync(path.join(repoRoot(), 'test')).filter((f) => f.endsWith('.test.ts')).length;
    const states = modules.flatMap((m) => [...m.children.allTests()].map((t) => t.result().state));
    const record = {
      wallSeconds: Math.round((performance.now() - this.start) / 100) / 10,
      finishedAt: new Date().toISOString(),
      files: modules.length,
      full: modules.length === all && !this.filtered,
      reason,
      tests: { passed: states.filter((s) => s === 'passed').length, failed: states.filter((s) => s === 'failed').length, skipped: states.filter((s) => s === 'skipped').length },
      cpus: os.availableParallelism(),
    };
    const text = `${JSON.stringify(record, null, 1)}\n`;
    writeFileAtomic(path.join(cacheDir(), 'last-test-run.json'), text);
    if (record.full) writeFileAtomic(path.join(cacheDir(), 'last-full-test-run.json'), text);
  }
}
