import YAML from 'yaml';

/**
 * Every key optional, recursively: the shape of a values override file. Lists
 * stay whole (helm replaces a list, it never merges one), so their items keep
 * their required keys.
 */
export type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/**
 * Returns `values` unchanged, typed as an override of the chart's values:
 * `defineValues<KubeflowValues>({ pipelines: { enabled: true } })`. A misspelt
 * key, a wrong type or an unknown variant is a type error.
 */
export function defineValues<T>(values: DeepPartial<T>): DeepPartial<T> {
  return values;
}

function check(v: unknown, at: string): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`toYaml: ${at || 'the value'} is ${v}, which helm cannot read`);
    return;
  }
  if (Array.isArray(v)) return v.forEach((x, i) => check(x, `${at}[${i}]`));
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const [k, x] of Object.entries(v as object)) if (x !== undefined) check(x, at ? `${at}.${k}` : k);
    return;
  }
  throw new TypeError(`toYaml: ${at || 'the value'} is a ${typeof v === 'object' ? ((v as object).constructor?.name ?? 'object') : typeof v}; values hold only maps, lists, strings, numbers, booleans and null`);
}

/**
 * The values as a YAML document the way helm reads it: YAML 1.1, so strings
 * such as "yes", "on", "0755" or "1e3" are quoted and stay strings; keys set to
 * `undefined` are left out, `null` is written (helm then removes that key from
 * the chart's defaults). Throws on what helm could not read (functions, dates,
 * NaN, class instances).
 */
export function toYaml(values: unknown): string {
  check(values, '');
  return YAML.stringify(values, { version: '1.1', lineWidth: 0, indentSeq: false, aliasDuplicateObjects: false });
}
