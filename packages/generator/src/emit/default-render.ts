import type { ChartModel, Content } from '../core/chart-model.js';
import { KfcError } from '../core/errors.js';

/**
 * What a chart model renders with its default values, without running helm:
 * the template conditions the generator writes (`eq .Values.variant "x"`,
 * `has .Values.variant (list ...)`, `.Values.kustomizeComponents.y`, `not`,
 * `and`, `or`) evaluated against the default values. A condition of another
 * form is an error naming it, never a guess.
 */

type Tok = { t: '(' | ')' | 'str' | 'path' | 'word'; v: string };

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|(\.[A-Za-z0-9_.]+)|([A-Za-z_][A-Za-z0-9_]*))/y;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < s.length && (m = re.exec(s))) {
    at = re.lastIndex;
    if (m[1]) out.push({ t: '(', v: '(' });
    else if (m[2]) out.push({ t: ')', v: ')' });
    else if (m[3] !== undefined) out.push({ t: 'str', v: JSON.parse(`"${m[3]}"`) });
    else if (m[4]) out.push({ t: 'path', v: m[4] });
    else out.push({ t: 'word', v: m[5] });
    if (!s.slice(at).trim()) at = s.length;
  }
  if (at < s.length) throw new Error(`cannot read "${s.slice(at)}"`);
  return out;
}

const FUNCS: Record<string, (args: unknown[]) => unknown> = {
  eq: (a) => a.slice(1).some((x) => x === a[0]),
  ne: (a) => a[0] !== a[1],
  not: (a) => !truthy(a[0]),
  and: (a) => a.every(truthy),
  or: (a) => a.some(truthy),
  list: (a) => a,
  has: (a) => Array.isArray(a[1]) && a[1].includes(a[0]),
};

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === 'object') return Object.keys(v).length > 0;
  return !!v && v !== '0';
}

/** Evaluates a template condition against values. */
export function evalCondition(cond: string, values: Record<string, unknown>): boolean {
  const toks = tokenize(cond);
  let i = 0;
  const lookup = (p: string) => {
    if (!p.startsWith('.Values.')) throw new Error(`${p} is not under .Values`);
    return p
      .slice('.Values.'.length)
      .split('.')
      .reduce<any>((o, k) => (o == null ? undefined : o[k]), values);
  };
  const atom = (): unknown => {
    const t = toks[i++];
    if (!t) throw new Error('unexpected end');
    if (t.t === '(') {
      const v = command();
      if (toks[i++]?.t !== ')') throw new Error('missing )');
      return v;
    }
    if (t.t === 'str') return t.v;
    if (t.t === 'path') return lookup(t.v);
    if (t.v === 'true' || t.v === 'false') return t.v === 'true';
    throw new Error(`unexpected ${t.v}`);
  };
  const command = (): unknown => {
    const t = toks[i];
    if (t?.t === 'word' && FUNCS[t.v]) {
      i++;
      const args: unknown[] = [];
      while (i < toks.length && toks[i].t !== ')') args.push(atom());
      return FUNCS[t.v](args);
    }
    return atom();
  };
  const v = command();
  if (i !== toks.length) throw new Error('trailing tokens');
  return truthy(v);
}

/**
 * The contents a chart model renders with its default values, outside the
 * umbrella (`inUmbrella`: as a dependency of the kubeflow chart), CRDs included.
 */
export function defaultContents(m: Pick<ChartModel, 'name' | 'objects' | 'values'>, inUmbrella = false): Array<{ key: string; kind: string; apiVersion: string; raw: string; content?: Content }> {
  const values = { ...m.values, global: { ...((m.values.global as object) ?? {}), kubeflowUmbrella: inUmbrella } };
  const holds = (cond: string, key: string) => {
    if (cond === 'true') return true;
    try {
      return evalCondition(cond, values);
    } catch (e) {
      throw new KfcError(`${m.name}: ${key}: cannot evaluate the template condition "${cond}" against the default values (${(e as Error).message})`, 'teach packages/generator/src/emit/default-render.ts this form');
    }
  };
  const out: ReturnType<typeof defaultContents> = [];
  for (const o of m.objects) {
    if (o.crd) {
      out.push({ key: o.key, kind: o.sample.kind, apiVersion: o.sample.apiVersion, raw: o.sample.raw });
      continue;
    }
    if (!o.when.every((w) => holds(w, o.key))) continue;
    const branch = o.branches.find((b) => holds(b.cond, o.key));
    if (!branch?.content || (branch.outsideUmbrellaOnly && inUmbrella)) continue;
    const c = branch.content;
    out.push({ key: o.key, kind: c.obj.kind, apiVersion: c.obj.apiVersion, raw: c.obj.raw, content: c });
  }
  return out;
}
