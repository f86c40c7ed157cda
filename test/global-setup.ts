import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { build } from '../packages/generator/src/commands/build.js';
import { silentLogger } from '../packages/generator/src/core/log.js';
import { ensureGoTool } from '../packages/generator/src/core/go-tools.js';
import { ensureBuilt } from '../packages/cluster/src/build.js';
import { buildLockFor, chartsFor, RELEASES } from './releases.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** the run's render cache (KFC_RENDER_CACHE), shared by every test file: see test/renders.ts */
    renderCache: string;
    /** the run's temporary directory (TMPDIR of every test file), removed at the end of the run */
    runTmp: string;
  }
}

/**
 * Builds the charts of every mirrored release once, before the test files run
 * in parallel: the pinned one into charts/ (a no-op after `npm run build`).
 * Creates the run's render cache and temporary directory (both removed at the end of the run: the
 * temporary files of every test file live there, so a run leaves nothing in the system's).
 */
export default async function setup(project: TestProject): Promise<() => void> {
  for (const tag of Object.keys(RELEASES)) {
    const lockFile = buildLockFor(tag);
    await build({ lockFile, out: lockFile ? chartsFor(tag) : undefined, logger: silentLogger });
  }
  // the control plane and kwok, built once here rather than by two test workers at the same time
  // (npm run setup already did on a set-up machine; a failure is reported by the tests that need them)
  try {
    ensureBuilt();
    ensureGoTool('kwok');
  } catch {
    /* clusterAvailability() in each file says why, and fails under CI=true */
  }
  const cache = mkdtempSync(path.join(os.tmpdir(), 'kfc-renders-'));
  const runTmp = mkdtempSync(path.join(os.tmpdir(), 'kfc-test-run-'));
  project.provide('renderCache', cache);
  project.provide('runTmp', runTmp);
  return () => {
    rmSync(cache, { recursive: true, force: true });
    rmSync(runTmp, { recursive: true, force: true });
  };
}
