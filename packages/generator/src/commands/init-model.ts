import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UMBRELLA } from '../core/chart-model.js';
import { KfcError } from '../core/errors.js';
import { parseYaml } from '../core/model.js';
import { repoRoot } from '../core/paths.js';
import { coalesce, isMap } from '../core/util.js';

/**
 * What `kfc init` asks and what each answer sets, read from the built charts (the components,
 * the core set: the umbrella's defaults) and from components/_shared/init.yaml (the questions:
 * platform knowledge stays in components/). Pure data and the substitution of answers into values.
 */

export type InputType = 'string' | 'integer' | 'labels';

export interface InitInput {
  name: string;
  message: string;
  /** a default, or candidates: the first whose references all have a value */
  default?: string | string[];
  type?: InputType;
  optional?: boolean;
}

export interface InitChoice {
  value: string;
  name: string;
  requires?: string[];
  inputs?: InitInput[];
  values?: Record<string, unknown>;
}

export interface InitQuestion {
  name: string;
  message: string;
  requires?: string[];
  /** the values go under `<component>.<each>` of every enabled component whose chart has that key */
  each?: string;
  choices: InitChoice[];
}

export interface InitModel {
  chartsDir: string;
  umbrellaDir: string;
  version: string;
  appVersion: string;
  /** every component of the umbrella (its dependencies with an `enabled` value) */
  components: string[];
  /** the components the umbrella enables by default: the upstream example's set */
  core: string[];
  /** components a question turns on or off (not in the list of components to pick) */
  governed: string[];
  questions: InitQuestion[];
  /** the umbrella's defaults, each component's key merged with the component chart's own defaults */
  defaults: Record<string, unknown>;
  /** where the questions come from (for messages) */
  questionsFile: string;
}

export const QUESTIONS_FILE = () => path.join(repoRoot(), 'components', '_shared', 'init.yaml');

function readYamlFile(file: string): unknown {
  try {
    return parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new KfcError(`cannot read ${file}: ${(e as Error).message.split('\n')[0]}`, 'run `npm run build` first (kfc init reads the built charts), or pass --charts DIR');
  }
}

/** The questions file, checked: unique names (answers share one namespace), every choice named. */
export function readQuestions(file: string): InitQuestion[] {
  const qs: InitQuestion[] = (readYamlFile(file) as { questions?: InitQuestion[] } | null)?.questions ?? [];
  const names = new Map<string, string>();
  const claim = (n: string, where: string) => {
    if (['components', 'delivery', 'source'].includes(n) || names.has(n))
      throw new KfcError(`${file}: the answer name "${n}" (${where}) is used twice${names.has(n) ? ` (also ${names.get(n)})` : ' (kfc init uses it)'}`, 'answers share one namespace: rename one');
    names.set(n, where);
  };
  for (const q of qs) {
    if (!q?.name || !q.message || !Array.isArray(q.choices) || !q.choices.length) throw new KfcError(`${file}: every question needs name, message and choices (got ${JSON.stringify(q)?.slice(0, 80)})`);
    claim(q.name, `question ${q.name}`);
    for (const c of q.choices) {
      if (!c?.value || !c.name) throw new KfcError(`${file}: question ${q.name}: every choice needs value and name`);
      for (const i of c.inputs ?? []) claim(i.name, `input of ${q.name}=${c.value}`);
    }
  }
  return qs;
}

/** `<component>.enabled` keys a choice sets. */
function enabledKeys(values: Record<string, unknown> | undefined): string[] {
  return Object.entries(values ?? {})
    .filter(([, v]) => isMap(v) && 'enabled' in v)
    .map(([k]) => k);
}

export function loadInitModel(o: { charts?: string; questions?: string } = {}): InitModel {
  const chartsDir = path.resolve(o.charts ?? path.join(repoRoot(), 'charts'));
  const umbrellaDir = path.join(chartsDir, UMBRELLA);
  if (!existsSync(path.join(umbrellaDir, 'Chart.yaml'))) throw new KfcError(`no umbrella chart in ${umbrellaDir}`, 'run `npm run build` first (kfc init reads the built charts), or pass --charts DIR');
  const chart = (readYamlFile(path.join(umbrellaDir, 'Chart.yaml')) ?? {}) as { version?: unknown; appVersion?: unknown; dependencies?: Array<{ name: string; alias?: string }> };
  const umbrellaValues = (readYamlFile(path.join(umbrellaDir, 'values.yaml')) ?? {}) as Record<string, unknown>;
  const deps = new Set<string>((chart.dependencies ?? []).map((d) => d.alias ?? d.name));
  const components = Object.keys(umbrellaValues).filter((k) => deps.has(k) && isMap(umbrellaValues[k]) && 'enabled' in (umbrellaValues[k] as object));
  const defaults: Record<string, unknown> = { ...umbrellaValues };
  for (const c of components) {
    const own = path.join(chartsDir, c, 'values.yaml');
    if (existsSync(own)) defaults[c] = coalesce(readYamlFile(own) ?? {}, umbrellaValues[c]);
  }
  const questionsFile = path.resolve(o.questions ?? QUESTIONS_FILE());
  const questions = readQuestions(questionsFile);
  const governed = [...new Set(questions.flatMap((q) => q.choices.flatMap((c) => enabledKeys(c.values))))].filter((c) => components.includes(c));
  return {
    chartsDir,
    umbrellaDir,
    version: String(chart.version),
    appVersion: String(chart.appVersion),
    components,
    core: components.filter((c) => (umbrellaValues[c] as { enabled?: unknown }).enabled === true),
    governed,
    questions,
    defaults,
    questionsFile,
  };
}

