import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { expect } from 'vitest';
import { validateValues } from '../packages/generator/src/commands/validate.js';
import { helmTemplate } from '../packages/generator/src/core/helm.js';
import { PROJECT } from '../packages/generator/src/core/project.js';
import { readYaml } from './helpers.js';
import { chartsFor, RELEASES } from './releases.js';
import { TOOLS_LOCK } from '../packages/generator/src/core/layers.js';
import { cacheDir, repoRoot } from '../packages/generator/src/core/paths.js';
import { onPath } from '../packages/generator/src/core/toolchain.js';
import { sha256 } from '../packages/generator/src/core/util.js';

/**
 * Flux and Argo CD for the tests: their CRDs (pinned in packages/generator/tools.lock.json, from the
 * Go module proxy) and Flux's values merge (test/flux-values, Flux's own code). All need `go`:
 * without it the tests that use them skip with `reason`, and fail under CI=true.
 */

interface ModulePin {
  module: string;
  version: string;
  sum: string;
  dir?: string;
  generate?: boolean;
  files?: string[];
}
interface FluxLock {
  release: string;
  controllerGen: ModulePin & { package: string };
  crds: ModulePin[];
  reproduce: ModulePin & { against: string };
}

export function fluxLock(): FluxLock {
  return JSON.parse(readFileSync(TOOLS_LOCK, 'utf8')).flux;
}

/** Argo CD's CRDs (Application, AppProject), parsed. */
export async function argocdCrdObjects(go: string): Promise<any[]> {
  const pin: ModulePin = JSON.parse(readFileSync(TOOLS_LOCK, 'utf8')).argocd;
  return [...(await shippedCrds(go, pin)).values()].flatMap((t) => YAML.parseAllDocuments(t).map((d) => d.toJS())).filter((d) => d?.kind === 'CustomResourceDefinition');
}

/** Whether the Go toolchain is there; under CI=true its absence fails. */
export function fluxTooling(): { go?: string; reason: string } {
  const go = process.env.GO_BIN ?? onPath('go');
  if (go) return { go, reason: '' };
  const reason = "no Go toolchain (go on PATH or GO_BIN): the Flux and Argo CD CRDs and Flux's values merge come from the Go module proxy";
  if (process.env.CI === 'true') throw new Error(`CI=true needs it: ${reason}`);
  return { reason };
}

// GOTOOLCHAIN as configured: an older Go fetches the toolchain the modules' go.mod need from the proxy
const goEnv = () => ({ ...process.env, GOFLAGS: '-mod=mod' });

/** `go mod download -json module@version`: the module's directory in the Go module cache, its hash checked against the pin. */
export async function goModule(go: string, pin: ModulePin): Promise<string> {
  mkdirSync(cacheDir(), { recursive: true });
  const res = await execa(go, ['mod', 'download', '-json', `${pin.module}@${pin.version}`], { cwd: cacheDir(), env: goEnv(), reject: false });
  const info = res.stdout ? JSON.parse(res.stdout) : {};
  if (res.exitCode !== 0 || info.Error) throw new Error(`go mod download ${pin.module}@${pin.version}: ${info.Error ?? res.stderr}`);
  if (info.Sum !== pin.sum) throw new Error(`${pin.module}@${pin.version}: the proxy's module hashes to ${info.Sum}, tools.lock.json pins ${pin.sum}`);
  return info.Dir;
}

/** controller-gen at the pinned version, built once into the cache. */
async function controllerGen(go: string, lock: FluxLock): Promise<string> {
  const bin = path.join(cacheDir(), 'tools', `controller-gen-${lock.controllerGen.version}`, 'controller-gen');
  if (existsSync(bin)) return bin;
  await goModule(go, lock.controllerGen);
  const gobin = mkdtempSync(path.join(cacheDir(), 'controller-gen-'));
  try {
    await execa(go, ['install', `${lock.controllerGen.package}@${lock.controllerGen.version}`], { env: { ...goEnv(), GOBIN: gobin } });
    mkdirSync(path.dirname(bin), { recursive: true });
    renameSync(path.join(gobin, 'controller-gen'), bin);
  } finally {
    rmSync(gobin, { recursive: true, force: true });
  }
  return bin;
}

/** The CRDs controller-gen generates from an API module (a writable copy of it: controller-gen loads its packages). */
export async function generateCrds(go: string, pin: ModulePin): Promise<Map<string, string>> {
  const lock = fluxLock();
  const gen = await controllerGen(go, lock);
  const src = await goModule(go, pin);
  const work = mkdtempSync(path.join(cacheDir(), 'flux-api-'));
  try {
    cpSync(src, path.join(work, 'api'), { recursive: true, mode: 0 });
    await execa('chmod', ['-R', 'u+w', work]);
    await execa(gen, ['crd', 'paths=./...', `output:crd:dir=${path.join(work, 'out')}`], { cwd: path.join(work, 'api'), env: goEnv() });
    return new Map(readdirSync(path.join(work, 'out')).map((f) => [f, readFileSync(path.join(work, 'out', f), 'utf8')]));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** CRDs a module ships, file name -> text. */
export async function shippedCrds(go: string, pin: ModulePin): Promise<Map<string, string>> {
  const dir = path.join(await goModule(go, pin), pin.dir ?? '');
  return new Map(
    readdirSync(dir)
      .filter((f) => !pin.files || pin.files.includes(f))
      .map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]),
  );
}

