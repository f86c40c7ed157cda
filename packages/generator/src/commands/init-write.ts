import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML, { isMap as isYamlMap, isScalar, type Pair } from 'yaml';
import { KfcError } from '../core/errors.js';
import { isMap } from '../core/util.js';
import type { InitModel } from './init-model.js';

/**
 * What `kfc init` writes: values.yaml with a comment on every key (its description in the chart's
 * schema), and the files written all at once: each to a temporary file first, renamed into place
 * only when all are written, removed on any failure or Ctrl-C.
 */

/** What kfc init reads of a JSON schema. */
interface Schema {
  $ref?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
}

function readSchema(file: string): Schema | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Schema) : undefined;
}

/** The schema node at a values path, following properties, items and local $refs. */
function schemaAt(root: Schema, segs: string[]): Schema | undefined {
  const deref = (s: Schema | undefined): Schema | undefined => {
    for (let i = 0; s?.$ref && i < 10; i++)
      s = s.$ref.startsWith('#/')
        ? (s.$ref
            .slice(2)
            .split('/')
            .reduce<unknown>((a, k) => (isMap(a) ? a[k] : undefined), root) as Schema | undefined)
        : undefined;
    return s;
  };
  let s = deref(root);
  for (const seg of segs) {
    if (!s) return undefined;
    s = deref(/^\d+$/.test(seg) && s.items ? s.items : (s.properties?.[seg] ?? (isMap(s.additionalProperties) ? (s.additionalProperties as Schema) : undefined)));
  }
  return s;
}

/** The first sentence of a description: up to a full stop outside parentheses, not one of `e.g.`/`i.e.`. */
export function firstSentence(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  let depth = 0;
  for (let i = 0; i < t.length; i++) {
    if (t[i] === '(') depth++;
    else if (t[i] === ')') depth = Math.max(0, depth - 1);
    else if (t[i] === '.' && depth === 0 && (i + 1 === t.length || t[i + 1] === ' ') && !/\b(e\.g|i\.e|etc)$/.test(t.slice(0, i))) return t.slice(0, i + 1);
  }
  return t;
}

/** A description's first sentence as comment lines of at most ~100 characters. */
function commentLines(text: string): string {
  const lines: string[] = [];
  let line = '';
  for (const w of firstSentence(text).split(' ')) {
    if (line && line.length + w.length > 98) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.map((l) => ` ${l}`).join('\n');
}

/** A describer of values paths: the umbrella's schema, a component's keys from the component chart's schema. */
function describer(model: InitModel): (segs: string[]) => string | undefined {
  const umbrella = readSchema(path.join(model.umbrellaDir, 'values.schema.json')) ?? {};
  const subs = new Map<string, Schema | undefined>();
  return (segs) => {
    const [top, ...rest] = segs;
    if (model.components.includes(top) && rest.length && rest[0] !== 'enabled') {
      if (!subs.has(top)) subs.set(top, readSchema(path.join(model.chartsDir, top, 'values.schema.json')));
      const sub = subs.get(top);
      return sub ? schemaAt(sub, rest)?.description : undefined;
    }
    return schemaAt(umbrella, segs)?.description;
  };
}

/** values.yaml: a header, then the values with each key's schema description above it. */
export function valuesYaml(model: InitModel, values: Record<string, unknown>, header: string[]): string {
  const describe = describer(model);
  const doc = new YAML.Document(values);
  const walk = (node: unknown, at: string[]) => {
    if (!isYamlMap(node)) return;
    for (const pair of node.items as Pair[]) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const segs = [...at, key];
      const d = describe(segs);
      if (d && isScalar(pair.key)) pair.key.commentBefore = commentLines(d);
      walk(pair.value, segs);
    }
  };
  walk(doc.contents, []);
  doc.commentBefore = header.map((l) => (l ? ` ${l}` : '')).join('\n');
  const body = Object.keys(values).length ? doc.toString({ lineWidth: 0, indentSeq: false }) : `${header.map((l) => `# ${l}`.trimEnd()).join('\n')}\n{}\n`;
  return body;
}

/** Files that exist and would be replaced. */
export function existing(dir: string, files: string[]): string[] {
  return files.filter((f) => existsSync(path.join(dir, f)));
}

/**
 * Writes every file or none: all go to temporary files next to their place, then are renamed into
 * place. A failure, or SIGINT/SIGTERM while writing, removes the temporary files and leaves what was
 * there. Refuses to replace a file unless `force`.
 */
export function writeAll(dir: string, files: Record<string, string>, o: { force?: boolean; modes?: Record<string, number> } = {}): string[] {
  const clash = existing(dir, Object.keys(files));
  if (clash.length && !o.force) throw new KfcError(`kfc init would replace ${clash.map((f) => path.join(dir, f)).join(', ')}`, 'pass --force to replace them, or --out another directory');
  mkdirSync(dir, { recursive: true });
  const temps = new Map(Object.keys(files).map((f) => [f, path.join(dir, path.dirname(f), `.${path.basename(f)}.kfc-init-${process.pid}.tmp`)]));
  const cleanup = () => {
    for (const t of temps.values()) rmSync(t, { force: true });
  };
  const onSignal = (sig: NodeJS.Signals) => {
    cleanup();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(path.dirname(temps.get(f)!), { recursive: true });
      writeFileSync(temps.get(f)!, text, { mode: o.modes?.[f] ?? 0o644 });
    }
    for (const [f, t] of temps) renameSync(t, path.join(dir, f));
    return Object.keys(files).map((f) => path.join(dir, f));
  } finally {
    cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