/** The components a question with `each` applies to: enabled ones whose chart has the key. */
export function eachTargets(model: InitModel, q: InitQuestion, enabled: (c: string) => boolean): string[] {
  if (!q.each) return [];
  return model.components.filter((c) => enabled(c) && isMap(model.defaults[c]) && q.each! in (model.defaults[c] as object));
}

/** A value at a dotted path of a map (`a.b.0.c`). */
export function dig(v: unknown, dotted: string): unknown {
  let cur = v;
  for (const s of dotted.split('.')) {
    if (Array.isArray(cur) && /^\d+$/.test(s)) cur = cur[Number(s)];
    else if (isMap(cur)) cur = cur[s];
    else return undefined;
  }
  return cur;
}

const REF = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

/** The answer or value a reference names (`name`, or `values.a.b`), as text; undefined/empty when it has none. */
function lookup(ref: string, answers: Record<string, unknown>, values: Record<string, unknown>): unknown {
  return ref.startsWith('values.') ? dig(values, ref.slice('values.'.length)) : answers[ref];
}

/** An input's default: the first candidate whose references all have a value. */
export function inputDefault(i: InitInput, answers: Record<string, unknown>, values: Record<string, unknown>): string {
  const candidates = Array.isArray(i.default) ? i.default : [i.default ?? ''];
  for (const c of candidates) {
    const refs = [...c.matchAll(REF)].map((m) => lookup(m[1], answers, values));
    if (refs.every((r) => r !== undefined && r !== '')) return c.replace(REF, (_, r) => String(lookup(r, answers, values)));
  }
  return '';
}

/** An input's answer as the values take it. */
export function typedAnswer(i: InitInput, text: string): unknown {
  if (i.type === 'integer') return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text;
  if (i.type === 'labels') {
    const out: Record<string, string> = {};
    for (const part of text
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)) {
      const eq = part.indexOf('=');
      if (eq <= 0) return text; // the schema says what is wrong with it
      out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
    }
    return out;
  }
  return text;
}

/** Dotted values path -> the inputs whose answers landed there. */
export type Provenance = Map<string, string[]>;

const DROP = Symbol('drop');

/**
 * A choice's values with the answers substituted. A lone `{{ x }}` takes the typed answer; an
 * optional input left empty removes its key, and a list item (map) that lost all its keys.
 */
export function substitute(template: unknown, ctx: { inputs: Map<string, InitInput>; answers: Record<string, unknown>; values: Record<string, unknown> }, at: string[] = [], prov: Provenance = new Map()): unknown {
  if (typeof template === 'string') {
    const refs = [...template.matchAll(REF)].map((m) => m[1]);
    const fromInputs = refs.filter((r) => ctx.inputs.has(r));
    if (fromInputs.length) prov.set(at.join('.'), fromInputs);
    const lone = /^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$/.exec(template);
    if (lone) {
      const input = ctx.inputs.get(lone[1]);
      const v = lookup(lone[1], ctx.answers, ctx.values);
      if ((v === undefined || v === '') && (input?.optional || !input)) return DROP;
      return input ? typedAnswer(input, String(v ?? '')) : v;
    }
    return template.replace(REF, (_, r) => String(lookup(r, ctx.answers, ctx.values) ?? ''));
  }
  if (Array.isArray(template)) {
    const items = template.map((x, i) => substitute(x, ctx, [...at, String(i)], prov)).filter((x) => x !== DROP && !(isMap(x) && !Object.keys(x).length));
    return items;
  }
  if (isMap(template)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(template)) {
      const s = substitute(v, ctx, [...at, k], prov);
      if (s !== DROP) out[k] = s;
    }
    return out;
  }
  return template;
}

/** The values a choice sets, with `each` applied: placed under every target component's key. */
export function choiceValues(q: InitQuestion, c: InitChoice, ctx: { answers: Record<string, unknown>; values: Record<string, unknown>; targets: string[] }, prov: Provenance = new Map()): Record<string, unknown> {
  const inputs = new Map((c.inputs ?? []).map((i) => [i.name, i]));
  if (!q.each) return substitute(c.values ?? {}, { inputs, answers: ctx.answers, values: ctx.values }, [], prov) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const t of ctx.targets) out[t] = { [q.each]: substitute(c.values ?? {}, { inputs, answers: ctx.answers, values: ctx.values }, [t, q.each], prov) };
  return out;
}

/** Deep equality of YAML data (maps regardless of key order). */
export function equal(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isMap(a) || isMap(b)) {
    if (!isMap(a) || !isMap(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && equal(a[k], b[k]));
  }
  return a === b;
}

/** Only what differs from the defaults: equal keys go, maps recurse, anything else is kept whole. */
export function prune(values: Record<string, unknown>, defaults: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    const d = isMap(defaults) ? defaults[k] : undefined;
    if (equal(v, d)) continue;
    if (isMap(v) && isMap(d)) {
      const p = prune(v, d);
      if (Object.keys(p).length) out[k] = p;
    } else out[k] = v;
  }
  return out;
}
