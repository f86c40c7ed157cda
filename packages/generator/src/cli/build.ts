import { Option } from 'commander';
import { defineCommand, EXIT_OK } from '../core/command-line.js';
import { consoleLogger } from '../core/log.js';
import { releaseOptions, resolveOptions, type ReleaseFlags } from './release-options.js';

export const buildCommand = defineCommand({
  name: 'build',
  summary: 'generate every chart from the pinned upstream release into charts/',
  description: `Generate one chart per upstream component, and the umbrella chart kubeflow, from the upstream
release pinned in upstream.lock.json (or --upstream DIR). Rebuilds only when an input changed;
on failure the previous charts are left untouched.`,
  options: [...releaseOptions(), new Option('--out <dir>', 'where charts are written (default: charts/)'), new Option('--force', 'rebuild even if nothing changed')],
  examples: [
    ['build', 'build the pinned release into charts/'],
    ['build --upstream ../manifests --tag v1.11.0 --out /tmp/charts', 'build another checkout elsewhere'],
  ],
  exitCodes: [
    [0, 'charts written, or already up to date'],
    [1, 'the build failed: the message names the file, object or path (charts/ unchanged)'],
  ],
  run: async (o: ReleaseFlags & { out?: string; force?: boolean }) => {
    const { build } = await import('../commands/build.js');
    await build({ ...resolveOptions(o), out: o.out, force: o.force, logger: consoleLogger });
    return EXIT_OK;
  },
});
