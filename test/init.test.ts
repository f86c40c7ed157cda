import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { init, type InitOptions } from '../packages/generator/src/commands/init.js';
import { answersAsker, runQuestions } from '../packages/generator/src/commands/init-flow.js';
import { choiceValues, inputDefault, loadInitModel, prune } from '../packages/generator/src/commands/init-model.js';
import { firstSentence } from '../packages/generator/src/commands/init-write.js';
import { runValidate, validateValueObjects } from '../packages/generator/src/commands/validate.js';
import { helmTemplate } from '../packages/generator/src/core/helm.js';
import { isKfcError } from '../packages/generator/src/core/errors.js';
import { parseYaml } from '../packages/generator/src/core/model.js';
import { findKustomize } from '../packages/generator/src/core/toolchain.js';
import { covers, mutatedFields } from '../packages/generator/src/order/argocd.js';
import { planObjects } from '../packages/generator/src/order/sequence.js';
import { KubeValidator } from '../packages/generator/src/verify/kube-validate.js';
import { argocdCrdObjects, chartOf, fluxCrdObjects, fluxTooling, fluxValues, renderAsFlux, schemaErrors } from './gitops.js';
import { inTerminal, KEY, plain, promptStreams } from './init-drive.js';
import { chartsFor, PINNED } from './releases.js';

const CHARTS = chartsFor(PINNED);
const CLI = path.resolve('packages/generator/dist/cli.js');
const tmp = (p: string) => mkdtempSync(path.join(os.tmpdir(), `kfc-init-${p}-`));
const files = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]),
  );
const quiet = { print: () => {} };

/** The answer sets of the issue, and one more, so that every choice of every question is taken. */
const ANSWER_SETS: Record<string, Record<string, unknown>> = {
  defaults: {},
  'external-oidc-gateway-api': {
    ingress: 'gateway-api',
    hostname: 'kubeflow.corp.example',
    gatewayName: 'public',
    gatewayNamespace: 'gateways',
    identity: 'external-oidc',
    oidcIssuer: 'https://login.corp.example/realms/kf',
    oidcClientId: 'kf',
    oidcSecret: 'kf-oidc',
    database: 'external',
    databaseHost: 'mysql.db.svc.cluster.local',
    databasePort: 3307,
    databaseSecret: 'kf-db',
    objectStore: 'external',
    s3Host: 's3.eu-central-1.amazonaws.com',
    s3Region: 'eu-central-1',
    s3Bucket: 'kf-artifacts',
    s3Secret: 'kf-s3',
    images: 'mirror',
    registry: 'registry.corp.example/kubeflow',
    pullSecret: 'corp-pull',
    delivery: 'flux',
    source: 'oci',
  },
  'ambient-byo': {
    components: 'all',
    mesh: 'ambient',
    istio: 'external',
    istioNamespace: 'mesh',
    ingressService: 'kubeflow-ingress',
    ingressServiceAccount: 'kubeflow-ingress',
    ingressSelector: 'gateway=kubeflow',
    certManager: 'external',
    issuerName: 'corp-ca',
    delivery: 'argocd',
  },
  'picked-dex-connector': {
    components: ['centraldashboard', 'jupyter-web-app', 'notebook-controller', 'oauth2-proxy', 'profiles', 'kubeflow-namespace', 'kubeflow-roles', 'kubeflow-istio-resources', 'admission-webhook', 'user-namespace', 'pipelines'],
    identity: 'dex-connector',
    connectorIssuer: 'https://sso.example.org',
    connectorSecret: 'dex-sso',
    images: 'mirror',
    registry: 'mirror.example.org:5000',
    delivery: 'helm',
    source: 'oci',
  },
};

/** The error a promise rejects with, as the CLI prints it (message and hint). */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return isKfcError(e) ? e.format() : String(e);
  }
  throw new Error('expected a failure');
}

