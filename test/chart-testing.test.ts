import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { readCtConfig } from '../packages/chart-testing/src/config.js';
import { UMBRELLA } from '../packages/generator/src/core/chart-model.js';
import { ensureGoTool, ensurePythonTools, goToolModuleDir, toolPins } from '../packages/generator/src/core/go-tools.js';
import { cacheDir, repoRoot } from '../packages/generator/src/core/paths.js';
import { findHelm } from '../packages/generator/src/core/toolchain.js';
import { describeCluster } from './cluster.js';
import { chartNames, ciFiles } from './helpers.js';
import { chartsFor, PINNED } from './releases.js';

const CT_YAML = path.join(repoRoot(), 'ct.yaml');
const CLI = path.join(repoRoot(), 'packages/chart-testing/dist/cli.js');
const CHARTS = chartsFor(PINNED);

/**
 * Whether the real chart-testing can run here: ct built from the Go module proxy, its module
 * (ct's own lint rules) downloaded, yamllint and yamale installed from PyPI. Outside CI a machine
 * that cannot skips the tests that need them, visibly and with the reason; under CI=true it fails.
 */
function ctAvailability(): { available: boolean; reason: string; etc?: string } {
  try {
    ensureGoTool('ct');
    const etc = path.join(goToolModuleDir('ct'), 'etc');
    ensurePythonTools();
    return { available: true, reason: '', etc };
  } catch (e) {
    const reason = `chart-testing cannot run here: ${(e as Error).message.split('\n')[0]} (npm run setup builds it)`;
    if (process.env.CI === 'true') throw new Error(`CI=true needs chart-testing: ${reason}`);
    return { available: false, reason };
  }
}
const CT = ctAvailability();
const withCt = (name: string) => (CT.available ? name : `${name} (skipped: ${CT.reason})`);

/** The environment the wrapper runs in: no $CT_BIN unless given. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e = { ...process.env };
  delete e.CT_BIN;
  delete e.KUBECTL_BIN;
  return { ...e, ...extra };
}
const run = (args: string[], e: NodeJS.ProcessEnv) => execa(process.execPath, [CLI, ...args], { env: e, cwd: repoRoot(), reject: false, all: true });

/** A stand-in for ct recording, per call: its arguments and directory, the helm version and the tools it finds on PATH, and what `install` was handed. */
function fakeCt(code: number): { bin: string; log: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-fake-ct-'));
  const log = path.join(dir, 'calls.log');
  const script = [
    '#!/bin/sh',
    `log="${log}"`,
    'echo "call $*" | sed "s#$PWD#<work>#g" >> "$log"',
    'echo "helm $(helm version --template \'{{.Version}}\')" >> "$log"',
    'for t in kubectl yamllint yamale; do echo "$t $(readlink -f "$(command -v $t)")" >> "$log"; done',
    'ls "$PWD" | sed "s/^/work /" >> "$log"',
    'if [ "$1" = install ]; then ls "$4/ci" | sed "s/^/ci /" >> "$log"; ls "$4/.." | sed "s/^/sibling /" >> "$log"; fi',
    `exit ${code}`,
  ].join('\n');
  writeFileSync(path.join(dir, 'ct'), `${script}\n`);
  chmodSync(path.join(dir, 'ct'), 0o755);
  return { bin: path.join(dir, 'ct'), log };
}
const calls = (log: string) => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);

/** A stand-in kubectl answering /readyz with `code`. */
function fakeKubectl(code: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-fake-kubectl-'));
  writeFileSync(path.join(dir, 'kubectl'), `#!/bin/sh\necho "$@" >> "${dir}/calls.log"\n[ ${code} = 0 ] || echo 'connection refused' >&2\nexit ${code}\n`);
  chmodSync(path.join(dir, 'kubectl'), 0o755);
  return path.join(dir, 'kubectl');
}

describe('ct.yaml', () => {
  it("is read for the chart dirs; ct's own lint rules are used (none restated here); unknown keys and missing rule files are errors", () => {
    const cfg = readCtConfig(CT_YAML);
    expect(cfg.chartDirs).toEqual([path.join(repoRoot(), 'charts')]);
    expect(cfg.lintConf).toBeUndefined();
    expect(cfg.chartYamlSchema).toBeUndefined();
    expect(existsSync(path.join(repoRoot(), 'packages/chart-testing/config'))).toBe(false);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-ct-'));
    writeFileSync(path.join(dir, 'ct.yaml'), 'chart-dir: charts\n');
    expect(() => readCtConfig(path.join(dir, 'ct.yaml'))).toThrow(/unknown chart-testing option "chart-dir"/);
    writeFileSync(path.join(dir, 'ct.yaml'), 'lint-conf: lintconf.yaml\n');
    expect(() => readCtConfig(path.join(dir, 'ct.yaml'))).toThrow(/lint-conf names .*lintconf\.yaml, which does not exist/);
    writeFileSync(path.join(dir, 'lintconf.yaml'), 'rules: {}\n');
    expect(readCtConfig(path.join(dir, 'ct.yaml')).lintConf).toBe(path.join(dir, 'lintconf.yaml'));
  });

  it('no test reads files from outside the repository except the upstream mirrors (test/releases.ts)', () => {
    // the directory beside the repository, spelt so that this file does not name it
    const outside = new RegExp(`['"/]${'sha' + 'red'}['"/]`);
    const readers = readdirSync(path.join(repoRoot(), 'test')).filter((f) => f.endsWith('.ts') && outside.test(readFileSync(path.join(repoRoot(), 'test', f), 'utf8')));
    expect(readers).toEqual(['releases.ts']);
  });
});

