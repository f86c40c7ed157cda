import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { pinnedBinary } from '../packages/generator/src/core/toolchain.js';
import { pool } from '../packages/generator/src/core/util.js';

/**
 * kubectl against the test control plane (test/cluster.ts): the real authorizer (`auth can-i`), server-side
 * dry runs, and the fixtures a render needs there (its Namespaces and CRDs), created only where missing and
 * removed again, so a cluster someone else also uses keeps what it had.
 */
export interface Kube {
  kubeconfig: string;
  run(args: string[], input?: string): Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

/** Label of the Namespaces and CRDs a test created (and deletes). */
const FIXTURE_LABEL = 'kubeflow-charts.io/test-fixture';

export function kube(kubeconfig: string): Kube {
  const bin = process.env.KUBECTL_BIN ?? pinnedBinary('v35', 'kubectl');
  return {
    kubeconfig,
    run: async (args, input) => {
      const r = await execa(bin, args, { input, reject: false, env: { KUBECONFIG: kubeconfig }, maxBuffer: 256 * 1024 * 1024 });
      return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

/** `kubectl auth can-i` as `user` (an account: system:serviceaccount:ns:name); `ns` undefined = cluster-scoped, '*' = every namespace. */
export async function canI(k: Kube, user: string, verb: string, resource: string, ns?: string): Promise<boolean> {
  const where = ns === '*' ? ['--all-namespaces'] : ns ? ['-n', ns] : [];
  const r = await k.run(['auth', 'can-i', verb, resource, ...where, `--as=${user}`]);
  if (r.exitCode > 1 || !/^(yes|no)\b/m.test(r.stdout)) throw new Error(`kubectl auth can-i ${verb} ${resource} ${where.join(' ')} --as=${user}: ${r.stderr || r.stdout}`);
  return r.exitCode === 0;
}

/** One question to the authorizer and the answer expected; `why` names it in a failure. */
export interface Ask {
  verb: string;
  resource: string;
  ns?: string;
  allowed: boolean;
  why: string;
}

/** Asks every question of `user` (a few at a time); returns the ones answered otherwise than expected. */
export async function wrongAnswers(k: Kube, user: string, asks: Ask[]): Promise<string[]> {
  const out = await pool(asks, 4, async (a) => ((await canI(k, user, a.verb, a.resource, a.ns)) === a.allowed ? undefined : `${user}: ${a.allowed ? 'cannot' : 'can'} ${a.verb} ${a.resource}${a.ns ? ` in ${a.ns}` : ''} (${a.why})`));
  return out.filter((x): x is string => !!x);
}

/** Documents of a multi-document YAML text (empty ones dropped). */
export function docsOf(text: string): any[] {
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter((d) => d && typeof d === 'object');
}

const toYaml = (docs: unknown[]) => docs.map((d) => YAML.stringify(d)).join('---\n');

async function exists(k: Kube, args: string[]): Promise<boolean> {
  const r = await k.run(['get', ...args, '-o', 'name', '--ignore-not-found']);
  if (r.exitCode !== 0) throw new Error(`kubectl get ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim() !== '';
}

/** The kinds the API server serves, as `group/Kind` ('' group for the core). */
async function servedKinds(k: Kube): Promise<Set<string>> {
  const r = await k.run(['api-resources', '--no-headers']);
  if (r.exitCode !== 0) throw new Error(`kubectl api-resources: ${r.stderr}`);
  // NAME [SHORTNAMES] APIVERSION NAMESPACED KIND: read from the right
  return new Set(
    r.stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        const cols = l.trim().split(/\s+/);
        const apiVersion = cols[cols.length - 3];
        return `${apiVersion.includes('/') ? apiVersion.split('/')[0] : ''}/${cols[cols.length - 1]}`;
      }),
  );
}

const groupKind = (d: any) => `${String(d.apiVersion).includes('/') ? String(d.apiVersion).split('/')[0] : ''}/${d.kind}`;

/** Every CRD of the built charts (`<charts>/<chart>/crds/*.yaml`): what a render's custom resources need. */
export function crdCatalogue(chartsDir: string): any[] {
  const out: any[] = [];
  for (const chart of readdirSync(chartsDir)) {
    const crds = path.join(chartsDir, chart, 'crds');
    if (!existsSync(crds)) continue;
    for (const f of readdirSync(crds)) out.push(...docsOf(readFileSync(path.join(crds, f), 'utf8')).filter((d) => d.kind === 'CustomResourceDefinition'));
  }
  return out;
}

/**
 * Creates what `docs` need and the cluster lacks: their Namespaces, and the CRDs (from `catalogue` and the docs
 * themselves) of the custom resources among them that the API server does not serve yet. Returns a cleanup
 * deleting exactly what it created (and the objects `track` is later given). A custom resource no CRD of the
 * catalogue defines is an error. Created objects carry the label kubeflow-charts.io/test-fixture.
 */
export async function fixtures(k: Kube, docs: any[], extraNamespaces: string[] = [], catalogue: any[] = []): Promise<{ track: (docs: any[]) => void; cleanup: () => Promise<void> }> {
  const created: any[] = [];
  const tracked: any[] = [];
  const namespaces = [...new Set([...extraNamespaces, ...docs.map((d) => d.metadata?.namespace).filter(Boolean)])];
  for (const ns of namespaces) {
    if (await exists(k, ['namespace', ns])) continue;
    const doc = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { [FIXTURE_LABEL]: 'true' } } };
    const r = await k.run(['create', '-f', '-'], YAML.stringify(doc));
    if (r.exitCode !== 0) throw new Error(`creating Namespace ${ns}: ${r.stderr}`);
    created.push(doc);
  }
  const served = await servedKinds(k);
  const crds = [...docs.filter((d) => d.kind === 'CustomResourceDefinition'), ...catalogue];
  const missing = new Map<string, any>();
  for (const d of docs) {
    if (served.has(groupKind(d))) continue;
    const crd = crds.find((c) => `${c.spec.group}/${c.spec.names.kind}` === groupKind(d));
    if (!crd) throw new Error(`${d.kind} ${d.metadata?.name}: the API server does not serve ${d.apiVersion} ${d.kind} and no chart has its CRD`);
    missing.set(crd.metadata.name, { ...crd, metadata: { ...crd.metadata, labels: { ...crd.metadata.labels, [FIXTURE_LABEL]: 'true' } } });
  }
  if (missing.size) {
    const r = await k.run(['create', '-f', '-'], toYaml([...missing.values()]));
    if (r.exitCode !== 0) throw new Error(`creating CRDs: ${r.stderr}`);
    created.push(...missing.values());
    await waitEstablished((a) => k.run(a), [...missing.keys()]);
  }
  return {
    track: (more) => tracked.push(...more),
    cleanup: async () => {
      if (tracked.length) await k.run(['delete', '--ignore-not-found', '--wait=false', '-f', '-'], toYaml(tracked));
      // waited for: the next render's fixtures may create the same Namespace, which a terminating one refuses
      for (const d of created.reverse()) await k.run(['delete', d.kind, d.metadata.name, '--ignore-not-found', '--wait=true', '--timeout=180s']);
    },
  };
}

/**
 * `kubectl apply --server-side --dry-run=server` of a render: every object is admitted (schema, defaulting,
 * admission policies) and nothing is stored. Namespaces and CRDs (from `catalogue`) the render needs are
 * created first and removed after. Returns kubectl's complaints (empty when the API server accepts every object).
 */
export async function serverDryRun(k: Kube, rendered: string, what: string, catalogue: any[] = []): Promise<string[]> {
  const docs = docsOf(rendered);
  const { cleanup } = await fixtures(k, docs, [], catalogue);
  try {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-dry-run-')), 'render.yaml');
    writeFileSync(file, toYaml(docs));
    // as Helm 4 applies (server-side, field manager helm): where the chart is installed already, this is what an
    // upgrade to these values sends (fields Helm applied before and the render drops are removed, not merged)
    const r = await k.run(['apply', '--server-side', '--force-conflicts', '--field-manager=helm', '--dry-run=server', '-f', file]);
    return r.exitCode === 0 ? [] : [`${what}: ${r.stderr.trim()}`];
  } finally {
    await cleanup();
  }
}

type Run = (args: string[]) => Promise<{ exitCode?: number; stdout: unknown; stderr: unknown }>;

/**
 * `kubectl wait --for=condition=Established` on CRDs, retried while a CRD has no status yet: kubectl
 * then fails at once (`.status.conditions accessor error: <nil>`) instead of waiting. Any other
 * failure, or the timeout, is an error naming the CRDs.
 */
export async function waitEstablished(run: Run, names: string[], timeoutSeconds = 120): Promise<void> {
  if (!names.length) return;
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const left = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
    const r = await run(['wait', '--for=condition=Established', `--timeout=${left}s`, ...names.map((n) => `customresourcedefinition/${n}`)]);
    if (r.exitCode === 0) return;
    if (!/accessor error: <nil>/.test(String(r.stderr)) || Date.now() > deadline) throw new Error(`CRDs not established (${names.join(', ')}): ${String(r.stderr).trim()}`);
    await new Promise((res) => setTimeout(res, 500));
  }
}