/** The pinned Flux CRDs (HelmRepository, OCIRepository, HelmRelease), file name -> text; cached after the first call. */
export async function fluxCrds(go: string): Promise<Map<string, string>> {
  const lock = fluxLock();
  const dir = path.join(cacheDir(), 'flux', sha256(JSON.stringify(lock)).slice(0, 16));
  if (!existsSync(dir)) {
    const tmp = `${dir}.tmp-${process.pid}`;
    mkdirSync(tmp, { recursive: true });
    for (const pin of lock.crds) {
      const texts = pin.generate ? await generateCrds(go, pin) : await shippedCrds(go, pin);
      for (const f of pin.files ?? []) {
        if (!texts.has(f)) throw new Error(`${pin.module}@${pin.version}: no ${f} (has ${[...texts.keys()].join(', ')})`);
        writeFileSync(path.join(tmp, f), texts.get(f)!);
      }
    }
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another worker was first
    }
  }
  return new Map(readdirSync(dir).map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]));
}

/** The CRD objects, parsed. */
export async function fluxCrdObjects(go: string): Promise<any[]> {
  return [...(await fluxCrds(go)).values()].flatMap((t) => YAML.parseAllDocuments(t).map((d) => d.toJS())).filter((d) => d?.kind === 'CustomResourceDefinition');
}

/** test/flux-values built once (keyed by its sources), into the cache. */
async function fluxValuesBinary(go: string): Promise<string> {
  const src = path.join(repoRoot(), 'test', 'flux-values');
  const key = sha256(['go.mod', 'go.sum', 'main.go'].map((f) => readFileSync(path.join(src, f), 'utf8')).join('\0')).slice(0, 16);
  const bin = path.join(cacheDir(), 'tools', `flux-values-${key}`);
  if (!existsSync(bin)) {
    const tmp = `${bin}.tmp-${process.pid}`;
    await execa(go, ['build', '-o', tmp, '.'], { cwd: src });
    renameSync(tmp, bin);
  }
  return bin;
}

/**
 * The values helm-controller passes to Helm for each HelmRelease of `objects` (its valuesFrom resolved
 * against the ConfigMaps and Secrets among them, in order, then its inline values): "namespace/name" -> values.
 */
export async function fluxValues(go: string, objects: unknown[]): Promise<Record<string, Record<string, unknown>>> {
  const bin = await fluxValuesBinary(go);
  const res = await execa(bin, [], { input: objects.map((o) => YAML.stringify(o)).join('---\n'), reject: false });
  if (res.exitCode !== 0) throw new Error(`flux-values: ${res.stderr.trim()}`);
  return JSON.parse(res.stdout);
}

/** Every YAML document under a directory, with its file. */
export function yamlDocs(dir: string): Array<{ file: string; doc: any }> {
  const out: Array<{ file: string; doc: any }> = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, f.name);
      if (f.isDirectory()) walk(p);
      else if (f.name.endsWith('.yaml')) for (const x of YAML.parseAllDocuments(readFileSync(p, 'utf8'))) if (x.contents) out.push({ file: path.relative(dir, p), doc: x.toJS() });
    }
  };
  walk(dir);
  return out;
}

/** The built chart a HelmRelease installs: its chart (HelmRepository) or chartRef (OCIRepository) resolved among the objects, then among the mirrored releases by version. */
export function chartOf(hr: any, objects: any[]): { dir: string; chart: string; version: string } {
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === hr.metadata.namespace);
  let chart: string;
  let version: string;
  if (hr.spec.chartRef) {
    const oci = find(hr.spec.chartRef.kind, hr.spec.chartRef.name);
    if (!oci) throw new Error(`${hr.metadata.name}: no ${hr.spec.chartRef.kind} ${hr.spec.chartRef.name}`);
    expect(oci.spec.url.startsWith(`${PROJECT.ociRepository}/`), oci.spec.url).toBe(true);
    [chart, version] = [oci.spec.url.slice(PROJECT.ociRepository.length + 1), oci.spec.ref.tag];
  } else {
    const spec = hr.spec.chart.spec;
    const repo = find(spec.sourceRef.kind, spec.sourceRef.name);
    if (!repo) throw new Error(`${hr.metadata.name}: no ${spec.sourceRef.kind} ${spec.sourceRef.name}`);
    expect(repo.spec.url).toBe(PROJECT.chartRepository);
    [chart, version] = [spec.chart, spec.version];
  }
  for (const tag of Object.keys(RELEASES)) {
    const dir = path.join(chartsFor(tag), chart);
    try {
      if (String(readYaml(path.join(dir, 'Chart.yaml')).version) === String(version)) return { dir, chart, version };
    } catch {
      /* not in this release */
    }
  }
  throw new Error(`no built chart ${chart} ${version}`);
}

/** What `kfc validate` finds in values (merged over the chart's defaults): one line per issue. */
export function schemaErrors(dir: string, values: unknown): string[] {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-flux-values-')), 'values.yaml');
  writeFileSync(file, YAML.stringify(values));
  return validateValues({ chart: dir, values: [file], charts: path.dirname(dir) }).issues.map((i) => `${i.path}: expected ${i.expected}, got ${i.got}`);
}

/** helm-controller's render: the values Flux merges, the release name and target namespace of the HelmRelease, CRDs included. */
export async function renderAsFlux(dir: string, hr: any, values: unknown): Promise<string> {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-flux-values-')), 'values.yaml');
  writeFileSync(file, YAML.stringify(values));
  const min = Number(/^>=1\.(\d+)/.exec(readYaml(path.join(dir, 'Chart.yaml')).kubeVersion)![1]);
  return helmTemplate(dir, {
    release: hr.spec.releaseName ?? hr.metadata.name,
    namespace: hr.spec.targetNamespace ?? hr.metadata.namespace,
    includeCrds: true,
    valuesFiles: [file],
    extraArgs: ['--kube-version', `1.${Math.max(min, 33)}.0`],
  });
}
