import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { KfcError } from '../core/errors.js';
import { parseYaml } from '../core/model.js';
import { repoRoot } from '../core/paths.js';
import { coalesce, isMap } from '../core/util.js';
import { STRICT_AJV } from '../core/schema.js';
import { readTarGz } from '../core/tar.js';

/** One problem in a values file: where (values path, file), what the schema expects, what it got. */
export interface ValuesIssue {
  /** dotted values path, e.g. `katib.katibController.replicas` */
  path: string;
  expected: string;
  got: string;
  /** for an unknown key: the closest known key at that place */
  suggestion?: string;
  /** the last -f file that sets the path (undefined when it comes from the chart's defaults) */
  file?: string;
}

/** A chart's values.yaml, values.schema.json and Chart.yaml, from a directory or a packaged .tgz. */
interface ChartFiles {
  name: string;
  where: string;
  read(file: string): string | undefined;
}

function fromDir(dir: string): ChartFiles {
  return { name: path.basename(dir), where: dir, read: (f) => (existsSync(path.join(dir, f)) ? readFileSync(path.join(dir, f), 'utf8') : undefined) };
}

function fromTgz(file: string, name: string): ChartFiles {
  const files = readTarGz(file);
  return { name, where: file, read: (f) => files.get(`${name}/${f}`)?.toString('utf8') };
}

/** A chart given as a directory, or as a chart name in the charts directory. */
function resolveChart(chart: string, chartsDir: string): ChartFiles {
  if (existsSync(path.join(chart, 'Chart.yaml'))) return fromDir(path.resolve(chart));
  if (existsSync(path.join(chartsDir, chart, 'Chart.yaml'))) return fromDir(path.join(chartsDir, chart));
  const known = existsSync(chartsDir) ? readdirSync(chartsDir).filter((d) => existsSync(path.join(chartsDir, d, 'Chart.yaml'))) : [];
  const near = closest(chart, known);
  throw new KfcError(`no chart ${chart} (neither a chart directory nor a chart in ${chartsDir})`, near ? `did you mean \`${near}\`?` : known.length ? `charts: ${known.join(', ')}` : 'run `npm run build` first, or pass a chart directory');
}

function readValuesFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new KfcError(`cannot read values file ${file}: ${(e as Error).message}`, 'check the path given with -f');
  }
  let v: unknown;
  try {
    v = parseYaml(text);
  } catch (e) {
    throw new KfcError(`${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`, 'fix the YAML syntax');
  }
  if (v == null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new KfcError(`${file}: values must be a map of keys, not ${Array.isArray(v) ? 'a list' : typeof v}`, 'a values file is a YAML mapping (key: value)');
  return v as Record<string, unknown>;
}

/** Edit distance with transpositions (optimal string alignment). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

/** The known key closest to `key`, when it is close enough to be a misspelling. */
export function closest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dist = k.toLowerCase() === key.toLowerCase() ? 0.5 : distance(key.toLowerCase(), k.toLowerCase());
    if (dist < bestD) [best, bestD] = [k, dist];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** A values path as users write it: `a.b[0].c`, keys with dots quoted. */
function dotted(segments: string[]): string {
  return segments.map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : /^[A-Za-z0-9_-]+$/.test(s) ? `${i ? '.' : ''}${s}` : `["${s}"]`)).join('');
}

