import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { KfcError } from '@kubeflow-charts/generator/core/errors';
import { ensureGoTool, toolPins } from '@kubeflow-charts/generator/core/go-tools';
import { pinnedBinary } from '@kubeflow-charts/generator/core/toolchain';
import { ensureBuilt } from './build.js';
import { kwokConfig } from './kwok.js';

/**
 * A local Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver (RBAC, ServiceAccount
 * tokens, every built-in admission plugin but the webhook ones), kube-controller-manager,
 * kube-scheduler, kwok (one simulated node; simulated pods: Running/Ready with an IP) and
 * kfc-node (runs the charts' own Jobs on this host, binds volumes). All of it lives in one
 * state directory; `down` stops exactly the processes recorded there and removes it.
 */
export interface ClusterState {
  dir: string;
  kubeconfig: string;
  apiPort: number;
  etcdPort: number;
  /** each process we started: its pid and executable */
  pids: Record<string, { pid: number; exe: string }>;
  started: string;
  kubernetes: string;
}

export const NODE_NAME = 'kfc-node';
export const SERVICE_CIDR = '10.96.0.0/16';

export function stateDir(): string {
  return process.env.KFC_CLUSTER_DIR ? path.resolve(process.env.KFC_CLUSTER_DIR) : path.join(os.tmpdir(), 'kubeflow-charts-cluster');
}

const STATE_FILE = (dir: string) => path.join(dir, 'state.json');

