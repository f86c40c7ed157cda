import { Option } from 'commander';
import { defineCommand, repeatable } from '../core/command-line.js';

export const initCommand = defineCommand({
  name: 'init',
  summary: 'ask how your cluster looks, write values.yaml and what your delivery (helm, Argo CD, Flux) needs',
  description: `Ask the questions of components/_shared/init.yaml (components, identity, database and object
store, ingress, mesh, cert-manager and Istio, image mirror, delivery), each with the default a
newcomer should take, then write values.yaml (only what differs from the defaults, commented,
validated against the umbrella's schema and rendered first), kfc-init.yaml (the answers), and the
helm script, Argo CD Application or Flux objects; print the readiness check. Nothing is
overwritten without --force, and an interrupted run (Ctrl-C) writes nothing.`,
  options: [
    new Option('--out <dir>', 'where to write (default: the current directory)'),
    new Option('--charts <dir>', 'the built charts (default: charts/)'),
    new Option('--force', 'overwrite files that exist'),
    new Option('--answers <file>', 'take the answers from this YAML file (kfc-init.yaml of an earlier run) instead of asking'),
    repeatable('--answer <name=value>', 'one answer, over those of --answers (repeatable)'),
    new Option('--defaults', 'take every default without asking'),
  ],
  examples: [
    ['init', 'ask, then write values.yaml and the delivery files here'],
    ['init --defaults --out my-cluster', 'the defaults, without asking'],
    ['init --answers kfc-init.yaml --answer delivery=flux --force', 'the same answers, delivered with Flux'],
  ],
  exitCodes: [
    [0, 'files written'],
    [1, 'an answer or the values it makes were refused, or a file exists (see --force)'],
    [130, 'interrupted: nothing written'],
  ],
  run: async (o: { out?: string; charts?: string; force?: boolean; answers?: string; answer?: string[]; defaults?: boolean }) => {
    const { runInit } = await import('../commands/init.js');
    return runInit(o);
  },
});