function pointer(instancePath: string): string[] {
  return instancePath
    ? instancePath
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    : [];
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list (${v.length} items)`;
  if (typeof v === 'object') return 'a map';
  return `${JSON.stringify(v)} (${typeof v === 'number' && Number.isInteger(v) ? 'integer' : typeof v})`;
}

/**
 * A value that fits none of a oneOf/anyOf's forms is one issue, not one per
 * form: the errors inside the alternatives at the same place are dropped and
 * the oneOf/anyOf error stays (issueOf words it from the schema's description).
 */
function collapseAlternatives(errors: ErrorObject[]): ErrorObject[] {
  const alts = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  return errors.filter((e) => !alts.some((a) => a !== e && e.instancePath === a.instancePath && e.schemaPath.startsWith(`${a.schemaPath}/`)));
}

function issueOf(e: ErrorObject, prefix: string[]): ValuesIssue {
  const at = [...prefix, ...pointer(e.instancePath)];
  const p = e.params as Record<string, any>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const known = Object.keys(e.parentSchema?.properties ?? {});
      const suggestion = closest(p.additionalProperty, known);
      return {
        path: dotted([...at, p.additionalProperty]),
        expected: !known.length ? 'no keys here' : known.length <= 8 ? `one of the keys ${known.map((k) => `\`${k}\``).join(', ')}` : `one of the ${known.length} keys documented in the chart's README`,
        got: `unknown key \`${p.additionalProperty}\``,
        suggestion,
      };
    }
    case 'required':
      return { path: dotted([...at, p.missingProperty]), expected: 'a value (required)', got: 'nothing' };
    case 'type':
      return { path: dotted(at), expected: Array.isArray(p.type) ? p.type.join(' or ') : p.type, got: describe(e.data) };
    case 'enum':
      return { path: dotted(at), expected: `one of ${p.allowedValues.map((x: unknown) => JSON.stringify(x)).join(', ')}`, got: describe(e.data) };
    case 'oneOf':
    case 'anyOf':
      return { path: dotted(at), expected: e.parentSchema?.description ? String(e.parentSchema.description) : `one of ${((e.schema as any[]) ?? []).length} allowed forms`, got: describe(e.data) };
    case 'pattern':
      return { path: dotted(at), expected: `${e.parentSchema?.description ? `${String(e.parentSchema.description).replace(/\.$/, '')}, ` : ''}a string matching ${p.pattern}`, got: describe(e.data) };
    default:
      return { path: dotted(at), expected: e.message ?? e.keyword, got: describe(e.data) };
  }
}

const compiled = new Map<string, ValidateFunction>();

function validatorOf(c: ChartFiles): ValidateFunction {
  const text = c.read('values.schema.json');
  if (text === undefined) throw new KfcError(`${c.where} has no values.schema.json`, 'validate a chart generated by kubeflow-charts');
  let v = compiled.get(text);
  if (!v) {
    try {
      v = new Ajv(STRICT_AJV).compile(JSON.parse(text));
    } catch (e) {
      throw new KfcError(`${c.where}/values.schema.json does not compile: ${(e as Error).message}`, 'rebuild the chart (npm run build)');
    }
    compiled.set(text, v);
  }
  return v;
}

/** The umbrella's dependencies: values key (alias or name) -> the subchart, from charts/<name>/ or its vendored .tgz. */
function subcharts(c: ChartFiles, chartsDir: string): Map<string, () => ChartFiles> {
  const meta = parseYaml(c.read('Chart.yaml') ?? '') ?? {};
  const out = new Map<string, () => ChartFiles>();
  for (const d of meta.dependencies ?? []) {
    const key: string = d.alias ?? d.name;
    out.set(key, () => {
      const candidates = [path.join(c.where, 'charts', d.name), path.join(path.dirname(c.where), d.name), path.join(chartsDir, d.name)];
      const dir = candidates.find((x) => existsSync(path.join(x, 'Chart.yaml')));
      if (dir) return fromDir(dir);
      const tgz = path.join(c.where, 'charts', `${d.name}-${d.version}.tgz`);
      if (existsSync(tgz)) return fromTgz(tgz, d.name);
      throw new KfcError(`${c.name} depends on ${d.name} ${d.version}, found neither charts/${d.name}/ nor ${tgz}`, `run \`helm dependency build ${c.where}\` or \`npm run build\``);
    });
  }
  return out;
}

