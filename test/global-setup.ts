import { build } from '../packages/generator/src/commands/build.js';
import { silentLogger } from '../packages/generator/src/core/log.js';
import { buildLockFor, chartsFor, RELEASES } from './releases.js';

/**
 * Builds the charts of every mirrored release once, before the test files run
 * in parallel: the pinned one into charts/ (a no-op after `npm run build`).
 */
export default async function setup(): Promise<void> {
  for (const tag of Object.keys(RELEASES)) {
    const lockFile = buildLockFor(tag);
    await build({ lockFile, out: lockFile ? chartsFor(tag) : undefined, logger: silentLogger });
  }
}
