import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ctProgram } from '../packages/chart-testing/src/program.js';
import { kfcProgram } from '../packages/generator/src/cli/program.js';
import { replaceCommandTables } from '../packages/generator/src/cli/readme.js';
import { commandTable } from '../packages/generator/src/core/command-line.js';
import { repoRoot } from '../packages/generator/src/core/paths.js';

const CLIS = {
  kfc: { bin: path.join(repoRoot(), 'packages/generator/dist/cli.js'), program: kfcProgram },
  'kfc-ct': { bin: path.join(repoRoot(), 'packages/chart-testing/dist/cli.js'), program: () => ctProgram() },
};
type Cli = keyof typeof CLIS;
const run = (cli: Cli, ...args: string[]) => spawnSync(process.execPath, [CLIS[cli].bin, ...args], { encoding: 'utf8' });
const commandsOf = (cli: Cli) =>
  CLIS[cli]
    .program()
    .commands.map((c) => c.name())
    .filter((n) => n !== 'help');

describe('the CLIs explain themselves', () => {
  it("the README's command tables are the CLIs' own definitions", () => {
    const readme = readFileSync(path.join(repoRoot(), 'README.md'), 'utf8');
    const rows = [...commandTable(kfcProgram()), ...commandTable(ctProgram())];
    expect(readme, 'README.md differs from the CLI definitions: run `npm run build && npm run docs`').toBe(replaceCommandTables(readme, rows));
    for (const cli of Object.keys(CLIS) as Cli[]) for (const c of commandsOf(cli)) expect(readme).toContain(`| \`${cli} ${c}`);
  });

  for (const cli of Object.keys(CLIS) as Cli[]) {
    it(`${cli} --help lists every command; each command has its own help with examples and exit codes`, () => {
      const top = run(cli, '--help');
      expect(top.status).toBe(0);
      expect(run(cli, '-h').stdout).toBe(top.stdout);
      const helps = new Set<string>([top.stdout]);
      for (const c of commandsOf(cli)) {
        expect(top.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
        const h = run(cli, c, '--help');
        expect(h.status, `${cli} ${c} --help`).toBe(0);
        expect(h.stdout).toMatch(new RegExp(`^Usage: ${cli} ${c}\\b`));
        expect(h.stdout).toMatch(/\nExamples:\n {2}\S/);
        expect(h.stdout).toMatch(/\nExit status:\n {2}0 {2}\S[\s\S]* {2}2 {2}usage error/);
        expect(run(cli, 'help', c).stdout, `${cli} help ${c}`).toBe(h.stdout);
        expect(run(cli, c, '-h').stdout).toBe(h.stdout);
        helps.add(h.stdout);
      }
      expect(helps.size, 'every help text is distinct').toBe(commandsOf(cli).length + 1);
    });

    it(`${cli}: usage errors are one line on stderr, exit 2, no stack trace`, () => {
      const first = commandsOf(cli)[0];
      for (const args of [[first, '--bogus'], ['bogus'], ['help', 'bogus'], [first, 'extra-argument']]) {
        const r = run(cli, ...args);
        expect(r.status, `${cli} ${args.join(' ')}`).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
        expect(r.stderr).toMatch(new RegExp(`^${cli}\\b.*(unknown|too many)`));
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
      // no command: the overview, on stderr, as a usage error
      const none = run(cli);
      expect(none.status).toBe(2);
      expect(none.stderr).toContain(`Usage: ${cli}`);
    });
  }

  it('kfc options belong to their command: one meant for another command is refused, not ignored', () => {
    for (const args of [
      ['build', '--oci', 'x'],
      ['validate', 'kubeflow', '-f', 'v.yaml', '--engine', 'helm4'],
      ['diff', 'a', 'b', '--out', 'x'],
      ['repo', '--chart-dirs', 'x'],
    ]) {
      const r = run('kfc', ...args);
      expect(r.status, `kfc ${args.join(' ')}`).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^kfc ${args[0]}: unknown option '${args.find((a) => a.startsWith('-') && a !== '-f')}'`));
    }
    expect(run('kfc', 'build', '--bogus').stderr).toBe("kfc build: unknown option '--bogus' (see kfc build --help)\n");
    expect(run('kfc-ct', 'lint', '--charts', 'x').status).toBe(2);
  });

  it('kfc refuses values options cannot take, and options that need each other, as usage errors', () => {
    const cases: Array<[string[], RegExp]> = [
      [['plan', '--engine', 'helm2'], /"helm2" is not one of helm3, helm4, argocd/],
      [['repo', '--oci', 'oci://r/x', '--url', 'https://x'], /'--url <url>' cannot be used with option '--oci <ref>'/],
      [['repo', '--digests', 'd.txt'], /--digests applies only with --oci/],
      [['validate', 'kubeflow'], /required option '-f, --values <file>' not specified/],
      [['previous'], /required option '--index <file>' not specified/],
      [['diff', '26.03'], /missing required argument 'to'/],
    ];
    for (const [args, msg] of cases) {
      const r = run('kfc', ...args);
      expect(r.status, `kfc ${args.join(' ')}`).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });

  it('a failure (not a usage error) is the message and its hint, exit 1, no stack trace', () => {
    const r = run('kfc', 'validate', 'kubeflow', '-f', '/nonexistent/values.yaml');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^kfc: cannot read values file \/nonexistent\/values\.yaml.*\n {2}-> check the path given with -f\n$/);
  });
});
