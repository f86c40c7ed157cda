#!/usr/bin/env node
import { isKfcError } from '@kubeflow-charts/generator/core/errors';
import { pin, ensureBuilt } from './build.js';
import { down, envLines, readState, running, stateDir, up } from './cluster.js';
import { setup } from './setup.js';

const USAGE = `kfc-cluster: a local Kubernetes control plane built from upstream source

Usage: npm run cluster -- <command>

Commands:
  up       build (first time: minutes) or reuse the control plane, start it on 127.0.0.1 and wait until
           it is ready; prints the export KUBECONFIG=... line. Says so when one already runs.
  down     stop the processes of the running control plane (only its own) and remove its data
  status   whether it runs, its API address and Kubernetes version
  env      the export KUBECONFIG=... line of the running control plane
  build    build the binaries only (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kfc-node)
  pin      regenerate tools/controlplane/go.mod and go.sum from the pins in packages/generator/tools.lock.json
  setup    install or find every tool the tests use (helm 3/4, kubectl, the control plane, kwok, ct,
           yamllint, yamale, an OCI registry) and say where each came from

The data directory is ${stateDir()} ($KFC_CLUSTER_DIR). Admission webhooks are disabled: no
workload image runs here, so no webhook server could answer.

Exit codes: 0 ok, 1 failure, 2 usage error.
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const log = (m: string) => console.error(m);
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE);
    return cmd ? 0 : 2;
  }
  if (rest.length && !(rest.length === 1 && (rest[0] === '--help' || rest[0] === '-h'))) {
    console.error(`kfc-cluster ${cmd}: unexpected argument ${rest[0]} (see npm run cluster -- --help)`);
    return 2;
  }
  if (rest.length) {
    process.stdout.write(USAGE);
    return 0;
  }
  switch (cmd) {
    case 'up': {
      const { state, already } = await up(log);
      if (already) log(`a control plane already runs (since ${state.started}, API https://127.0.0.1:${state.apiPort}); \`npm run cluster -- down\` stops it`);
      process.stdout.write(envLines(state));
      return 0;
    }
    case 'down': {
      log((await down()) ? 'control plane stopped and its data removed' : 'no control plane was running');
      return 0;
    }
    case 'status': {
      const state = readState();
      if (!state || !running(state)) {
        process.stdout.write(`not running (${stateDir()})\n`);
        return 1;
      }
      process.stdout.write(`running since ${state.started}: Kubernetes ${state.kubernetes}, API https://127.0.0.1:${state.apiPort}, data ${state.dir}\n`);
      return 0;
    }
    case 'env': {
      const state = readState();
      if (!state || !running(state)) {
        console.error('no control plane is running: npm run cluster -- up');
        return 1;
      }
      process.stdout.write(envLines(state));
      return 0;
    }
    case 'build':
      process.stdout.write(`${Object.values(ensureBuilt(log)).join('\n')}\n`);
      return 0;
    case 'pin':
      pin(log);
      return 0;
    case 'setup':
      await setup(log);
      return 0;
    default:
      console.error(`kfc-cluster: unknown command ${cmd} (see npm run cluster -- --help)`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(isKfcError(e) ? `kfc-cluster: ${e.format()}` : e);
    process.exit(1);
  },
);
