import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { UMBRELLA } from '../core/chart-model.js';
import { KfcError } from '../core/errors.js';
import { helmRun, helmTemplate } from '../core/helm.js';
import { parseYaml } from '../core/model.js';
import { PROJECT } from '../core/project.js';
import { ignoreDifferences } from '../order/argocd.js';
import { planObjects } from '../order/sequence.js';
import { REPO_ALIAS } from '../emit/notes.js';
import { application, doc, NAMESPACE, ociRepositorySecret } from './argocd.js';
import { FLUX_NAMESPACE, umbrellaRelease } from './flux.js';
import { isPromptExit, promptAsker, type PromptStreams } from './init-ask.js';
import { answersAsker, runQuestions, schemaIssues, type Asker, type InitResult } from './init-flow.js';
import { isMap } from '../core/util.js';
import { loadInitModel, prune, type InitModel } from './init-model.js';
import { existing, valuesYaml, writeAll } from './init-write.js';

/**
 * `kfc init`: from zero to a values file and what your delivery needs, in one command. Asks the
 * questions of components/_shared/init.yaml (or takes them from --answers/--answer/--defaults),
 * writes values.yaml (only what differs from the defaults, each key commented, validated by the
 * chart's schema and rendered before anything is written), the answers (kfc-init.yaml) and the helm
 * command, an Argo CD Application or Flux objects; then prints the readiness check.
 */

export const VALUES_FILE = 'values.yaml';
export const ANSWERS_FILE = 'kfc-init.yaml';
export const CONFIG_MAP = 'kubeflow-values';

export interface InitOptions {
  /** directory to write to (default: the current one) */
  out?: string;
  charts?: string;
  force?: boolean;
  /** answers file (YAML map: question or input name -> answer) */
  answers?: string;
  /** `name=value` answers, over the file's */
  answer?: string[];
  /** take every default without asking */
  defaults?: boolean;
  /** prompts' streams (tests); default: the terminal */
  streams?: PromptStreams;
  /** ask even when stdin is not a terminal (tests driving the prompts) */
  interactive?: boolean;
  /** where the summary goes (default: stdout) */
  print?: (text: string) => void;
}

export interface InitOutcome {
  files: string[];
  result: InitResult;
  readiness: string[];
}

function readAnswers(o: InitOptions): Record<string, unknown> | undefined {
  if (!o.answers && !o.answer?.length && !o.defaults) return undefined;
  let given: Record<string, unknown> = {};
  if (o.answers) {
    let v: unknown;
    try {
      v = parseYaml(readFileSync(o.answers, 'utf8'));
    } catch (e) {
      throw new KfcError(`cannot read answers file ${o.answers}: ${(e as Error).message.split('\n')[0]}`, 'a YAML map: question or input name -> answer (kfc init writes one: kfc-init.yaml)');
    }
    if (v != null && !isMap(v)) throw new KfcError(`${o.answers}: answers must be a map of names to answers`, 'e.g. `mesh: ambient`');
    given = { ...(v ?? {}) };
  }
  for (const a of o.answer ?? []) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new KfcError(`--answer ${a}: expected NAME=VALUE`, 'e.g. --answer mesh=ambient --answer components=katib,pipelines');
    const [k, v] = [a.slice(0, eq), a.slice(eq + 1)];
    given[k] =
      k === 'components' && v.includes(',')
        ? v
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean)
        : v;
  }
  return given;
}

function asker(model: InitModel, o: InitOptions): Asker & { unused?: () => string[] } {
  const given = readAnswers(o);
  if (given) return answersAsker(model, given, o.answers ?? '--answer');
  if (!o.interactive && !process.stdin.isTTY) throw new KfcError('kfc init asks its questions on a terminal, and stdin is not one', 'pass --answers FILE (or --answer NAME=VALUE, or --defaults) to answer without a terminal');
  return promptAsker(o.streams);
}

/** The umbrella's NOTES for the values (helm install --dry-run=client): the render must succeed; its readiness commands. */
async function readinessOf(model: InitModel, valuesFile: string): Promise<string[]> {
  const res = await helmRun(['install', UMBRELLA, model.umbrellaDir, '--dry-run=client', '--namespace', NAMESPACE, '-f', valuesFile]);
  if (res.exitCode !== 0) throw new KfcError(`the kubeflow chart does not render with these values:\n${res.stderr.trim()}`, 'the answers fit the schema but not the chart; report it with the answers (kfc-init.yaml)');
  const notes = res.stdout.split(/^NOTES:$/m)[1] ?? '';
  return notes
    .split('\n')
    .filter((l) => /^\s+kubectl (wait|rollout status) /.test(l))
    .map((l) => l.trim());
}

function helmScript(model: InitModel, result: InitResult): string {
  const chart = result.source === 'oci' ? `${PROJECT.ociRepository}/${UMBRELLA}` : `${REPO_ALIAS}/${UMBRELLA}`;
  return [
    '#!/bin/sh',
    `# Installs (or upgrades) Kubeflow ${model.appVersion} with the values next to this script. Written by kfc init.`,
    '# --timeout covers the gate jobs, which wait for CRDs and webhook servers on a cold cluster.',
    'set -eu',
    'cd "$(dirname "$0")"',
    ...(result.source === 'oci' ? [] : [`helm repo add ${REPO_ALIAS} ${PROJECT.chartRepository} --force-update`]),
    `helm upgrade --install ${UMBRELLA} ${chart} --version ${model.version} --namespace ${NAMESPACE} --create-namespace --timeout 25m -f ${VALUES_FILE}`,
    '',
  ].join('\n');
}

