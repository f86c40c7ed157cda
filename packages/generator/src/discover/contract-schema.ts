import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { KfcError } from '../core/errors.js';
import { repoRoot } from '../core/paths.js';

/**
 * The component contract's JSON Schemas (components/component.schema.json for components/*.yaml,
 * components/feature.schema.json for features): every contract file is validated against them
 * when it is read, and editors use them too (.vscode/settings.json, yaml-language-server).
 */
export type ContractKind = 'component' | 'feature';

let validators: Record<ContractKind, ValidateFunction> | undefined;

export function contractSchemaFile(kind: ContractKind): string {
  return path.join(repoRoot(), 'components', `${kind}.schema.json`);
}

function compile(): Record<ContractKind, ValidateFunction> {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true });
  const read = (k: ContractKind) => JSON.parse(readFileSync(contractSchemaFile(k), 'utf8'));
  ajv.addSchema(read('feature'), 'feature.schema.json');
  ajv.addSchema(read('component'), 'component.schema.json');
  return { component: ajv.getSchema('component.schema.json')!, feature: ajv.getSchema('feature.schema.json')! };
}

/** `/checks/0/kind` -> `checks[0].kind` */
const dotted = (p: string) =>
  p
    .split('/')
    .slice(1)
    .reduce((out, s) => (/^\d+$/.test(s) ? `${out}[${s}]` : out ? `${out}.${s}` : s), '');

function describe(e: ErrorObject): string {
  const at = dotted(e.instancePath);
  const where = at ? `${at}: ` : '';
  if (e.keyword === 'additionalProperties') return `${where}unknown key "${e.params.additionalProperty}" (known: ${Object.keys(e.parentSchema?.properties ?? {}).join(', ')})`;
  if (e.keyword === 'enum') return `${at || 'the value'} must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
  if (e.keyword === 'required') return `${where}"${e.params.missingProperty}" is required`;
  const why = e.parentSchema?.description ? ` (${e.parentSchema.description})` : '';
  return `${at || 'the file'} ${e.message}${why}`;
}

/** The errors a person can act on: the deepest ones, without the summaries of oneOf/if. */
function actionable(errors: ErrorObject[]): ErrorObject[] {
  const own = errors.filter((e) => !['oneOf', 'anyOf', 'if'].includes(e.keyword));
  const deepest = Math.max(...own.map((e) => e.instancePath.split('/').length));
  const pick = own.length ? own.filter((e) => e.instancePath.split('/').length === deepest) : errors;
  return pick.filter((e, i) => pick.findIndex((x) => describe(x) === describe(e)) === i);
}

/** Validates a parsed contract file; throws naming the file and every values path at fault. */
export function validateContract(kind: ContractKind, data: unknown, file: string, where = file): void {
  validators ??= compile();
  const v = validators[kind];
  if (v(data)) return;
  const problems = actionable(v.errors ?? []).map(describe);
  throw new KfcError(`${where}: ${problems.join('; ')}`, `see components/README.md and components/${kind}.schema.json`);
}
