import YAML from 'yaml';
import { KfcError } from '../core/errors.js';

/**
 * Turns a parsed Kubernetes object into Helm template text.
 *
 * Fields that become template actions are first replaced by marker tokens,
 * the object is printed as YAML, every literal `{{`/`}}` is escaped, and
 * finally the markers are swapped for their actions. Markers never occur in
 * upstream text (checked), so escaping cannot touch an action.
 */
export const STRINGIFY_OPTIONS = {
  version: '1.1',
  lineWidth: 0,
  minContentWidth: 0,
  indentSeq: false,
  aliasDuplicateObjects: false,
} as const;

const TOKEN = /__KFC_(\d+)__/;
const TOKENS = /__KFC_(\d+)__/g;

/** A field replaced by a template action, rendered once its indentation is known. */
type ValueMarker = { type: 'value'; render: (keyCol: number) => string };
type KeyMarker = { type: 'key'; render: (indent: number) => string };
type ItemMarker = { type: 'item'; render: (indent: number) => string };
type RawMarker = { type: 'raw'; text: string };
type Marker = ValueMarker | KeyMarker | ItemMarker | RawMarker;

/** Upstream pod labels/annotations bound to a helper: features add keys to them under a condition. */
export interface PodMetaBinding {
  add: Array<{ when: string; values: Record<string, string> }>;
}

export class TemplateDoc {
  private markers: Marker[] = [];
  /** tokens of upstream pod labels/annotations (templatize/workloads.ts), by token */
  readonly podMeta = new Map<string, PodMetaBinding>();

  private add(m: Marker): string {
    this.markers.push(m);
    return `__KFC_${this.markers.length - 1}__`;
  }

  /** A token to put where a scalar/mapping value is; `render(keyCol)` gives the text after `key:`. */
  value(render: (keyCol: number) => string): string {
    return this.add({ type: 'value', render });
  }

  /** A token to use as a mapping key (value null); `render(indent)` replaces the whole line. */
  key(render: (indent: number) => string): string {
    return this.add({ type: 'key', render });
  }

  /** A token to use as a list element; `render(indent)` (the column of its dash) replaces the whole line. */
  item(render: (indent: number) => string): string {
    return this.add({ type: 'item', render });
  }

  /** A token printed as `text` verbatim wherever it lands (a template action as a scalar). */
  raw(text: string): string {
    return this.add({ type: 'raw', text });
  }

  isRaw(token: string): boolean {
    return this.markers[Number(/^__KFC_(\d+)__$/.exec(token)?.[1] ?? -1)]?.type === 'raw';
  }

  rawText(token: string): string {
    const m = this.markers[Number(/^__KFC_(\d+)__$/.exec(token)?.[1] ?? -1)];
    return m?.type === 'raw' ? m.text : '';
  }

  toText(doc: unknown, source: string): string {
    return this.render(doc, source, 0);
  }

  /**
   * Prints a node (a whole document, a `{key: value}` entry, a `[item]`) at
   * `indent`: literal braces escaped, then every token replaced by its action.
   * Markers may render nodes through this again (conditional blocks).
   */
  render(node: unknown, source: string, indent: number): string {
    const text = YAML.stringify(node, STRINGIFY_OPTIONS);
    const escaped = escapeBraces(text);
    const pad = sp(indent);
    const lines = escaped.split('\n').map((l) => (l && indent ? pad + l : l));
    if (!this.markers.length) return lines.join('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      const m = TOKEN.exec(line);
      if (!m) continue;
      const marker = this.markers[Number(m[1])];
      if (!marker) throw new KfcError(`${source}: unknown marker in ${line}`);
      if (marker.type === 'raw') {
        lines[i] = this.raws(line, source);
      } else if (marker.type === 'key') {
        const k = /^( *)__KFC_\d+__: null$/.exec(line);
        if (!k) throw new KfcError(`${source}: cannot place a template block at "${line.trim()}"`, 'report this as a generator bug');
        lines[i] = marker.render(k[1].length);
      } else if (marker.type === 'item') {
        const k = /^( *)- __KFC_\d+__$/.exec(line);
        if (!k) throw new KfcError(`${source}: cannot place a template list item at "${line.trim()}"`, 'report this as a generator bug');
        lines[i] = marker.render(k[1].length);
      } else {
        const v = /^( *(?:- )*)[^ ].*?: __KFC_\d+__$/.exec(line);
        if (!v) throw new KfcError(`${source}: cannot place a template value at "${line.trim()}"`, 'report this as a generator bug');
        lines[i] = this.raws(
          line.replace(TOKEN, () => marker.render(v[1].length)),
          source,
        );
      }
    }
    return lines.join('\n');
  }

  private raws(line: string, source: string): string {
    return line.replace(TOKENS, (_t, n: string) => {
      const marker = this.markers[Number(n)];
      if (marker?.type !== 'raw') throw new KfcError(`${source}: a template block cannot share a line: "${line.trim()}"`, 'report this as a generator bug');
      return marker.text;
    });
  }
}

/**
 * Escapes literal template delimiters so Helm prints them unchanged: every run
 * of two or more braces (`{{`, `}}`, but also `{}}` or `{{{` that a lone brace
 * next to an escape would turn into a delimiter) becomes a string action.
 */
export function escapeBraces(text: string): string {
  return text.replace(/[{}]{2,}/g, (run) => `{{ ${JSON.stringify(run)} }}`);
}

export function assertNoMarkers(raw: string, source: string): void {
  if (raw.includes('__KFC_')) throw new KfcError(`${source}: upstream text contains the generator's marker "__KFC_"`, 'report this as a generator bug');
}

export const sp = (n: number) => ' '.repeat(n);

/** `key: <value>` always present: the value is rendered from a values path. */
export function blockValue(expr: string) {
  return (keyCol: number) => `{{- toYaml ${expr} | nindent ${keyCol + 2} }}`;
}

export function inlineValue(expr: string) {
  return () => `{{ toYaml ${expr} }}`;
}

/** A key upstream does not set: rendered only when the value is non-empty. */
export function optionalBlock(key: string, expr: string) {
  return (i: number) => `${sp(i)}{{- with ${expr} }}\n${sp(i)}${key}: {{- toYaml . | nindent ${i + 2} }}\n${sp(i)}{{- end }}`;
}

export function optionalScalar(key: string, expr: string) {
  return (i: number) => `${sp(i)}{{- with ${expr} }}\n${sp(i)}${key}: {{ toYaml . }}\n${sp(i)}{{- end }}`;
}

/** Like optionalScalar but 0 is a value too (only null/unset is left out). */
export function optionalNumber(key: string, expr: string) {
  return (i: number) => `${sp(i)}{{- if not (kindIs "invalid" ${expr}) }}\n${sp(i)}${key}: {{ toYaml ${expr} }}\n${sp(i)}{{- end }}`;
}
