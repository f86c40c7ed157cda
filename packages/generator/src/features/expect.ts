import { isDeepStrictEqual } from 'node:util';
import { parseYaml, podTemplate, type KObject } from '../core/model.js';
import { selects } from './apply.js';
import type { Expectation, Selector } from './contract.js';

/**
 * Checks a feature scenario's expectations on the objects a chart rendered
 * with its values: what must be absent or present, field values, and strings
 * that must appear nowhere (Secret data decoded). Returns the failures.
 */

/** Reads `a.b[name=x].c[0]` from a parsed object. */
export function getPath(doc: unknown, p: string): unknown {
  let cur: any = doc;
  for (const part of p.match(/[^.[\]]+|\[[^\]]*\]/g) ?? []) {
    if (cur == null) return undefined;
    if (part.startsWith('[')) {
      const inner = part.slice(1, -1);
      if (/^["'].*["']$/.test(inner)) {
        cur = cur[inner.slice(1, -1)];
        continue;
      }
      const eq = /^([^=]+)=(.*)$/.exec(inner);
      if (eq) cur = Array.isArray(cur) ? cur.find((x) => x && String(x[eq[1]]) === eq[2]) : undefined;
      else cur = cur[Number(inner)];
    } else cur = cur[part];
  }
  return cur;
}

/** Every string of a rendered object, with Secret `data` decoded. */
export function stringsOf(o: { kind: string; raw: string }, doc?: any): string[] {
  const d = doc ?? parseYaml(o.raw);
  // every key and scalar, the object's own name aside (features keep names)
  const out: string[] = [];
  const walk = (v: unknown, inMeta: boolean) => {
    if (Array.isArray(v)) v.forEach((x) => walk(x, false));
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (inMeta && k === 'name') continue;
        out.push(k);
        walk(x, v === d && k === 'metadata');
      }
    } else if (v !== null && v !== undefined) out.push(String(v));
  };
  walk(d, false);
  if (o.kind === 'Secret') for (const v of Object.values<string>(d?.data ?? {})) out.push(Buffer.from(String(v), 'base64').toString('utf8'));
  return out;
}

export function checkExpectation(e: Expectation, objects: KObject[]): string[] {
  const fails: string[] = [];
  const docs = objects.map((o) => ({ o, d: parseYaml(o.raw) }));
  const find = (s: Selector) => docs.filter((x) => selects(x.o, s));
  const show = (s: Selector) => `${s.kind} ${s.namespace ? `${s.namespace}/` : ''}${s.name}`;
  for (const s of e.absent ?? []) for (const x of find(s)) fails.push(`expected no ${show(s)}, found ${x.o.key}`);
  for (const s of e.present ?? []) if (!find(s).length) fails.push(`expected ${show(s)} to be rendered`);
  for (const entry of e.fields ?? []) {
    // `anyOf`: alternatives (releases place a field differently); one must hold
    if ('anyOf' in entry) {
      const results = (entry.anyOf as NonNullable<Expectation['fields']>).map((f) => checkExpectation({ fields: [f] }, objects));
      if (!results.some((r) => !r.length)) fails.push(`none of: ${results.map((r) => r.join('; ')).join(' | ')}`);
      continue;
    }
    const f = entry;
    const hits = find(f.select);
    if (!hits.length) {
      // an object only some releases have: the expectation says so (ifRendered), else its absence fails
      if (!f.ifRendered) fails.push(`expected ${show(f.select)} to be rendered (field ${f.path})`);
      continue;
    }
    for (const x of hits) {
      const roots = f.select.container ? [...(podTemplate(x.d, x.o.kind)?.spec?.containers ?? []), ...(podTemplate(x.d, x.o.kind)?.spec?.initContainers ?? [])].filter((c: any) => c.name === f.select.container) : [x.d];
      if (!roots.length) fails.push(`${x.o.key}: no container ${f.select.container}`);
      for (const r of roots) {
        const v = getPath(r, f.path);
        const at = `${x.o.key}${f.select.container ? ` container ${f.select.container}` : ''} ${f.path}`;
        if (f.absent && v !== undefined) fails.push(`${at}: expected absent, got ${JSON.stringify(v)}`);
        if (f.equals !== undefined && !isDeepStrictEqual(v, f.equals)) fails.push(`${at}: expected ${JSON.stringify(f.equals)}, got ${JSON.stringify(v)}`);
        // a list matches when one of its strings does (args, command)
        const strings = Array.isArray(v) ? v.filter((x) => typeof x === 'string') : typeof v === 'string' ? [v] : [];
        if (f.matches !== undefined && !strings.some((x) => new RegExp(f.matches!).test(x))) fails.push(`${at}: expected to match /${f.matches}/, got ${JSON.stringify(v)}`);
      }
    }
  }
  for (const needle of e.nowhere ?? []) {
    // object names aside: features keep every object's name ($replace leaves metadata.name alone)
    for (const x of docs) if (stringsOf(x.o, x.d).some((s) => s.includes(needle))) fails.push(`${x.o.key} contains "${needle}"`);
  }
  return fails;
}