export function readState(dir = stateDir()): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(STATE_FILE(dir), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Whether the process is alive and still runs the binary we started (a recycled pid is not ours). */
export function ours(p: { pid: number; exe: string }): boolean {
  try {
    return readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0')[0] === p.exe;
  } catch {
    return false;
  }
}

export function running(state = readState()): boolean {
  return !!state && Object.values(state.pids).length > 0 && Object.values(state.pids).every(ours);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function kubeconfig(file: string, server: string, pki: string, user: string): void {
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: kubeflow-charts
  cluster:
    server: ${server}
    certificate-authority: ${path.join(pki, 'ca.crt')}
users:
- name: ${user}
  user:
    client-certificate: ${path.join(pki, `${user}.crt`)}
    client-key: ${path.join(pki, `${user}.key`)}
contexts:
- name: kubeflow-charts
  context:
    cluster: kubeflow-charts
    user: ${user}
current-context: kubeflow-charts
`,
    { mode: 0o600 },
  );
}

function start(name: string, bin: string, args: string[], dir: string, env: NodeJS.ProcessEnv = process.env): { pid: number; exe: string } {
  const log = openSync(path.join(dir, 'logs', `${name}.log`), 'a');
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', log, log], env });
  child.unref();
  if (!child.pid) throw new KfcError(`cannot start ${name} (${bin})`, `see ${path.join(dir, 'logs', `${name}.log`)}`);
  return { pid: child.pid, exe: bin };
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** GET on the API server with the admin certificate; resolves the status code (0: no answer). */
function apiGet(state: Pick<ClusterState, 'apiPort' | 'dir'>, p: string): Promise<number> {
  const pki = path.join(state.dir, 'pki');
  return new Promise((resolve) => {
    const req = https.get(
      { host: '127.0.0.1', port: state.apiPort, path: p, ca: readFileSync(path.join(pki, 'ca.crt')), cert: readFileSync(path.join(pki, 'admin.crt')), key: readFileSync(path.join(pki, 'admin.key')), timeout: 5000 },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

async function waitFor(what: string, state: ClusterState, deadline: number, check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) {
    const dead = Object.entries(state.pids).find(([, p]) => !ours(p));
    if (dead) throw new KfcError(`${dead[0]} exited while waiting for ${what}`, `see ${path.join(state.dir, 'logs', `${dead[0]}.log`)}`);
    if (Date.now() > deadline) throw new KfcError(`timed out waiting for ${what}`, `see the logs in ${path.join(state.dir, 'logs')}`);
    await sleep(250);
  }
}

export function kubectlBin(): string {
  return process.env.KUBECTL_BIN || pinnedBinary('v35', 'kubectl');
}

/** Runs the pinned kubectl against the control plane. */
export async function kubectl(state: ClusterState, args: string[], input?: string): Promise<string> {
  const r = await execa(kubectlBin(), ['--kubeconfig', state.kubeconfig, ...args], { input, reject: false });
  if (r.exitCode !== 0) throw new KfcError(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

function apiserverArgs(dir: string, pki: string, apiPort: number, etcdPort: number): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    `--tls-cert-file=${pki}/apiserver.crt`,
    `--tls-private-key-file=${pki}/apiserver.key`,
    `--client-ca-file=${pki}/ca.crt`,
    '--authorization-mode=RBAC',
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    `--service-account-key-file=${pki}/sa.pub`,
    `--service-account-signing-key-file=${pki}/sa.key`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    // no workload image runs here, so no admission webhook can answer: the kind workflow covers them
    '--disable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook',
    '--allow-privileged=true',
    // the kubernetes Service cannot have a loopback endpoint; pods reach the API at KUBERNETES_SERVICE_HOST
    '--endpoint-reconciler-type=none',
    '--enable-priority-and-fairness=false',
    `--cert-dir=${dir}/apiserver`,
    '--v=1',
  ];
}

function etcdArgs(dir: string, etcdPort: number, peerPort: number): string[] {
  return [
    '--name=kfc',
    `--data-dir=${dir}/etcd`,
    `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
    `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
    `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-cluster=kfc=http://127.0.0.1:${peerPort}`,
    '--unsafe-no-fsync',
    '--quota-backend-bytes=8589934592',
    '--log-level=warn',
  ];
}

function controllerManagerArgs(dir: string, pki: string): string[] {
  return [
    `--kubeconfig=${dir}/controller-manager.kubeconfig`,
    `--service-account-private-key-file=${pki}/sa.key`,
    `--root-ca-file=${pki}/ca.crt`,
    '--use-service-account-credentials=true',
    '--leader-elect=false',
    '--secure-port=0',
    `--cluster-signing-cert-file=${pki}/ca.crt`,
    `--cluster-signing-key-file=${pki}/ca.key`,
    '--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller',
    '--concurrent-gc-syncs=50',
    '--v=1',
  ];
}

function kwokArgs(dir: string, kwokPort: number): string[] {
  return [
    `--kubeconfig=${dir}/kwok.kubeconfig`,
    `--config=${dir}/kwok.yaml`,
    '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
    '--cidr=10.244.0.0/16',
    '--node-ip=127.0.0.1',
    '--node-lease-duration-seconds=40',
    `--server-address=127.0.0.1:${kwokPort}`,
  ];
}

/** Starts the control plane (building it first if needed) and waits until it is ready. */
export async function up(log: (m: string) => void = () => {}, dir = stateDir()): Promise<{ state: ClusterState; already: boolean }> {
  const existing = readState(dir);
  if (existing && running(existing)) return { state: existing, already: true };
  if (existing) await down(dir);
  const t0 = Date.now();
  const bins = ensureBuilt(log);
  const kwok = ensureGoTool('kwok');
  mkdirSync(path.join(dir, 'logs'), { recursive: true, mode: 0o755 });
  const pki = path.join(dir, 'pki');
  const node = bins['kfc-node'];
  await execa(node, ['pki', '--dir', pki, '--service-ip', '10.96.0.1']);
  const [apiPort, etcdPort, peerPort, kwokPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const server = `https://127.0.0.1:${apiPort}`;
  for (const user of ['admin', 'controller-manager', 'scheduler', 'kwok', 'kfc-node']) kubeconfig(path.join(dir, `${user}.kubeconfig`), server, pki, user);
  // the pods' commands: the pinned kubectl first, then the host's tools
  const podBin = path.join(dir, 'bin');
  mkdirSync(podBin, { recursive: true, mode: 0o755 });
  copyFileSync(kubectlBin(), path.join(podBin, 'kubectl'));
  writeFileSync(path.join(dir, 'kwok.yaml'), await kwokConfig());
  const state: ClusterState = { dir, kubeconfig: path.join(dir, 'admin.kubeconfig'), apiPort, etcdPort, pids: {}, started: new Date().toISOString(), kubernetes: toolPins().controlplane.kubernetes };
  const save = () => writeFileSync(STATE_FILE(dir), JSON.stringify(state, null, 2));
  save();
  state.pids.etcd = start('etcd', bins.etcd, etcdArgs(dir, etcdPort, peerPort), dir);
  save();
  state.pids['kube-apiserver'] = start('kube-apiserver', bins['kube-apiserver'], apiserverArgs(dir, pki, apiPort, etcdPort), dir);
  save();
  const deadline = Date.now() + 180_000;
  await waitFor('the API server', state, deadline, async () => (await apiGet(state, '/readyz')) === 200);
  state.pids['kube-controller-manager'] = start('kube-controller-manager', bins['kube-controller-manager'], controllerManagerArgs(dir, pki), dir);
  state.pids['kube-scheduler'] = start('kube-scheduler', bins['kube-scheduler'], [`--kubeconfig=${dir}/scheduler.kubeconfig`, '--leader-elect=false', '--secure-port=0', '--v=1'], dir);
  state.pids.kwok = start('kwok', kwok, kwokArgs(dir, kwokPort), dir);
  state.pids['kfc-node'] = start(
    'kfc-node',
    node,
    [`--kubeconfig=${dir}/kfc-node.kubeconfig`, `--state-dir=${dir}`, `--ca-file=${pki}/ca.crt`, '--api-host=127.0.0.1', `--api-port=${apiPort}`, `--path=${podBin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`],
    dir,
  );
  save();
  await kubectl(state, ['apply', '--server-side', '-f', '-'], nodeAndStorage());
  await waitFor('the node to be Ready', state, deadline, async () => {
    const out = await kubectl(state, ['get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']).catch(() => '');
    return out === 'True';
  });
  await waitFor('the default ServiceAccount and kube-root-ca.crt', state, deadline, async () => {
    const sa = await kubectl(state, ['-n', 'default', 'get', 'serviceaccount/default', 'configmap/kube-root-ca.crt', '-o', 'name']).catch(() => '');
    return sa.split('\n').length === 2;
  });
  log(`control plane ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (Kubernetes ${state.kubernetes}, API ${server})`);
  return { state, already: false };
}

function nodeAndStorage(): string {
  return `apiVersion: v1
kind: Node
metadata:
  name: ${NODE_NAME}
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: ${NODE_NAME}
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    node-role.kubernetes.io/worker: ""
    type: kwok
status:
  allocatable: {cpu: "256", memory: 1Ti, pods: "1000", ephemeral-storage: 1Ti}
  capacity: {cpu: "256", memory: 1Ti, pods: "1000", ephemeral-storage: 1Ti}
  nodeInfo: {architecture: amd64, operatingSystem: linux, kubeletVersion: fake, kubeProxyVersion: fake, containerRuntimeVersion: fake}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubeflow-charts.io/host-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
`;
}

/** Stops the processes this state directory recorded (only those) and removes the directory. */
export async function down(dir = stateDir()): Promise<boolean> {
  const state = readState(dir);
  if (!state) {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    return false;
  }
  const order = ['kfc-node', 'kwok', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'];
  for (const name of order) {
    const p = state.pids[name];
    if (!p || !ours(p)) continue;
    const pid = p.pid;
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    for (let i = 0; i < 40 && ours(p); i++) await sleep(250);
    if (ours(p)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
  return true;
}

export function envLines(state: ClusterState): string {
  return `export KUBECONFIG=${state.kubeconfig}\n`;
}
