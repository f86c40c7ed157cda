#!/usr/bin/env node
import { runProgram } from '@kubeflow-charts/generator/core/command-line';
import { ctProgram } from './program.js';

// what follows `--` goes to ct unchanged
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
runProgram(ctProgram(dash < 0 ? [] : argv.slice(dash + 1)), dash < 0 ? argv : argv.slice(0, dash)).then((code) => process.exit(code));