async function initWith(answers: Record<string, unknown>, o: Partial<InitOptions> = {}) {
  const out = o.out ?? tmp('out');
  const file = path.join(tmp('answers'), 'answers.yaml');
  writeFileSync(file, YAML.stringify(answers));
  const r = await init({ charts: CHARTS, out, answers: file, ...quiet, ...o });
  return { out, ...r };
}

describe('kfc init: questions', () => {
  const model = loadInitModel({ charts: CHARTS });

  it('components and the core set come from the built umbrella; the components a question turns on or off are not picked', () => {
    const values = parseYaml(readFileSync(path.join(CHARTS, 'kubeflow', 'values.yaml'), 'utf8'));
    const deps = parseYaml(readFileSync(path.join(CHARTS, 'kubeflow', 'Chart.yaml'), 'utf8')).dependencies.map((d: any) => d.alias ?? d.name);
    expect(model.components.sort()).toEqual(deps.filter((d: string) => typeof values[d]?.enabled === 'boolean').sort());
    expect(model.core.sort()).toEqual(model.components.filter((c) => values[c].enabled).sort());
    expect(model.core.length).toBeLessThan(model.components.length);
    expect(model.governed.sort()).toEqual(expect.arrayContaining(['cert-manager', 'dex', 'istio']));
  });

  it("every choice, with its inputs' defaults, sets values the umbrella's schema accepts (every key exists)", () => {
    const checked: string[] = [];
    for (const q of model.questions) {
      const targets = model.components.filter((c) => q.each && q.each in ((model.defaults[c] as object) ?? {}));
      if (q.each) expect(targets.length, `${q.name}: no component has ${q.each}`).toBeGreaterThan(0);
      for (const c of q.choices) {
        const answers: Record<string, unknown> = {};
        for (const i of c.inputs ?? []) answers[i.name] = inputDefault(i, answers, model.defaults);
        const values = choiceValues(q, c, { answers, values: model.defaults, targets });
        const r = validateValueObjects({ chart: path.join(CHARTS, 'kubeflow'), charts: CHARTS }, [{ file: `${q.name}=${c.value}`, values }]);
        expect(
          r.issues.map((i) => `${i.path}: ${i.expected}`),
          `${q.name}=${c.value}`,
        ).toEqual([]);
        checked.push(`${q.name}=${c.value}`);
      }
    }
    expect(checked.length).toBeGreaterThan(15);
  });

  it('the answer sets of the tests take every choice of every question', async () => {
    const taken = new Set<string>();
    for (const answers of Object.values(ANSWER_SETS)) {
      const r = await runQuestions(model, answersAsker(model, answers, 'test'));
      for (const [k, v] of Object.entries(r.answers)) taken.add(`${k}=${Array.isArray(v) ? 'pick' : v}`);
    }
    const all = [
      ...model.questions.flatMap((q) => q.choices.map((c) => `${q.name}=${c.value}`)),
      'components=core',
      'components=all',
      'components=pick',
      'delivery=helm',
      'delivery=argocd',
      'delivery=flux',
      'source=helm-repository',
      'source=oci',
    ];
    expect(all.filter((x) => !taken.has(x))).toEqual([]);
  });

  it('comments: the first sentence of a description', () => {
    expect(firstSentence('Host of the S3 endpoint (e.g. s3.eu-west-1.amazonaws.com). More.')).toBe('Host of the S3 endpoint (e.g. s3.eu-west-1.amazonaws.com).');
    expect(firstSentence('Issuer (empty: the bundled Dex). Rest')).toBe('Issuer (empty: the bundled Dex).');
  });
});

