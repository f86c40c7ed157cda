import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { build } from '../packages/generator/src/commands/build.js';
import { silentLogger } from '../packages/generator/src/core/log.js';
import { buildLockFor, chartsFor, RELEASES } from './releases.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** the run's render cache (KFC_RENDER_CACHE), shared by every test file: see test/renders.ts */
    renderCache: string;
  }
}

/**
 * Builds the charts of every mirrored release once, before the test files run
 * in parallel: the pinned one into charts/ (a no-op after `npm run build`).
 * Creates the run's render cache (removed at the end of the run).
 */
export default async function setup(project: TestProject): Promise<() => void> {
  for (const tag of Object.keys(RELEASES)) {
    const lockFile = buildLockFor(tag);
    await build({ lockFile, out: lockFile ? chartsFor(tag) : undefined, logger: silentLogger });
  }
  const cache = mkdtempSync(path.join(os.tmpdir(), 'kfc-renders-'));
  project.provide('renderCache', cache);
  return () => rmSync(cache, { recursive: true, force: true });
}
