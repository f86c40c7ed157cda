import { checkbox, input, select } from '@inquirer/prompts';
import type { Asker } from './init-flow.js';

/**
 * The interactive Asker of `kfc init`: Inquirer's prompts (@inquirer/prompts: maintained, typed,
 * ESM, one small package per prompt, and its prompts take their input and output streams, so the
 * tests drive them with keystrokes). Ctrl-C rejects the pending prompt with an ExitPromptError.
 */
export interface PromptStreams {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

export function promptAsker(streams: PromptStreams = {}): Asker {
  const context = { input: streams.input, output: streams.output, clearPromptOnDone: false };
  return {
    select: (s) => select({ message: s.message, choices: s.choices, default: s.default, pageSize: 12 }, context),
    checkbox: (s) => checkbox({ message: s.message, choices: s.choices, pageSize: 30 }, context),
    input: (s) => input({ message: s.message, default: s.default, validate: s.validate }, context),
  };
}

/** Whether an error is the prompts' answer to Ctrl-C (or a closed input). */
export function isPromptExit(e: unknown): boolean {
  const name = (e as Error)?.name;
  return name === 'ExitPromptError' || name === 'AbortPromptError';
}