describe.each(Object.keys(ANSWER_SETS))('kfc init --answers: %s', (name) => {
  const answers = ANSWER_SETS[name];
  const tooling = fluxTooling();

  it('writes values that pass kfc validate, render, and hold only what differs from the defaults; the answers written give the same files again', async () => {
    const { out, result } = await initWith(answers);
    const written = files(out);
    const delivery = { helm: ['install.sh'], argocd: ['argocd-application.yaml'], flux: ['flux-kubeflow.yaml', 'kustomization.yaml'] }[result.delivery];
    expect(Object.keys(written)).toEqual(['kfc-init.yaml', 'values.yaml', ...delivery].sort());
    const chunks: string[] = [];
    expect(runValidate({ chart: 'kubeflow', values: [path.join(out, 'values.yaml')], charts: CHARTS }, { write: (s: string) => chunks.push(s) } as any), chunks.join('')).toBe(0);
    const rendered = await helmTemplate(path.join(CHARTS, 'kubeflow'), { valuesFiles: [path.join(out, 'values.yaml')], namespace: 'kubeflow-charts' });
    expect(planObjects(rendered).length).toBeGreaterThan(50);
    const values = parseYaml(written['values.yaml']) ?? {};
    const model = loadInitModel({ charts: CHARTS });
    expect(prune(values, model.defaults)).toEqual(values);
    if (name === 'defaults') expect(values).toEqual({});
    else expect(written['values.yaml']).toMatch(/^ *# .+\n *[a-z-]+:/m);
    // every answer the set gives lands in the values (a sample per set)
    const json = JSON.stringify(values);
    for (const v of Object.values(answers).filter((x) => typeof x === 'string' && /[.-]/.test(x) && !['gateway-api', 'external-oidc', 'dex-connector', 'helm-repository'].includes(x)))
      expect(json, String(v)).toContain(String(v).split('=').pop());
    const again = await init({ charts: CHARTS, out: tmp('again'), answers: path.join(out, 'kfc-init.yaml'), ...quiet });
    expect(files(path.dirname(again.files[0]))).toEqual(written);
  });

  it.skipIf(!tooling.go)(`what the delivery needs: valid against its CRDs, and it renders the values written ${tooling.reason}`, async () => {
    const { out, result } = await initWith(answers);
    const values = parseYaml(readFileSync(path.join(out, 'values.yaml'), 'utf8')) ?? {};
    const v = new KubeValidator();
    v.addCrds([...(await fluxCrdObjects(tooling.go!)), ...(await argocdCrdObjects(tooling.go!))]);
    if (result.delivery === 'helm') {
      const script = readFileSync(path.join(out, 'install.sh'), 'utf8');
      expect(statSync(path.join(out, 'install.sh')).mode & 0o111).toBeTruthy();
      expect(script).toMatch(new RegExp(`helm upgrade --install kubeflow \\S+ --version ${loadInitModel({ charts: CHARTS }).version} .*-f values\\.yaml`));
    }
    if (result.delivery === 'argocd') {
      const docs = YAML.parseAllDocuments(readFileSync(path.join(out, 'argocd-application.yaml'), 'utf8')).map((d) => d.toJS());
      for (const d of docs) expect(v.validate(d), d.kind).toEqual([]);
      const app = docs.find((d) => d.kind === 'Application');
      expect(parseYaml(app.spec.source.helm.values) ?? {}).toEqual(values);
      const rendered = await helmTemplate(path.join(CHARTS, 'kubeflow'), { includeCrds: true, valuesFiles: [path.join(out, 'values.yaml')], namespace: app.spec.destination.namespace });
      const objs = planObjects(rendered);
      expect(mutatedFields(objs).filter((f) => !app.spec.ignoreDifferences.some((r: any) => covers(r, f)))).toEqual([]);
    }
    if (result.delivery === 'flux') {
      const k = await findKustomize();
      const built = await execa(k.path, [...k.args, out]);
      const objects = YAML.parseAllDocuments(built.stdout).map((d) => d.toJS());
      for (const d of objects) expect(v.validate(d), `${d.kind} ${d.metadata.name}`).toEqual([]);
      const hr = objects.find((o) => o.kind === 'HelmRelease');
      const merged = (await fluxValues(tooling.go!, objects))[`${hr.metadata.namespace}/${hr.metadata.name}`];
      expect(merged).toEqual(values);
      const { dir } = chartOf(hr, objects);
      expect(schemaErrors(dir, merged)).toEqual([]);
      expect(planObjects(await renderAsFlux(dir, hr, merged)).length).toBeGreaterThan(50);
    }
  });
});

describe('kfc init: refusals', () => {
  it('refuses to replace files without --force, replaces them with it', async () => {
    const { out } = await initWith({});
    writeFileSync(path.join(out, 'values.yaml'), 'mine: true\n');
    expect(await failure(initWith({}, { out }))).toMatch(/would replace .*values\.yaml[\s\S]*--force/);
    expect(readFileSync(path.join(out, 'values.yaml'), 'utf8')).toBe('mine: true\n');
    await initWith({ delivery: 'flux' }, { out, force: true });
    expect(readFileSync(path.join(out, 'values.yaml'), 'utf8')).not.toBe('mine: true\n');
    // a delivery file in the way is refused before anything is written
    const other = tmp('clash');
    writeFileSync(path.join(other, 'kustomization.yaml'), 'x: 1\n');
    expect(await failure(initWith({ delivery: 'flux' }, { out: other }))).toMatch(/would replace .*kustomization\.yaml/);
    expect(readdirSync(other)).toEqual(['kustomization.yaml']);
  });

  it('a wrong answer is an error naming it, and nothing is written', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ mesh: 'ambiant' }, /mesh: "ambiant" is not a choice here[\s\S]*sidecar, ambient/],
      [{ hostnme: 'x' }, /unknown answer "hostnme"[\s\S]*did you mean `hostname`/],
      [{ hostname: 'kubeflow.example.com' }, /answers no question took[\s\S]*hostname/],
      [{ ingress: 'gateway-api', hostname: 'Not A Host!' }, /hostname: "Not A Host!": httpRoute\.hostnames\[0\]: expected/],
      [{ database: 'external', databasePort: 'many' }, /databasePort: "many": .*externalDatabase\.port: expected integer/],
      [{ components: ['katib', 'istio'] }, /"istio" is not a component to pick \(a question below turns istio on or off\)/],
      [{ components: ['katb'] }, /"katb" is not a component to pick[\s\S]*did you mean `katib`/],
    ];
    for (const [answers, message] of cases) {
      const out = tmp('wrong');
      expect(await failure(initWith(answers, { out })), JSON.stringify(answers)).toMatch(message);
      expect(readdirSync(out), JSON.stringify(answers)).toEqual([]);
    }
  });

  it('without a terminal and without answers it says how to answer (CLI, exit 1)', async () => {
    const res = await execa('node', [CLI, 'init', '--charts', CHARTS, '--out', tmp('noterm')], { reject: false, input: '' });
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(/stdin is not one[\s\S]*--answers FILE/);
  });
});

