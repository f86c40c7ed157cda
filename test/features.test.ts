import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { build } from '../packages/generator/src/commands/build.js';
import { helmRun, templateArgs } from '../packages/generator/src/core/helm.js';
import { UMBRELLA } from '../packages/generator/src/core/chart-model.js';
import { helmTemplate } from '../packages/generator/src/core/helm.js';
import { silentLogger } from '../packages/generator/src/core/log.js';
import { parseYaml, splitObjects, type KObject } from '../packages/generator/src/core/model.js';
import { checkExpectation, stringsOf } from '../packages/generator/src/features/expect.js';
import { loadFeatures, loadSharedFeatures } from '../packages/generator/src/features/contract.js';
import { cleanupCopies, copyOf } from './fixtures.js';
import { chartsFor, lockFor, PINNED } from './releases.js';
import { render } from './renders.js';

afterAll(cleanupCopies);

/** Credentials the upstream example ships (decoded where they sit in Secrets). */
const WELL_KNOWN = [
  '$2y$12$4K/VkmDd1q1Orb3xAt82zu8gk7Ad6ReFR4LCP9UeYE90NLiN9Df72', // Dex static user's hash (12341234)
  'pUBnBOY80SnXgjibTYM9ZWNzY2xreNGQok', // OIDC client secret of Dex and oauth2-proxy
  '7d16fee92f8d11b8940b081b3f8b8acb', // oauth2-proxy cookie secret
  'minio123', // Pipelines object store secret key
  'MYSQL_ALLOW_EMPTY_PASSWORD',
];
/** Upstream's Secrets holding those credentials: never rendered without devMode. */
const WELL_KNOWN_SECRETS = ['mysql-secret', 'mlpipeline-minio-artifact', 'katib-mysql-secrets', 'model-registry-db-secrets', 'metadata-registry-db-secrets', 'dex-passwords', 'dex-oidc-client', 'oauth2-proxy'];
const isWellKnownSecret = (o: KObject) => o.kind === 'Secret' && WELL_KNOWN_SECRETS.some((n) => o.name === n || new RegExp(`^${n}-[a-z0-9]{10}$`).test(o.name));

const umbrella = (tag: string) => path.join(chartsFor(tag), 'kubeflow');
/** The umbrella's ci file enabling every component. */
function allComponents(tag: string): string {
  const f = readdirSync(path.join(umbrella(tag), 'ci')).find((x) => x.endsWith('-all-components-values.yaml'));
  if (!f) throw new Error(`no all-components ci file for ${tag}`);
  return path.join(umbrella(tag), 'ci', f);
}

describe(`no well-known credential by default, ${PINNED}`, () => {
  it("the umbrella with every component renders none of upstream's credentials, twice byte-identical; devMode renders them", async () => {
    const tag = PINNED;
    const values = [allComponents(tag)];
    const rendered = await render(umbrella(tag), { values });
    // a second helm process, outside the render matrix
    const again = await helmRun(templateArgs(umbrella(tag), { release: UMBRELLA, namespace: 'kubeflow', includeCrds: true, valuesFiles: values }));
    expect(again.exitCode, again.stderr).toBe(0);
    expect(rendered.text === again.stdout, 'two renders with the same values are byte-identical (Argo CD stays in sync)').toBe(true);
    const objs = rendered.objects;
    const found = objs.flatMap((o) => WELL_KNOWN.filter((w) => stringsOf(o).some((s) => s.includes(w))).map((w) => `${o.key}: ${w}`));
    expect(found).toEqual([]);
    expect(objs.filter(isWellKnownSecret).map((o) => o.key)).toEqual([]);
    // the generated path: one hook Job per chart with credentials, naming the Secrets it creates
    const jobs = objs
      .filter((o) => o.kind === 'Job' && /-secrets-[0-9a-f]{8}$/.test(o.name))
      .map((o) => o.name.replace(/-[0-9a-f]{8}$/, ''))
      .sort();
    expect(jobs).toEqual(expect.arrayContaining(['kubeflow-dex-secrets', 'kubeflow-katib-secrets', 'kubeflow-oauth2-proxy-secrets', 'kubeflow-pipelines-secrets']));

    // the same render in devMode carries each of them: the checks above can fail
    const dev = (await render(umbrella(tag), { values, set: ['global.devMode=true'] })).objects;
    for (const w of WELL_KNOWN)
      expect(
        dev.some((o) => stringsOf(o).some((s) => s.includes(w))),
        w,
      ).toBe(true);
    expect(dev.filter(isWellKnownSecret).length).toBeGreaterThan(0);
  });
});

