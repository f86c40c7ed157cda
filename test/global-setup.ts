import { build, silentLogger } from '../packages/generator/src/build.js';
import { chartsFor, lockFor, RELEASES } from './releases.js';

/** Builds the charts of every mirrored release once, before the test files run in parallel. */
export default async function setup(): Promise<void> {
  for (const tag of Object.keys(RELEASES)) {
    await build({ lockFile: lockFor(tag), out: chartsFor(tag), logger: silentLogger });
  }
}