describe('kfc init: interactive', () => {
  it('driven by keystrokes, the prompts give what the same answers in a file give', async () => {
    const { streams, play, screen } = promptStreams();
    const out = tmp('keys');
    let finished = false;
    const run = init({ charts: CHARTS, out, streams, interactive: true, ...quiet }).finally(() => (finished = true));
    await play(
      [
        { when: /\? Components/, keys: KEY.enter }, // core
        { when: /\? Service mesh data plane/, keys: KEY.down + KEY.enter }, // ambient
        { when: /\? Istio/, keys: KEY.enter }, // bundled
        { when: /\? cert-manager/, keys: KEY.enter },
        { when: /\? How users reach Kubeflow/, keys: KEY.down + KEY.enter }, // gateway-api
        { when: /\? Host name users open/, keys: `kubeflow.lab.example${KEY.enter}` },
        { when: /\? Name of your Gateway/, keys: KEY.enter },
        { when: /\? Namespace of your Gateway/, keys: `infra${KEY.enter}` },
        { when: /\? Listener of your Gateway/, keys: KEY.enter },
        { when: /\? How people log in/, keys: KEY.down + KEY.down + KEY.enter }, // external-oidc
        { when: /\? Issuer URL of your identity provider/, keys: `not a url${KEY.enter}` }, // refused by the schema: asked again
        { when: /issuerUrl: expected/, keys: `${KEY.ctrlU}https://id.lab.example${KEY.enter}` },
        { when: /\? Client ID registered/, keys: KEY.enter },
        { when: /\? Secret in namespace oauth2-proxy/, keys: KEY.enter },
        { when: /\? Databases of/, keys: KEY.enter },
        { when: /\? Object store of Pipelines/, keys: KEY.enter },
        { when: /\? Container images/, keys: KEY.enter },
        { when: /\? How you deliver it/, keys: KEY.down + KEY.down + KEY.enter }, // flux
        { when: /\? Where the chart comes from/, keys: KEY.enter },
      ],
      () => finished,
    );
    const r = await run;
    expect(plain(screen())).toMatch(/issuerUrl: expected[\s\S]*got "not a url"/);
    expect(r.result.answers).toMatchObject({ mesh: 'ambient', ingress: 'gateway-api', hostname: 'kubeflow.lab.example', gatewayNamespace: 'infra', identity: 'external-oidc', oidcIssuer: 'https://id.lab.example', delivery: 'flux' });
    const same = await initWith({
      components: 'core',
      mesh: 'ambient',
      ingress: 'gateway-api',
      hostname: 'kubeflow.lab.example',
      gatewayNamespace: 'infra',
      identity: 'external-oidc',
      oidcIssuer: 'https://id.lab.example',
      delivery: 'flux',
    });
    expect(files(out)).toEqual(files(same.out));
  });

  it('in a terminal: Enter takes every default (as --defaults does); Ctrl-C leaves nothing written (exit 130)', async () => {
    const out = tmp('tty');
    const enter = ['Components', 'Service mesh', 'Istio', 'cert-manager', 'How users reach', 'How people log in', 'Databases of', 'Object store', 'Container images', 'How you deliver', 'Where the chart'];
    const r = await inTerminal(
      ['node', CLI, 'init', '--charts', CHARTS, '--out', out],
      enter.map((q) => ({ when: new RegExp(`\\? ${q}`), keys: KEY.enter })),
    );
    expect(r.code, r.screen.slice(-2000)).toBe(0);
    expect(r.screen).toMatch(/Kubeflow is ready when these pass:\n\s+kubectl wait/);
    const defaults = await initWith({});
    expect(files(out)).toEqual(files(defaults.out));
    const cancelled = tmp('ctrlc');
    const c = await inTerminal(
      ['node', CLI, 'init', '--charts', CHARTS, '--out', cancelled],
      [
        { when: /\? Components/, keys: KEY.enter },
        { when: /\? Service mesh/, keys: KEY.ctrlC },
      ],
    );
    expect(c.code).toBe(130);
    expect(c.screen).toMatch(/cancelled; nothing written/);
    expect(readdirSync(cancelled)).toEqual([]);
    expect(existsSync(path.join(cancelled, 'values.yaml'))).toBe(false);
  });
});

describe('kfc init: README', () => {
  it('"Start here" near the top begins with kfc init and names the files it writes for each delivery', async () => {
    const readme = readFileSync(path.resolve('README.md'), 'utf8');
    const start = readme.indexOf('## Start here');
    expect(start).toBeGreaterThan(0);
    expect(start).toBeLessThan(readme.indexOf('## Quick start'));
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    expect(section).toMatch(/```sh\n[^`]*npm run kfc -- init/);
    for (const flag of ['--answers', '--answer', '--defaults', '--force', '--out']) expect(section, flag).toContain(flag);
    const named = new Set<string>();
    for (const delivery of ['helm', 'argocd', 'flux']) {
      const { out } = await initWith({ delivery });
      for (const f of readdirSync(out)) {
        expect(section, `${delivery}: ${f}`).toContain(`\`${f}\``);
        named.add(f);
      }
    }
    expect(named.size).toBe(6);
  });
});