/**
 * A tiny Kubernetes API on 127.0.0.1, enough for the secrets Job: Secrets in existing namespaces (a missing one
 * is a 404 as Kubernetes answers), the admission policy `guard` refusing Secrets the Job does not own (when
 * `policy`), RoleBindings to delete. Namespaces cannot be created.
 */
async function fakeApi(o: { seed?: Record<string, Record<string, string>>; namespaces?: string[]; policy?: boolean } = {}) {
  const namespaces = new Set([...(o.namespaces ?? ['auth', 'kubeflow', 'oauth2-proxy', 'kubeflow-charts']), ...Object.keys(o.seed ?? {}).map((k) => k.split('/')[0])]);
  const secrets = new Map<string, any>(
    Object.entries(o.seed ?? {}).map(([k, data]) => [
      k,
      { type: 'Opaque', metadata: { name: k.split('/')[1], namespace: k.split('/')[0] }, data: Object.fromEntries(Object.entries(data).map(([x, v]) => [x, Buffer.from(v).toString('base64')])) },
    ]),
  );
  const bindings = new Set<string>();
  const calls: string[] = [];
  let guard = '';
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      calls.push(`${req.method} ${req.url}`);
      const send = (code: number, obj: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(obj));
      const [url, query] = (req.url ?? '').split('?');
      const sec = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/.exec(url);
      const rb = /^\/apis\/rbac\.authorization\.k8s\.io\/v1\/namespaces\/([^/]+)\/rolebindings\/([^/]+)$/.exec(url);
      if (sec && !namespaces.has(sec[1])) return send(404, { reason: 'NotFound', message: `namespaces "${sec[1]}" not found` });
      if (req.method === 'GET' && sec?.[2]) {
        const s = secrets.get(`${sec[1]}/${sec[2]}`);
        return s ? send(200, s) : send(404, {});
      }
      if (req.method === 'POST' && sec && !sec[2]) {
        const obj = JSON.parse(body);
        if (o.policy !== false && obj.metadata.name === 'kubeflow-charts-guard-probe')
          return send(403, { message: `secrets "${obj.metadata.name}" is forbidden: ValidatingAdmissionPolicy '${guard}' with binding '${guard}' denied request` });
        if (query === 'dryRun=All') return send(201, obj);
        const k = `${sec[1]}/${obj.metadata.name}`;
        if (secrets.has(k)) return send(409, {});
        secrets.set(k, obj);
        return send(201, obj);
      }
      if (req.method === 'PATCH' && rb) {
        // the Job empties its binding (a JSON patch removing the subjects); the binding stays a release resource
        if (req.headers['content-type'] !== 'application/json-patch+json' || body.replace(/\s/g, '') !== JSON.stringify([{ op: 'remove', path: '/subjects' }]))
          return send(400, { message: `unexpected patch ${req.headers['content-type']} ${body}` });
        bindings.add(`${rb[1]}/${rb[2]}`);
        return send(200, {});
      }
      send(404, {});
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const value = (ns: string, name: string, key: string) => {
    const d = secrets.get(`${ns}/${name}`)?.data?.[key];
    return d === undefined ? undefined : Buffer.from(d, 'base64').toString('utf8');
  };
  return { url, namespaces, secrets, bindings, calls, value, setGuard: (g: string) => (guard = g), close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** The secrets Jobs of a render in sync-wave order, each with its script and environment. */
function secretsJobs(rendered: string): Array<{ name: string; weight: number; script: string; env: Record<string, string> }> {
  return splitObjects(rendered, 'render')
    .filter((o) => o.kind === 'Job' && /-secrets-[0-9a-f]{8}$/.test(o.name))
    .map((o) => {
      const d = parseYaml(o.raw);
      const c = d.spec.template.spec.containers[0];
      return { name: o.name.replace(/-[0-9a-f]{8}$/, ''), weight: Number(d.metadata.annotations['argocd.argoproj.io/sync-wave']), script: c.args[0], env: Object.fromEntries(c.env.map((e: any) => [e.name, e.value])) };
    })
    .sort((a, b) => a.weight - b.weight || a.name.localeCompare(b.name));
}

/** Runs a Job's script against the fake API (its own environment, as the pod has it). */
async function runJob(job: { script: string; env: Record<string, string> }, api: Awaited<ReturnType<typeof fakeApi>>, extra: Record<string, string> = {}): Promise<{ status: number | null; out: string }> {
  // asynchronously: the fake API is served by this process
  const { execa } = await import('execa');
  api.setGuard(job.env.KFC_GUARD);
  const r = await execa('python3', ['-c', job.script], { env: { PATH: process.env.PATH, ...job.env, KFC_API_URL: api.url, ...extra }, extendEnv: false, reject: false });
  return { status: r.exitCode ?? null, out: `${r.stdout}${r.stderr}` };
}

function bcryptMatches(password: string, hash: string): boolean {
  const r = spawnSync(
    'python3',
    [
      '-c',
      'import ctypes,ctypes.util,sys\nl=ctypes.CDLL(ctypes.util.find_library("crypt") or None)\nl.crypt.restype=ctypes.c_char_p\nl.crypt.argtypes=[ctypes.c_char_p,ctypes.c_char_p]\nprint(l.crypt(sys.argv[1].encode(),sys.argv[2].encode()).decode()==sys.argv[2])',
      password,
      hash,
    ],
    { encoding: 'utf8' },
  );
  return r.stdout.trim() === 'True';
}

describe('the secrets Job against an API server on 127.0.0.1', () => {
  it('checks the admission policy first, creates every Secret once (Opaque), a bcrypt hash Dex accepts and the client secret Dex and oauth2-proxy share, revokes its bindings; keeps them on the next run', async () => {
    const jobs = secretsJobs(await helmTemplate(umbrella(PINNED), { namespace: 'kubeflow-charts' }));
    expect(jobs.map((j) => j.name)).toEqual(['kubeflow-dex-secrets', 'kubeflow-katib-secrets', 'kubeflow-pipelines-secrets', 'kubeflow-oauth2-proxy-secrets']);
    const api = await fakeApi();
    try {
      for (const j of jobs) {
        const from = api.calls.length;
        const r = await runJob(j, api);
        expect(r.status, r.out).toBe(0);
        const mine = api.calls.slice(from);
        // the dry-run probe comes before any Secret is created; every binding of the Job is emptied at the end
        const probe = mine.findIndex((c) => c.endsWith('?dryRun=All'));
        const firstCreate = mine.findIndex((c) => /^POST .*\/secrets$/.test(c));
        expect(probe, j.name).toBeGreaterThanOrEqual(0);
        if (firstCreate >= 0) expect(probe, j.name).toBeLessThan(firstCreate);
        const own = JSON.parse(j.env.KFC_BINDINGS) as string[];
        expect(own.length, j.name).toBeGreaterThan(0);
        for (const b of own) expect(mine, j.name).toContain(`PATCH /apis/rbac.authorization.k8s.io/v1/namespaces/${b.split('/')[0]}/rolebindings/${b.split('/')[1]}`);
      }
      expect(api.calls.filter((c) => /namespaces$/.test(c.split('?')[0]) && c.startsWith('POST'))).toEqual([]);
      expect([...api.secrets.values()].every((s) => s.type === 'Opaque')).toBe(true);
      const password = api.value('auth', 'dex-initial-password', 'password')!;
      expect(password).toMatch(/^[A-Za-z0-9]{24}$/);
      expect(bcryptMatches(password, api.value('auth', 'dex-passwords', 'DEX_USER_PASSWORD')!)).toBe(true);
      const client = api.value('auth', 'dex-oidc-client', 'OIDC_CLIENT_SECRET')!;
      expect(client).toMatch(/^[A-Za-z0-9]{32}$/);
      const proxy = [...api.secrets.keys()].find((k) => k.startsWith('oauth2-proxy/oauth2-proxy-'))!;
      expect(api.value('oauth2-proxy', proxy.split('/')[1], 'client-secret')).toBe(client);
      expect(api.value('oauth2-proxy', proxy.split('/')[1], 'cookie-secret')).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(api.value('kubeflow', 'mysql-secret', 'username')).toBe('root');
      expect(api.value('kubeflow', 'mysql-secret', 'password')).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(api.value('kubeflow', 'mlpipeline-minio-artifact', 'secretkey')).not.toBe('minio123');
      // an upgrade runs the Jobs again: nothing changes
      const before = JSON.stringify([...api.secrets]);
      const posts = api.calls.filter((c) => /^POST .*\/secrets$/.test(c)).length;
      for (const j of jobs) expect((await runJob(j, api)).status).toBe(0);
      expect(JSON.stringify([...api.secrets])).toBe(before);
      expect(api.calls.filter((c) => /^POST .*\/secrets$/.test(c)).length).toBe(posts);
    } finally {
      await api.close();
    }
  });

  it('a Secret the user created is used as it is; one lacking a key the chart reads stops the Job naming it', async () => {
    const [katib] = secretsJobs(await helmTemplate(path.join(chartsFor(PINNED), 'katib'), { release: 'katib' }));
    const mine = await fakeApi({ seed: { 'kubeflow/katib-mysql-secrets': { MYSQL_ROOT_PASSWORD: 'chosen-by-me' } } });
    try {
      expect((await runJob(katib, mine)).status).toBe(0);
      expect(mine.value('kubeflow', 'katib-mysql-secrets', 'MYSQL_ROOT_PASSWORD')).toBe('chosen-by-me');
    } finally {
      await mine.close();
    }
    const wrong = await fakeApi({ seed: { 'kubeflow/katib-mysql-secrets': { password: 'x' } } });
    try {
      const r = await runJob(katib, wrong);
      expect(r.status).not.toBe(0);
      expect(r.out).toContain('Secret kubeflow/katib-mysql-secrets exists but lacks key(s) MYSQL_ROOT_PASSWORD');
    } finally {
      await wrong.close();
    }
    // oauth2-proxy alone, without Dex's Secret to copy from: a clear failure, not a random mismatch
    const [proxy] = secretsJobs((await render('oauth2-proxy')).text);
    expect(proxy).toBeDefined();
    const empty = await fakeApi();
    try {
      const r = await runJob(proxy, empty);
      expect(r.status).not.toBe(0);
      expect(r.out).toMatch(/needs key OIDC_CLIENT_SECRET of Secret auth\/dex-oidc-client, which does not exist/);
    } finally {
      await empty.close();
    }
  });

  it('creates no Namespace: a missing one stops the Job naming it; without the admission policy in effect it creates nothing', async () => {
    const [katib] = secretsJobs(await helmTemplate(path.join(chartsFor(PINNED), 'katib'), { release: 'katib' }));
    const none = await fakeApi({ namespaces: [] });
    try {
      const r = await runJob(katib, none);
      expect(r.status).not.toBe(0);
      expect(r.out).toContain('namespace kubeflow does not exist; install the chart that renders it first');
      expect(none.calls.filter((c) => c.startsWith('POST') && !c.endsWith('?dryRun=All'))).toEqual([]);
    } finally {
      await none.close();
    }
    const unguarded = await fakeApi({ policy: false });
    try {
      const r = await runJob(katib, unguarded, { KFC_GUARD_TRIES: '1' });
      expect(r.status).not.toBe(0);
      expect(r.out).toContain(`the ValidatingAdmissionPolicy ${katib.env.KFC_GUARD} is not in effect (Kubernetes >= 1.30 serves it); refusing to create Secrets unguarded`);
      expect(unguarded.secrets.size).toBe(0);
      expect(unguarded.bindings.size).toBe(0);
    } finally {
      await unguarded.close();
    }
  });
});

describe('features are checked against the release', () => {
  it('a selector that upstream renamed fails the build, naming the feature, the selector and the release', async () => {
    const dir = copyOf('26.03', (d) => {
      const f = path.join(d, 'applications/katib/upstream/components/mysql/mysql.yaml');
      writeFileSync(f, readFileSync(f, 'utf8').replace(/^( {2}name: )katib-mysql$/m, '$1katib-mariadb'));
    });
    const out = path.join(path.dirname(dir), 'charts');
    const e = await build({ lockFile: lockFor('26.03'), upstreamDir: dir, upstreamTag: '26.03', out, logger: silentLogger }).catch((x) => x);
    expect(e?.message).toMatch(/^feature \w+ \(.*components\/katib\/features\/[\w-]+\.yaml\).*: Deployment katib-mysql( container katib-mysql)? matches no object of chart katib in release 26\.03$/m);
  });

  it('shared features name their subject charts; a component feature cannot carry the shared-only keys', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-shared-'));
    const feature = (extra: string) => `name: f\ndescription: d\nwhen: .Values.global.devMode\n${extra}drop:\n  - {kind: Issuer, name: '*'}\n`;
    mkdirSync(path.join(dir, '_shared', 'features'), { recursive: true });
    writeFileSync(path.join(dir, '_shared', 'features', 'f.yaml'), feature(''));
    expect(() => loadSharedFeatures(dir)).toThrow(/f\.yaml: a shared feature names the charts it is about in "needs"/);
    writeFileSync(path.join(dir, '_shared', 'features', 'f.yaml'), feature('needs: [cert-manager]\n'));
    expect(loadSharedFeatures(dir).map((f) => f.needs)).toEqual([['cert-manager']]);
    mkdirSync(path.join(dir, 'katib', 'features'), { recursive: true });
    writeFileSync(path.join(dir, 'katib', 'features', 'f.yaml'), feature('needs: [istio]\n'));
    expect(() => loadFeatures({ name: 'katib', file: path.join(dir, 'katib.yaml') } as any, dir)).toThrow(/feature f declares "needs", which only shared features/);
  });

  it('an expectation that does not hold is reported with the object and path', () => {
    const objs = splitObjects('apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: n\ndata:\n  k: bWluaW8xMjM=\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n', 'x');
    expect(checkExpectation({ absent: [{ kind: 'Secret', name: 's' }], present: [{ kind: 'Service', name: 'x' }], fields: [{ select: { kind: 'ConfigMap', name: 'c' }, path: 'data.a', equals: 'c' }], nowhere: ['minio123'] }, objs)).toEqual([
      'expected no Secret s, found v1/Secret/n/s',
      'expected Service x to be rendered',
      'v1/ConfigMap//c data.a: expected "c", got "b"',
      'v1/Secret/n/s contains "minio123"',
    ]);
  });
});

describe('the profile controller for an external object store', () => {
  it("answers a namespace sync with that namespace's Secret, kfp-launcher and Argo repository for the configured store", async () => {
    const rendered = (
      await render('pipelines', { set: ['objectStore.external=true', 'objectStore.host=minio.storage', 'objectStore.port=9000', 'objectStore.secure=false', 'objectStore.bucket=team-kfp', 'objectStore.existingSecret=kfp-s3'] })
    ).text;
    const cm = splitObjects(rendered, 'p').find((o) => o.kind === 'ConfigMap' && o.name.startsWith('kubeflow-pipelines-profile-controller-code'))!;
    const code = parseYaml(cm.raw).data['sync.py'];
    const { execa } = await import('execa');
    const net = await import('node:net');
    const port = await new Promise<number>((r) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => r(p));
      });
    });
    const env = {
      ...process.env,
      KFC_S3_HOST: 'minio.storage',
      KFC_S3_PORT: '9000',
      KFC_S3_BUCKET: 'team-kfp',
      KFC_S3_REGION: 'us-east-1',
      KFC_S3_SECURE: 'false',
      AWS_ACCESS_KEY_ID: 'AK',
      AWS_SECRET_ACCESS_KEY: 'SK',
      CONTROLLER_PORT: String(port),
    };
    const proc = execa('python3', ['-c', code], { env, reject: false });
    try {
      let body: any;
      for (let i = 0; i < 50 && !body; i++) {
        body = await fetch(`http://127.0.0.1:${port}/sync`, { method: 'POST', body: JSON.stringify({ object: { metadata: { name: 'team-a' } }, attachments: {} }) })
          .then((r) => r.json())
          .catch(() => new Promise((r) => setTimeout(r, 100)).then(() => undefined));
      }
      const byName = Object.fromEntries(body.attachments.map((a: any) => [`${a.kind}/${a.metadata.name}`, a]));
      expect(byName['Secret/mlpipeline-minio-artifact'].stringData).toEqual({ accesskey: 'AK', secretkey: 'SK' });
      expect(byName['ConfigMap/kfp-launcher'].data.defaultPipelineRoot).toBe('s3://team-kfp/private-artifacts/team-a/v2/artifacts');
      expect(JSON.parse(byName['ConfigMap/kfp-launcher'].data.providers).s3.default).toMatchObject({ endpoint: 'minio.storage:9000', disableSSL: true, credentials: { secretRef: { secretName: 'mlpipeline-minio-artifact' } } });
      const repo = JSON.parse(byName['ConfigMap/artifact-repositories'].data['default-namespaced']);
      expect(repo.s3).toMatchObject({ endpoint: 'minio.storage:9000', bucket: 'team-kfp', insecure: true });
      expect(repo.s3.keyFormat).toMatch(/^private-artifacts\/team-a\/\{\{workflow\.name\}\}/);
    } finally {
      proc.kill();
      await proc;
    }
  });
});