describe('the ct wrapper', () => {
  it('without ct and no way to build it, says why and exits 3 (skipped, not passed); usage errors exit 2', async () => {
    const e = env({ PATH: path.dirname(process.execPath), KFC_TOOLS_CACHE: mkdtempSync(path.join(os.tmpdir(), 'kfc-no-tools-')) });
    for (const cmd of ['lint', 'install', 'lint-and-install']) {
      const r = await run([cmd], e);
      expect(r.stdout, cmd).toMatch(/^skipped: chart-testing cannot run here: ct \(github\.com\/helm\/chart-testing\/v3\/ct\) is built with Go, and no `go` is on PATH/);
      expect(r.exitCode, cmd).toBe(3);
    }
    for (const args of [['lnt'], ['lint', '--offline'], ['lint', '--helm', '5'], ['lint', '--set', 'a=b'], ['install', '--set', 'a=b c'], ['install', '--set', 'novalue'], ['lint', '--charts', 'x']]) {
      const r = await run(args, env());
      expect(r.exitCode, args.join(' ')).toBe(2);
    }
    expect((await run(['lint', '--set', 'a=b'], env())).stderr).toMatch(/kfc-ct lint: unknown option '--set' \(see kfc-ct lint --help\)/);
  });

  it.skipIf(!CT.available)(withCt("lint: ct with ct.yaml and ct's own rules over copies of the chart dirs, the pinned helm (4, or 3 with --helm 3), kubectl, yamllint and yamale first on PATH; ct's failure is exit 1"), async () => {
    const ct = fakeCt(0);
    const work = path.join(cacheDir(), 'ct');
    const before = existsSync(work) ? readdirSync(work) : [];
    const r = await run(['lint'], env({ CT_BIN: ct.bin }));
    expect(r.exitCode, r.all).toBe(0);
    const [helm4, helm3] = [await findHelm(4), await findHelm(3)];
    const python = ensurePythonTools();
    expect(calls(ct.log)).toEqual([
      `call lint --chart-dirs charts --lint-conf ${CT.etc}/lintconf.yaml --chart-yaml-schema ${CT.etc}/chart_schema.yaml --config ${CT_YAML}`,
      `helm ${helm4.version}`,
      expect.stringMatching(/^kubectl \/.*\/kubectl$/),
      `yamllint ${path.join(python, 'yamllint')}`,
      `yamale ${path.join(python, 'yamale')}`,
      'work charts',
    ]);
    expect(r.stderr).toContain(`helm ${helm4.version} (${helm4.source})`);
    const three = fakeCt(0);
    expect((await run(['lint', '--helm', '3', '--', '--debug'], env({ CT_BIN: three.bin }))).exitCode).toBe(0);
    expect(calls(three.log).slice(0, 2)).toEqual([expect.stringMatching(/^call lint .* --config \S+ --debug$/), `helm ${helm3.version}`]);
    // the chart dirs are copies: ct's `helm dependency build` writes into them
    expect(existsSync(path.join(CHARTS, UMBRELLA, 'Chart.lock'))).toBe(false);
    expect(
      readdirSync(work).filter((d) => !before.includes(d)),
      'work dirs are removed',
    ).toEqual([]);
    expect((await run(['lint'], env({ CT_BIN: fakeCt(1).bin }))).exitCode).toBe(1);
  });

  it.skipIf(!CT.available)(withCt('install: skipped (exit 3) without a cluster; with one, the umbrella staged with its siblings and its first ci file, --set as --helm-extra-set-args; lint-and-install runs both'), async () => {
    const ct = fakeCt(0);
    const noCluster = fakeKubectl(1);
    const skipped = await run(['install'], env({ CT_BIN: ct.bin, KUBECTL_BIN: noCluster }));
    expect(skipped.exitCode).toBe(3);
    expect(skipped.stdout).toMatch(/^skipped: no reachable Kubernetes cluster \(kubectl get --raw \/readyz: connection refused; set KUBECONFIG/m);
    expect(calls(ct.log)).toEqual([]);
    const r = await run(['lint-and-install', '--set', 'tests.enabled=false', '--set', 'x=1'], env({ CT_BIN: ct.bin, KUBECTL_BIN: fakeKubectl(0) }));
    expect(r.exitCode, r.all).toBe(0);
    const log = calls(ct.log);
    expect(log.filter((l) => l.startsWith('call '))).toEqual([
      expect.stringMatching(/^call lint --chart-dirs charts /),
      `call install --all=false --charts <work>/charts/${UMBRELLA} --helm-extra-set-args=--set=tests.enabled=false --set=x=1 --config ${CT_YAML}`,
    ]);
    // the umbrella with its siblings (file://../<name> dependencies) and only its first ci values file
    expect(log.filter((l) => l.startsWith('ci '))).toEqual([`ci ${path.basename(ciFiles(path.join(CHARTS, UMBRELLA))[0])}`]);
    expect(log.filter((l) => l.startsWith('sibling '))).toEqual(chartNames(CHARTS).map((c) => `sibling ${c}`));
    const failing = await run(['install'], env({ CT_BIN: fakeCt(1).bin, KUBECTL_BIN: fakeKubectl(0) }));
    expect(failing.exitCode).toBe(1);
  });
});

describe('real chart-testing (ct lint)', () => {
  it.skipIf(!CT.available)(withCt(`ct lint through the wrapper passes on every chart of ${PINNED} with Helm 3 (the install below lints with Helm 4)`), async () => {
    const r = await run(['lint', '--helm', '3'], env());
    expect(r.exitCode, r.all.slice(-4000)).toBe(0);
    expect(r.stderr).toContain(`ct: ${ensureGoTool('ct')} (${toolPins().go.ct.package}@${toolPins().go.ct.version}); helm v3.`);
    // one ✔︎ line per chart in ct's summary
    const passed = [...r.stdout.matchAll(/^ ✔︎ (\S+) => /gm)].map((m) => m[1]).sort();
    expect(passed).toEqual(chartNames(CHARTS));
    expect(r.stdout).toContain('All charts linted successfully');
  });

  it.skipIf(!CT.available)(withCt("broken charts fail with ct's own messages: a Chart.yaml key ct's schema refuses, a yamllint error in values.yaml"), async () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-ct-broken-')), 'charts');
    // ct stops linting a chart at its first failing check: one chart per defect
    const copy = (name: string) => {
      const chart = path.join(dir, name);
      cpSync(path.join(CHARTS, 'kubeflow-namespace'), chart, { recursive: true });
      writeFileSync(path.join(chart, 'Chart.yaml'), readFileSync(path.join(chart, 'Chart.yaml'), 'utf8').replace(/^name: .*$/m, `name: ${name}`));
      return chart;
    };
    const badKey = copy('bad-key');
    writeFileSync(path.join(badKey, 'Chart.yaml'), `${readFileSync(path.join(badKey, 'Chart.yaml'), 'utf8')}owner: me\n`);
    const badValues = copy('bad-values');
    writeFileSync(path.join(badValues, 'values.yaml'), `${readFileSync(path.join(badValues, 'values.yaml'), 'utf8')}extra: 1   \n`);
    const r = await run(['lint', '--chart-dirs', dir], env());
    expect(r.exitCode).toBe(1);
    // yamale's and yamllint's own words, as ct prints them
    expect(r.all).toMatch(/Chart\.yaml' with schema '\S+\/etc\/chart_schema\.yaml'\n\s+owner: Unexpected element/);
    expect(r.all).toMatch(/values\.yaml\n?.*\d+:\d+\s+error\s+trailing spaces\s+\(trailing-spaces\)/);
    expect([...r.stdout.matchAll(/^ (✖︎|✔︎) (\S+) => /gm)].map((m) => `${m[1]} ${m[2]}`).sort()).toEqual(['✖︎ bad-key', '✖︎ bad-values']);
  });
});

describeCluster('real chart-testing against the control plane: ct lint-and-install of the umbrella', (cluster) => {
  it.skipIf(!CT.available)(
    withCt('npm run ct -- lint-and-install --set tests.enabled=false passes on Helm 4: every chart linted, the umbrella installed with --wait and uninstalled'),
    async () => {
      const c = cluster();
      // helm test's HTTP probes need the servers, whose images do not run on the control plane
      const r = await run(['lint-and-install', '--set', 'tests.enabled=false', '--', '--debug'], env(Object.fromEntries(Object.entries(c.env).filter((e): e is [string, string] => e[1] !== undefined))));
      expect(r.exitCode, r.all.slice(-6000)).toBe(0);
      expect(r.stdout).toContain('All charts linted successfully');
      expect(r.stdout).toMatch(/ ✔︎ kubeflow => \(version: "[^"]+", path: "[^"]*charts\/kubeflow"\)/);
      // ct's own steps (--debug prints each command): install --wait with the value set, helm test, uninstall
      expect(r.stdout).toMatch(/^>>> helm install kubeflow-\w+ \S+\/charts\/kubeflow --namespace kubeflow-\w+ --wait --values \S+\/ci\/01-default-values\.yaml --timeout 1500s --set=tests\.enabled=false$/m);
      expect(r.stdout).toMatch(/^STATUS: deployed$/m);
      expect(r.stdout).toMatch(/^>>> helm test kubeflow-\w+ --namespace kubeflow-\w+ --timeout 1500s$/m);
      expect(r.stdout).toMatch(/^>>> helm uninstall kubeflow-\w+ --namespace kubeflow-\w+ --wait --timeout 1500s$/m);
      expect(r.stdout).toContain('All charts installed successfully');
    },
    40 * 60_000,
  );
});
