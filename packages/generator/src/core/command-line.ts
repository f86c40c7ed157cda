import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { isKfcError } from './errors.js';

/**
 * The conventions `kfc` and `kfc-ct` share, on commander (maintained, typed, per-command help,
 * exitOverride): `-h/--help` and `help <command>` everywhere, each command with its own help,
 * examples and exit codes, options scoped to their command, and usage errors in one line on
 * stderr with exit status 2 (never a stack trace). A command's action returns its exit status.
 */

/** Exit statuses every command shares; a command may add its own (kfc-ct: 3 skipped). */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface CommandSpec {
  /** `name <arg> [arg]`, as commander's `.command()` takes it */
  name: string;
  /** one line, for the command list */
  summary: string;
  /** what the command does, for its own help (defaults to the summary) */
  description?: string;
  options?: Option[];
  /** `[command line, what it does]` */
  examples: Array<[string, string]>;
  /** `[status, meaning]`; usage errors (2) are added */
  exitCodes: Array<[number, string]>;
  /** the action: positional arguments, then the parsed options; returns the exit status */
  run: (...args: never[]) => Promise<number> | number;
}

/** What a command's action returned, per program (commander discards action results). */
const status = new WeakMap<Command, number>();

function root(c: Command): Command {
  return c.parent ? root(c.parent) : c;
}

function helpSections(spec: CommandSpec, bin: string): string {
  const width = Math.max(...spec.examples.map(([cmd]) => cmd.length + bin.length + 1));
  const ex = spec.examples.map(([cmd, what]) => `  ${`${bin} ${cmd}`.padEnd(width)}   ${what}`);
  const codes = [...spec.exitCodes, [EXIT_USAGE, 'usage error (unknown option, missing or extra argument)'] as [number, string]].sort((a, b) => a[0] - b[0]);
  return `\nExamples:\n${ex.join('\n')}\n\nExit status:\n${codes.map(([c, what]) => `  ${c}  ${what}`).join('\n')}`;
}

/** A command from its spec: help with examples and exit codes; the action's status is kept for `runProgram`. */
export function defineCommand(spec: CommandSpec): (bin: string) => Command {
  return (bin) => {
    const c = new Command(spec.name.split(' ')[0]);
    const args = spec.name.split(' ').slice(1);
    for (const a of args) c.argument(a);
    // paragraphs are separated by blank lines; commander wraps them to the terminal
    c.summary(spec.summary).description((spec.description ?? spec.summary).replace(/(?<!\n)\n(?!\n)/g, ' '));
    for (const o of spec.options ?? []) c.addOption(o);
    c.addHelpText('after', helpSections(spec, bin));
    c.action(async (...a: unknown[]) => {
      // commander passes the declared arguments, then the options, then the command
      const run = spec.run as (...x: unknown[]) => Promise<number> | number;
      status.set(root(c), await run(...a.slice(0, args.length + 1)));
    });
    return c;
  };
}

/** A repeatable option (`-f a -f b`): its values in order; with `choices`, each must be one of them. */
export function repeatable(flags: string, description: string, choices?: readonly string[]): Option {
  return new Option(flags, description).argParser((v: string, prev: string[] | undefined) => {
    if (choices && !choices.includes(v)) throw new InvalidArgumentError(`"${v}" is not one of ${choices.join(', ')}.`);
    return [...(prev ?? []), v];
  });
}

/** Raised by an action for a usage mistake commander cannot see (options that exclude each other, ...): exit 2, one line. */
export class UsageError extends Error {}

function sameSettings(c: Command, bin: string): void {
  c.exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({ outputError: () => {} });
  c.helpOption('-h, --help', c.parent ? 'show this help' : `show help (for a command: ${bin} <command> --help)`);
  for (const sub of c.commands) sameSettings(sub, bin);
}

/** The program `bin`: its commands, `-h/--help`, `help <command>`. */
export function program(bin: string, description: string, commands: Array<(bin: string) => Command>, version?: string): Command {
  const p = new Command(bin).description(description);
  if (version) p.version(version, '-V, --version', 'print the version');
  p.helpCommand('help [command]', 'show help for a command');
  for (const make of commands) p.addCommand(make(bin));
  p.addHelpText('after', `\nRun \`${bin} help <command>\` (or \`${bin} <command> --help\`) for a command's options, examples and exit codes.`);
  sameSettings(p, bin);
  return p;
}

function oneLine(s: string): string {
  return s
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/** Where the mistake is, for the message: `kfc build` (the deepest command named on the line). */
function commandPath(p: Command, argv: string[]): string {
  const names = [p.name()];
  let c = p;
  for (const a of argv) {
    const sub = c.commands.find((s) => s.name() === a || s.aliases().includes(a));
    if (!sub) break;
    names.push(sub.name());
    c = sub;
  }
  return names.join(' ');
}

/**
 * Runs the program on `argv` (without node and the script) and returns the exit status:
 * the action's; 0 for help and version; 2 for a usage error, printed in one line on
 * stderr; 1 for a failure (a KfcError: its message and hint; anything else: a bug, with its stack).
 */
export async function runProgram(p: Command, argv: string[]): Promise<number> {
  const bin = p.name();
  try {
    if (argv[0] === 'help' && argv[1] && !p.commands.some((c) => c.name() === argv[1])) p.error(`unknown command '${argv[1]}'`);
    await p.parseAsync(argv, { from: 'user' });
    return status.get(p) ?? EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT_OK;
      // `help <command>`: 0; no command given: the help went to stderr, a usage error
      if (e.code === 'commander.help') return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
      process.stderr.write(`${commandPath(p, argv)}: ${oneLine(e.message)} (see ${commandPath(p, argv)} --help)\n`);
      return EXIT_USAGE;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`${commandPath(p, argv)}: ${oneLine(e.message)} (see ${commandPath(p, argv)} --help)\n`);
      return EXIT_USAGE;
    }
    if (isKfcError(e)) process.stderr.write(`${bin}: ${e.format()}\n`);
    else process.stderr.write(`${bin}: unexpected error: ${(e as Error)?.stack ?? e}\n`);
    return EXIT_FAILED;
  }
}

/** Markdown rows `| usage | options | what |` of a program's commands, for the README (test/cli.test.ts keeps it true). */
export function commandTable(p: Command): string[] {
  return p.commands
    .filter((c) => c.name() !== 'help')
    .map((c) => {
      const args = c.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`)).join(' ');
      const opts = c.options.map((o) => `\`${o.flags}\``).join(', ');
      return `| \`${[p.name(), c.name(), args].filter(Boolean).join(' ')}\` | ${opts} | ${c.summary()} |`;
    });
}
