import { Option } from 'commander';
import { defineCommand, EXIT_OK, UsageError } from '../core/command-line.js';

interface RepoFlags {
  charts?: string;
  out?: string;
  url?: string;
  merge?: string;
  force?: boolean;
  oci?: string;
  plainHttp?: boolean;
  digests?: string;
}

export const repoCommand = defineCommand({
  name: 'repo',
  summary: 'package every chart into a chart repository (index.yaml merged), or push it to an OCI registry',
  description: `Package every built chart reproducibly and merge it into the repository's index.yaml (in --out,
or --merge INDEX): earlier versions stay, an unchanged package keeps its created time, a version
already published with other content is refused unless --force.
With --oci, push every chart with helm push instead (log in first with helm registry login).`,
  options: [
    new Option('--charts <dir>', 'the built charts (default: charts/)'),
    new Option('--out <dir>', 'the repository directory (default: repo/)').conflicts('oci'),
    new Option('--url <url>', 'the URL the repository is served from (env KFC_REPO_URL)').conflicts('oci'),
    new Option('--merge <index>', 'the published index.yaml to merge into (with --oci: to compute artifacthub.io/changes)'),
    new Option('--force', 'replace a published version whose content changed'),
    new Option('--oci <ref>', 'push to oci://REGISTRY/PATH instead of writing a repository'),
    new Option('--plain-http', 'talk plain HTTP to the registry (with --oci)'),
    new Option('--digests <file>', 'write REGISTRY/PATH/<chart>@sha256:... of every chart here (with --oci)'),
  ],
  examples: [
    ['repo --url https://charts.example.com', 'a chart repository in repo/'],
    ['repo --merge published/index.yaml --url https://charts.example.com', 'merged into the published index'],
    ['repo --oci oci://ghcr.io/me/charts --digests digests.txt', 'push every chart, list the digests to sign'],
  ],
  exitCodes: [
    [0, 'repository written, or every chart pushed (or already there)'],
    [1, 'packaging or pushing failed, or a published version would change (without --force)'],
  ],
  run: async (o: RepoFlags) => {
    if (!o.oci) {
      const stray = (['plainHttp', 'digests'] as const).find((k) => o[k] !== undefined);
      if (stray) throw new UsageError(`--${stray === 'plainHttp' ? 'plain-http' : stray} applies only with --oci`);
      const { buildRepo } = await import('../commands/repo.js');
      const r = buildRepo({ charts: o.charts, out: o.out, url: o.url, merge: o.merge, force: o.force });
      process.stderr.write(`${r.dir}: index.yaml with ${r.added.length} new, ${r.replaced.length} replaced, ${r.unchanged.length} unchanged chart versions (earlier versions kept)\n`);
      return EXIT_OK;
    }
    const { publishOci } = await import('../commands/oci.js');
    const r = await publishOci({ charts: o.charts ?? 'charts', ref: o.oci, merge: o.merge, plainHttp: o.plainHttp, force: o.force, digests: o.digests });
    for (const d of r.digests) process.stdout.write(`${d}\n`);
    process.stderr.write(`${o.oci}: ${r.pushed.length} pushed, ${r.replaced.length} replaced, ${r.unchanged.length} already there\n`);
    return EXIT_OK;
  },
});
