import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { program } from '../core/command-line.js';
import { KFC_COMMANDS } from './commands.js';

const version = (): string => JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

/** The kfc program: every command of KFC_COMMANDS with its help. */
export function kfcProgram(): Command {
  return program('kfc', 'Helm charts for Kubeflow, generated from the upstream manifests release', KFC_COMMANDS, version());
}
