import { KfcError } from '../core/errors.js';
import type { ChartSource } from './flux.js';
import { choiceValues, dig, eachTargets, inputDefault, type InitChoice, type InitInput, type InitModel, type InitQuestion, type Provenance } from './init-model.js';
import { coalesce } from '../core/util.js';
import { closest, validateValueObjects, type ValuesIssue } from './validate.js';

/**
 * The questions of `kfc init`, asked in order through an Asker: interactively (init-ask.ts, a
 * prompts library) or from an answers file and flags (answersAsker below). Both take the same
 * path, so a script gets what a person gets. Each answer is checked against the chart's schema
 * where it lands, when it is given.
 */

export interface SelectSpec {
  name: string;
  message: string;
  choices: Array<{ value: string; name: string }>;
  default: string;
}
export interface CheckboxSpec {
  name: string;
  message: string;
  choices: Array<{ value: string; name: string; checked: boolean }>;
}
export interface InputSpec {
  name: string;
  message: string;
  default: string;
  /** true, or what is wrong with the answer */
  validate: (text: string) => true | string;
}
export interface Asker {
  select(s: SelectSpec): Promise<string>;
  checkbox(s: CheckboxSpec): Promise<string[]>;
  input(s: InputSpec): Promise<string>;
}

export type Delivery = 'helm' | 'argocd' | 'flux';

export interface InitResult {
  /** every answer, defaults included: `kfc init --answers` of this gives the same again */
  answers: Record<string, unknown>;
  /** the umbrella values the answers set (before pruning the defaults) */
  values: Record<string, unknown>;
  delivery: Delivery;
  source: ChartSource;
  /** `question: choice` per question asked */
  summary: string[];
}

export const DELIVERIES: Array<{ value: Delivery; name: string }> = [
  { value: 'helm', name: 'helm install (a script with the command)' },
  { value: 'argocd', name: 'Argo CD (an Application)' },
  { value: 'flux', name: 'Flux (a HelmRelease, its source, the values as a ConfigMap)' },
];
export const SOURCES: Array<{ value: ChartSource; name: string }> = [
  { value: 'helm-repository', name: 'the Helm chart repository' },
  { value: 'oci', name: 'the OCI registry' },
];

/** Schema issues of umbrella values (merged over the chart's defaults, subchart keys against their charts). */
export function schemaIssues(model: InitModel, values: Record<string, unknown>): ValuesIssue[] {
  return validateValueObjects({ chart: model.umbrellaDir, charts: model.chartsDir }, [{ file: 'answers', values }]).issues;
}

/** A provenance path (`a.b.0.c`) as validate writes values paths (`a.b[0].c`). */
const issuePath = (p: string) =>
  p
    .split('.')
    .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : `${i ? '.' : ''}${s}`))
    .join('');

function issuesOf(issues: ValuesIssue[], prov: Provenance, input: string): ValuesIssue[] {
  const paths = [...prov].filter(([, ins]) => ins.includes(input)).map(([p]) => issuePath(p));
  return issues.filter((i) => paths.some((p) => i.path === p || i.path.startsWith(`${p}.`) || i.path.startsWith(`${p}[`)));
}

const isEnabled = (values: Record<string, unknown>, c: string) => dig(values, `${c}.enabled`) === true;

async function askComponents(model: InitModel, asker: Asker): Promise<{ values: Record<string, unknown>; answer: unknown }> {
  const pickable = model.components.filter((c) => !model.governed.includes(c));
  const mode = await asker.select({
    name: 'components',
    message: 'Components',
    default: 'core',
    choices: [
      { value: 'core', name: `the core set, as in the upstream example (${model.core.length} components)` },
      { value: 'all', name: `everything (${model.components.length} components)` },
      { value: 'pick', name: 'let me pick' },
    ],
  });
  let chosen = mode === 'all' ? model.components : model.core;
  if (mode === 'pick') {
    const picked = await asker.checkbox({ name: 'components', message: `Components (${model.governed.join(', ')}: asked below)`, choices: pickable.map((c) => ({ value: c, name: c, checked: model.core.includes(c) })) });
    chosen = [...picked, ...model.core.filter((c) => model.governed.includes(c))];
  }
  const values = Object.fromEntries(model.components.map((c) => [c, { enabled: chosen.includes(c) }]));
  return { values, answer: mode === 'pick' ? chosen.filter((c) => pickable.includes(c)) : mode };
}

async function askInputs(model: InitModel, asker: Asker, q: InitQuestion, c: InitChoice, ctx: { answers: Record<string, unknown>; values: Record<string, unknown>; targets: string[] }): Promise<void> {
  const inputs = c.inputs ?? [];
  for (const [n, i] of inputs.entries()) {
    const later = (answers: Record<string, unknown>) => {
      // inputs not asked yet count with their defaults, so that only this answer's issues show
      const a = { ...answers };
      for (const j of inputs.slice(n + 1)) a[j.name] ??= inputDefault(j, a, ctx.values);
      return a;
    };
    const validate = (text: string): true | string => {
      if (!text && !i.optional) return 'an answer is needed';
      const prov: Provenance = new Map();
      const trial = coalesce(ctx.values, choiceValues(q, c, { ...ctx, answers: later({ ...ctx.answers, [i.name]: text }) }, prov)) as Record<string, unknown>;
      const bad = issuesOf(schemaIssues(model, trial), prov, i.name);
      return bad.length ? bad.map((x) => `${x.path}: expected ${x.expected}, got ${x.got}`).join('; ') : true;
    };
    ctx.answers[i.name] = await asker.input({ name: i.name, message: i.message, default: inputDefault(i, ctx.answers, ctx.values), validate });
  }
}