async function argocdFile(model: InitModel, result: InitResult, valuesText: string, valuesFile: string): Promise<string> {
  const rendered = await helmTemplate(model.umbrellaDir, { includeCrds: true, release: UMBRELLA, namespace: NAMESPACE, valuesFiles: [valuesFile] });
  const repoURL = result.source === 'oci' ? PROJECT.ociRepository.replace(/^oci:\/\//, '') : PROJECT.chartRepository;
  const app = application({ name: UMBRELLA, source: { repoURL, chart: UMBRELLA, targetRevision: model.version, helm: { releaseName: UMBRELLA, values: valuesText } }, ignore: ignoreDifferences(planObjects(rendered)) });
  const header = `# Argo CD Application of Kubeflow ${model.appVersion} with the values of ${VALUES_FILE} (written by kfc init; edit both or run it again).\n`;
  return result.source === 'oci' ? doc(header, ociRepositorySecret(), app) : doc(header, app);
}

function fluxFiles(model: InitModel, result: InitResult): Record<string, string> {
  const header = `# Flux objects for Kubeflow ${model.appVersion} (written by kfc init); kustomization.yaml makes ${VALUES_FILE} their ConfigMap.\n`;
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: ['flux-kubeflow.yaml'],
    configMapGenerator: [{ name: CONFIG_MAP, namespace: FLUX_NAMESPACE, files: [VALUES_FILE], options: { disableNameSuffixHash: true, labels: { 'reconcile.fluxcd.io/watch': 'Enabled' } } }],
  };
  return {
    'flux-kubeflow.yaml': doc(header, ...umbrellaRelease({ version: model.version, source: result.source, configMap: CONFIG_MAP })),
    'kustomization.yaml': doc(header, kustomization),
  };
}

/** A path as the user best reads it: relative below the current directory, else absolute. */
const shown = (p: string) => {
  const rel = path.relative(process.cwd(), p);
  return rel.startsWith('..') ? p : rel || '.';
};

function nextStep(result: InitResult, out: string): string {
  const rel = shown(out);
  if (result.delivery === 'helm') return `sh ${path.join(rel, 'install.sh')}`;
  if (result.delivery === 'argocd') return `kubectl apply -f ${path.join(rel, 'argocd-application.yaml')}   # or commit it where Argo CD reads Applications`;
  return `kubectl apply -k ${rel}   # or commit the directory to the repository your Flux Kustomization syncs; flux get helmreleases -n ${FLUX_NAMESPACE}`;
}

/** The files for the answers, file name -> text; the values validated and rendered first. */
async function files(model: InitModel, result: InitResult): Promise<{ files: Record<string, string>; readiness: string[] }> {
  const values = prune(result.values, model.defaults);
  const header = [
    `Kubeflow ${model.appVersion} (chart ${UMBRELLA} ${model.version}): values written by kfc init for these answers (${ANSWERS_FILE}):`,
    ...result.summary.map((s) => `  ${s}`),
    "Only what differs from the chart's defaults. After editing: npm run kfc -- validate kubeflow -f values.yaml",
  ];
  const valuesText = valuesYaml(model, values, header);
  const issues = schemaIssues(model, parseYaml(valuesText) ?? {});
  if (issues.length) throw new KfcError(`the values kfc init would write are refused by the chart's schema: ${issues.map((i) => `${i.path}: expected ${i.expected}`).join('; ')}`, 'report it with the answers');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kfc-init-'));
  try {
    const valuesFile = path.join(tmp, VALUES_FILE);
    writeFileSync(valuesFile, valuesText);
    const readiness = await readinessOf(model, valuesFile);
    const answersText = `# kfc init answers; the same again: npm run kfc -- init --answers ${ANSWERS_FILE} --force\n${YAML.stringify(result.answers, { lineWidth: 0 })}`;
    const out: Record<string, string> = { [VALUES_FILE]: valuesText, [ANSWERS_FILE]: answersText };
    if (result.delivery === 'helm') out['install.sh'] = helmScript(model, result);
    if (result.delivery === 'argocd') out['argocd-application.yaml'] = await argocdFile(model, result, valuesText, valuesFile);
    if (result.delivery === 'flux') Object.assign(out, fluxFiles(model, result));
    return { files: out, readiness };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export async function init(o: InitOptions = {}): Promise<InitOutcome> {
  const print = o.print ?? ((t: string) => process.stdout.write(t));
  const model = loadInitModel({ charts: o.charts });
  const out = path.resolve(o.out ?? '.');
  const clash = existing(out, [VALUES_FILE, ANSWERS_FILE]);
  if (clash.length && !o.force) throw new KfcError(`kfc init would replace ${clash.map((f) => path.join(out, f)).join(', ')}`, 'pass --force to replace them, or --out another directory');
  const a = asker(model, o);
  const result = await runQuestions(model, a);
  const unused = a.unused?.() ?? [];
  if (unused.length) throw new KfcError(`answers no question took with these choices: ${unused.join(', ')}`, 'remove them, or choose what they belong to (e.g. hostname needs ingress: gateway-api)');
  const made = await files(model, result);
  const written = writeAll(out, made.files, { force: o.force, modes: { 'install.sh': 0o755 } });
  print(`\nWrote ${written.map(shown).join(', ')}\n\nNext:\n  ${nextStep(result, out)}\n\nKubeflow is ready when these pass:\n${made.readiness.map((l) => `  ${l}`).join('\n')}\n`);
  return { files: written, result, readiness: made.readiness };
}

/** `kfc init` on the command line: Ctrl-C cancels with nothing written (exit 130). */
export async function runInit(o: InitOptions): Promise<number> {
  try {
    await init(o);
    return 0;
  } catch (e) {
    if (!isPromptExit(e)) throw e;
    process.stderr.write('kfc init: cancelled; nothing written\n');
    return 130;
  }
}
