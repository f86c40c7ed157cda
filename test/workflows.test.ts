import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../packages/generator/src/core/paths.js';
import { kfcProgram } from '../packages/generator/src/cli/program.js';

const WORKFLOWS = path.join(repoRoot(), '.github', 'workflows');
const rootScripts: Record<string, string> = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')).scripts;

interface Step {
  file: string;
  job: string;
  uses?: string;
  run?: string;
}

function workflows(): Array<{ file: string; text: string; doc: any }> {
  return readdirSync(WORKFLOWS)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => {
      const text = readFileSync(path.join(WORKFLOWS, f), 'utf8');
      const doc = YAML.parse(text);
      return { file: f, text, doc };
    });
}

function steps(): Step[] {
  return workflows().flatMap(({ file, doc }) => Object.entries<any>(doc.jobs).flatMap(([job, j]) => (j.steps ?? []).map((s: any) => ({ file, job, uses: s.uses, run: s.run }))));
}

/** `npm run X` / `npm run -s X -- args` calls in a run script. */
function npmRuns(run: string): Array<{ script: string; args: string[] }> {
  return [...run.matchAll(/npm run(?: -s| --silent)* ([\w:-]+)(?: -- ([^\n);|&]*))?/g)].map((m) => ({ script: m[1], args: (m[2] ?? '').trim().split(/\s+/).filter(Boolean) }));
}

describe('GitHub workflows', () => {
  it('parse, have jobs with steps, and include lint-test and release', () => {
    const all = workflows();
    expect(all.map((w) => w.file)).toEqual(expect.arrayContaining(['lint-test.yaml', 'release.yaml']));
    for (const w of all) {
      expect(w.doc.name, w.file).toBeTruthy();
      expect(w.doc.on, w.file).toBeTruthy();
      expect(w.doc.permissions, `${w.file}: top-level permissions`).toBeTruthy();
      for (const [job, j] of Object.entries<any>(w.doc.jobs)) {
        expect(j['runs-on'], `${w.file} ${job}`).toBeTruthy();
        expect(j['timeout-minutes'], `${w.file} ${job}`).toBeLessThanOrEqual(90);
        expect(j.steps?.length, `${w.file} ${job}`).toBeGreaterThan(0);
        for (const s of j.steps) expect(!!s.uses !== !!s.run, `${w.file} ${job}: a step either uses or runs`).toBe(true);
      }
    }
  });

  it('pin every action by a full commit SHA, with the tag in a comment', () => {
    const all = workflows();
    let n = 0;
    for (const w of all) {
      for (const line of w.text.split('\n').filter((l) => /^\s*(-\s+)?uses:/.test(l))) {
        n++;
        expect(line, w.file).toMatch(/uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$/);
      }
    }
    expect(n).toBe(steps().filter((s) => s.uses).length);
    expect(n).toBeGreaterThan(10);
  });

  it('call only scripts, npm scripts, kfc commands and flags, and files that exist', () => {
    // the kfc CLI as its commander program defines it: commands and each one's long options
    const program = kfcProgram();
    const commands = new Set(program.commands.map((c) => c.name()));
    const options = new Set(program.commands.flatMap((c) => c.options.map((o) => o.long?.replace(/^--/, '') ?? '')).filter(Boolean));
    const calls = steps().filter((s) => s.run);
    expect(calls.length).toBeGreaterThan(10);
    for (const s of calls) {
      const where = `${s.file} ${s.job}: ${s.run!.split('\n')[0]}`;
      for (const { script, args } of npmRuns(s.run!)) {
        expect(rootScripts[script], `${where}: npm script ${script}`).toBeTruthy();
        const cli = /packages\/generator\/dist\/cli\.js(?: (\w+))?/.exec(rootScripts[script]);
        if (!cli) continue;
        const command = cli[1] ?? args[0];
        expect(commands.has(command), `${where}: kfc ${command}`).toBe(true);
        for (const a of args.filter((x) => x.startsWith('--'))) expect(options.has(a.slice(2)), `${where}: kfc option ${a}`).toBe(true);
      }
      // repository paths the script names (build output under charts/ exists after `npm run build`)
      for (const m of s.run!.matchAll(/(?:^|[\s"'=])((?:\.ci|scripts|packages|examples|charts)\/[\w./-]*[\w/])/g)) {
        const p = m[1];
        if (p.includes('*')) continue;
        expect(existsSync(path.join(repoRoot(), p)), `${where}: ${p}`).toBe(true);
        if (p.startsWith('.ci/')) expect(statSync(path.join(repoRoot(), p)).mode & 0o111, `${p} is executable`).toBeTruthy();
      }
    }
  });

  it('test the umbrella on kind with Helm 3 and Helm 4: ct install, upgrade from the previous published version, helm test', () => {
    const lt = workflows().find((w) => w.file === 'lint-test.yaml')!.doc;
    for (const job of ['install', 'upgrade']) expect(lt.jobs[job].strategy.matrix.helm.map((v: string) => v.split('.')[0]).sort(), job).toEqual(['v3', 'v4']);
    const text = JSON.stringify(lt);
    for (const needle of ['helm/kind-action@', 'npm run ct -- lint', 'npm run ct -- install', 'kfc -- previous', 'helm upgrade kubeflow charts/kubeflow', 'helm test kubeflow', '.ci/run']) expect(text, needle).toContain(needle);
    // the wrapper builds the pinned ct with Go (no chart-testing-action's ct) and runs the matrix's helm
    for (const job of ['test', 'lint', 'install'])
      expect(
        lt.jobs[job].steps.some((s: any) => s.uses?.startsWith('actions/setup-go@')),
        `${job} sets up Go`,
      ).toBe(true);
    expect(text).not.toContain('chart-testing-action');
    const ctInstall = lt.jobs.install.steps.find((s: any) => /npm run ct -- install/.test(s.run ?? ''))!.run;
    expect(ctInstall).toContain("--helm ${{ startsWith(matrix.helm, 'v3.') && '3' || '4' }}");
    const rel = JSON.stringify(workflows().find((w) => w.file === 'release.yaml')!.doc);
    for (const needle of ['npm run repo -- --out repo', '--oci', 'cosign sign --yes', 'attest-build-provenance@', 'gh-pages', 'id-token']) expect(rel, needle).toContain(needle);
  });
});
