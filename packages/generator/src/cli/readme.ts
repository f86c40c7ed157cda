import { KfcError } from '../core/errors.js';

export const BEGIN = '<!-- commands: generated from the CLI definitions by `npm run docs`; test/cli.test.ts checks it -->';
export const END = '<!-- end of commands -->';

/** The README with the text between BEGIN and END replaced by the command table `rows`. */
export function replaceCommandTables(readme: string, rows: string[]): string {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new KfcError(`README.md has no command table between "${BEGIN}" and "${END}"`, 'restore the markers around the "Commands" table');
  const table = ['| command | options | what it does |', '| --- | --- | --- |', ...rows].join('\n');
  return `${readme.slice(0, a + BEGIN.length)}\n${table}\n${readme.slice(b)}`;
}