/** Which of the files sets a values path (the last one wins, as with helm). */
function sourceOf(files: Array<{ file: string; values: unknown }>, segs: string[]): string | undefined {
  for (let i = files.length - 1; i >= 0; i--) {
    let v: unknown = files[i].values;
    let ok = true;
    for (const s of segs) {
      if (v && typeof v === 'object' && s in (v as object)) v = (v as Record<string, unknown>)[s];
      else ok = false;
    }
    if (ok) return files[i].file;
  }
  return undefined;
}

export interface ValidateOptions {
  /** chart directory, or a chart name in `charts` */
  chart: string;
  /** values files, merged in order as `helm -f` does */
  values: string[];
  /** where chart names resolve (default: the repository's charts/) */
  charts?: string;
}

/**
 * Validates values files against a chart's values.schema.json (ajv, strict,
 * all errors), merged over the chart's defaults as helm merges them. For an
 * umbrella chart, the values under each dependency's key are also validated
 * against that subchart's own schema (the umbrella lets them pass through).
 */
export function validateValues(opts: ValidateOptions): { chart: string; issues: ValuesIssue[] } {
  return validateValueObjects(
    opts,
    opts.values.map((f) => ({ file: f, values: readValuesFile(f) })),
  );
}

/** validateValues for values already read (`file` names them in the issues). */
export function validateValueObjects(opts: Omit<ValidateOptions, 'values'>, files: Array<{ file: string; values: Record<string, unknown> }>): { chart: string; issues: ValuesIssue[] } {
  const chartsDir = path.resolve(opts.charts ?? path.join(repoRoot(), 'charts'));
  const c = resolveChart(opts.chart, chartsDir);
  const user = files.reduce<unknown>((acc, f) => coalesce(acc, f.values), {}) as Record<string, unknown>;
  const defaults = (parseYaml(c.read('values.yaml') ?? '') ?? {}) as Record<string, unknown>;
  const merged = coalesce(defaults, user) as Record<string, unknown>;
  const issues: ValuesIssue[] = [];
  const check = (chart: ChartFiles, values: unknown, prefix: string[]) => {
    const v = validatorOf(chart);
    if (!v(values)) issues.push(...collapseAlternatives(v.errors ?? []).map((e) => issueOf(e, prefix)));
  };
  check(c, merged, []);
  for (const [key, sub] of subcharts(c, chartsDir)) {
    // only what the user sets under the key needs checking: the defaults are valid by construction
    if (!isMap(user[key]) || !Object.keys(user[key] as object).some((k) => k !== 'enabled')) continue;
    const s = sub();
    const subDefaults = parseYaml(s.read('values.yaml') ?? '') ?? {};
    const values = coalesce(coalesce(subDefaults, merged[key]), { global: merged.global }) as Record<string, unknown>;
    check(s, values, [key]);
  }
  const seen = new Set<string>();
  const unique = issues.filter((i) => {
    const k = `${i.path}\0${i.expected}\0${i.got}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  for (const i of unique)
    i.file = sourceOf(
      files,
      i.path
        .replace(/\[(\d+)\]/g, '.$1')
        .replace(/\["([^"]*)"\]/g, '.$1')
        .split('.')
        .filter(Boolean),
    );
  return { chart: c.where, issues: unique };
}

/** `kfc validate`: prints each issue (values path, expected, got) and returns the exit code. */
export function runValidate(opts: ValidateOptions, out: NodeJS.WritableStream): number {
  if (!opts.values.length) throw new KfcError('kfc validate needs at least one values file', 'kfc validate <chart> -f values.yaml');
  const r = validateValues(opts);
  if (!r.issues.length) {
    out.write(`OK: ${opts.values.join(', ')} valid for ${r.chart}\n`);
    return 0;
  }
  for (const i of r.issues) {
    out.write(`${i.file ? `${i.file}: ` : ''}${i.path}\n    expected: ${i.expected}\n    got:      ${i.got}\n${i.suggestion ? `    did you mean \`${i.suggestion}\`?\n` : ''}`);
  }
  out.write(`FAILED: ${r.issues.length} error${r.issues.length === 1 ? '' : 's'} in ${opts.values.join(', ')} for ${r.chart}\n`);
  return 1;
}
