import { Option } from 'commander';
import { defineCommand, EXIT_OK } from '../core/command-line.js';
import { consoleLogger } from '../core/log.js';
import { lockOption } from './release-options.js';

export const diffCommand = defineCommand({
  name: 'diff <from> <to>',
  summary: 'what changes for users between two releases',
  description: `Build the chart models of two releases in memory and print what changes for users: charts
added and removed, values renamed and removed, variants, CRDs and CRD versions, selectors that
force a replace, objects Helm keeps after they are gone. <from> and <to> are tags (resolved like
the pin: mirror, cache or download) or release directories.`,
  options: [lockOption(), new Option('-v, --verbose', 'list every object added, removed and changed')],
  examples: [
    ['diff v1.11.0 26.03', 'what upgrading from v1.11.0 to 26.03 changes'],
    ['diff ../manifests-old ../manifests-new -v', 'two checkouts, every object'],
  ],
  exitCodes: [
    [0, 'printed the differences (none is not an error)'],
    [1, 'a release could not be found or built'],
  ],
  run: async (from: string, to: string, o: { lock?: string; verbose?: boolean }) => {
    const { diffReleases, formatDiff } = await import('../diff/diff.js');
    const r = await diffReleases(from, to, { lockFile: o.lock }, consoleLogger);
    process.stdout.write(formatDiff(r, o.verbose));
    return EXIT_OK;
  },
});
