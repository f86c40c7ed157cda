#!/usr/bin/env node
// Rewrites the README's command tables from the CLIs' own definitions (npm run docs, after npm run build).
// test/cli.test.ts fails while the README differs from what this writes.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { commandTable } = await import(path.join(root, 'packages/generator/dist/core/command-line.js'));
const { kfcProgram } = await import(path.join(root, 'packages/generator/dist/cli/program.js'));
const { ctProgram } = await import(path.join(root, 'packages/chart-testing/dist/program.js'));
const { replaceCommandTables } = await import(path.join(root, 'packages/generator/dist/cli/readme.js'));

const file = path.join(root, 'README.md');
const before = readFileSync(file, 'utf8');
const after = replaceCommandTables(before, [...commandTable(kfcProgram()), ...commandTable(ctProgram())]);
if (after !== before) writeFileSync(file, after);
console.error(after === before ? 'README.md: command tables up to date' : 'README.md: command tables rewritten');
