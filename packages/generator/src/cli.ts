#!/usr/bin/env node
import { runProgram } from './core/command-line.js';
import { kfcProgram } from './cli/program.js';

function stats(): void {
  if (process.env.KFC_STATS) process.stderr.write(`kfc-stats ${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS })}\n`);
}

runProgram(kfcProgram(), process.argv.slice(2)).then((code) => {
  stats();
  process.exit(code);
});