async function askQuestion(model: InitModel, asker: Asker, q: InitQuestion, state: { answers: Record<string, unknown>; values: Record<string, unknown>; summary: string[] }): Promise<void> {
  const values = coalesce(model.defaults, state.values) as Record<string, unknown>;
  if ((q.requires ?? []).some((c) => !isEnabled(values, c))) return;
  const targets = eachTargets(model, q, (c) => isEnabled(values, c));
  if (q.each && !targets.length) return;
  const choices = q.choices.filter((c) => (c.requires ?? []).every((r) => isEnabled(values, r)));
  const value = await asker.select({ name: q.name, message: q.each ? `${q.message} (${targets.join(', ')})` : q.message, default: choices[0].value, choices });
  const choice = choices.find((c) => c.value === value)!;
  state.answers[q.name] = value;
  state.summary.push(`${q.name}: ${value}`);
  await askInputs(model, asker, q, choice, { answers: state.answers, values, targets });
  state.values = coalesce(state.values, choiceValues(q, choice, { answers: state.answers, values, targets })) as Record<string, unknown>;
}

/** Asks every question; the values of the answers, checked against the schema as a whole. */
export async function runQuestions(model: InitModel, asker: Asker): Promise<InitResult> {
  const components = await askComponents(model, asker);
  const state = { answers: { components: components.answer } as Record<string, unknown>, values: components.values, summary: [`components: ${Array.isArray(components.answer) ? components.answer.join(', ') : components.answer}`] };
  for (const q of model.questions) await askQuestion(model, asker, q, state);
  const delivery = (await asker.select({ name: 'delivery', message: 'How you deliver it', default: 'helm', choices: DELIVERIES })) as Delivery;
  const source = (await asker.select({ name: 'source', message: 'Where the chart comes from', default: 'helm-repository', choices: SOURCES })) as ChartSource;
  state.answers.delivery = delivery;
  state.answers.source = source;
  state.summary.push(`delivery: ${delivery} from ${source}`);
  const issues = schemaIssues(model, state.values);
  if (issues.length) {
    throw new KfcError(
      `the answers give values the kubeflow chart refuses:\n${issues.map((i) => `  ${i.path}: expected ${i.expected}, got ${i.got}`).join('\n')}`,
      `fix ${model.questionsFile} (every choice must fit the chart's schema) or the answers`,
    );
  }
  return { answers: state.answers, values: state.values, delivery, source, summary: state.summary };
}

/** Every answer name the questions know, for the answers file. */
function knownAnswers(model: InitModel): string[] {
  return ['components', 'delivery', 'source', ...model.questions.flatMap((q) => [q.name, ...q.choices.flatMap((c) => (c.inputs ?? []).map((i: InitInput) => i.name))])];
}

/**
 * An Asker answering from an answers map (`kfc init --answers FILE`, `--answer k=v`, `--defaults`):
 * a missing answer takes the default, a wrong one is an error naming it. `unused()` lists the
 * answers no question took (an error: a value is honoured or refused, never ignored).
 */
export function answersAsker(model: InitModel, given: Record<string, unknown>, where: string): Asker & { unused(): string[] } {
  const known = knownAnswers(model);
  for (const k of Object.keys(given)) {
    if (!known.includes(k)) {
      const near = closest(k, known);
      throw new KfcError(`${where}: unknown answer "${k}"`, near ? `did you mean \`${near}\`?` : `answers: ${known.join(', ')}`);
    }
  }
  const used = new Set<string>();
  const take = (name: string) => {
    used.add(name);
    return given[name];
  };
  return {
    async select(s) {
      const a = take(s.name);
      if (s.name === 'components' && Array.isArray(a)) return 'pick';
      const v = a === undefined ? s.default : String(a);
      if (!s.choices.some((c) => c.value === v)) throw new KfcError(`${where}: ${s.name}: "${v}" is not a choice here`, `one of ${s.choices.map((c) => c.value).join(', ')}${s.name === 'components' ? ', or a list of components' : ''}`);
      return v;
    },
    async checkbox(s) {
      const a = take(s.name);
      const list = (Array.isArray(a) ? a : []).map(String);
      for (const c of list) {
        if (!s.choices.some((x) => x.value === c)) {
          const near = closest(
            c,
            s.choices.map((x) => x.value),
          );
          const governed = model.governed.includes(c);
          throw new KfcError(
            `${where}: components: "${c}" is not a component to pick${governed ? ` (a question below turns ${c} on or off)` : ''}`,
            near ? `did you mean \`${near}\`?` : `components: ${s.choices.map((x) => x.value).join(', ')}`,
          );
        }
      }
      return list;
    },
    async input(s) {
      const a = take(s.name);
      const v = a === undefined || a === null ? s.default : String(a);
      const ok = s.validate(v);
      if (ok !== true) throw new KfcError(`${where}: ${s.name}: "${v}": ${ok}`, s.message);
      return v;
    },
    unused: () => Object.keys(given).filter((k) => !used.has(k)),
  };
}
