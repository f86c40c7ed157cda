import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateValues } from '../packages/generator/src/commands/validate.js';
import { UMBRELLA } from '../packages/generator/src/core/chart-model.js';
import { parseYaml } from '../packages/generator/src/core/model.js';
import { cacheDir, repoRoot } from '../packages/generator/src/core/paths.js';
import { typeName } from '../packages/generator/src/emit/types.js';
import { brokenValues, chartNames, ciFiles, readYaml } from './helpers.js';
import { chartsFor, PINNED } from './releases.js';
import { ciMatrix } from './renders.js';

const tsc = path.join(repoRoot(), 'node_modules', 'typescript', 'bin', 'tsc');
const PKG = '@kubeflow-charts/values-types';

/** A directory inside the repository, so that the workspace package resolves as it would for a user. */
function workDir(): string {
  mkdirSync(path.join(cacheDir(), 'tmp'), { recursive: true });
  return mkdtempSync(path.join(cacheDir(), 'tmp', 'types-'));
}

/** A TypeScript object literal of a JSON value, identifier keys unquoted (as a user writes them). */
const tsLiteral = (v: unknown) => JSON.stringify(v).replace(/"([A-Za-z_$][\w$]*)":/g, '$1:');

/** `tsc --noEmit` (strict, nodenext) on `code`. */
function typecheck(code: string): { status: number | null; out: string } {
  const file = path.join(workDir(), 'use.ts');
  writeFileSync(file, code.replaceAll('TYPES', PKG));
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', 'false', file], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('TypeScript types of chart values', () => {
  it('accept a valid values object', () => {
    const r = typecheck(`import { defineValues, type KatibValues, type IstioValues, type DeepPartial } from 'TYPES';
const v: DeepPartial<KatibValues> = { katibController: { replicas: 2, containers: { katibController: { image: { tag: 'v1' }, resources: { limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: 0.5 } } } } } };
const i = defineValues<IstioValues>({ variant: 'ambient' });
export { v, i };
`);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });

  it('reject a number as image tag, an unknown variant and an unknown key', () => {
    const r = typecheck(`import type { KatibValues, IstioValues, DeepPartial } from 'TYPES';
const v: DeepPartial<KatibValues> = { katibController: { containers: { katibController: { image: { tag: 1 } } } } };
const i: DeepPartial<IstioValues> = { variant: 'nope' };
const u: DeepPartial<KatibValues> = { notAValue: true };
export { v, i, u };
`);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/use\.ts\(2,.*Type 'number' is not assignable to type 'string'/);
    expect(r.out).toMatch(/use\.ts\(3,.*"nope"/);
    expect(r.out).toMatch(/use\.ts\(4,.*notAValue/);
  });

  it('the misspelt key, the wrong type and the bad quantity fail tsc --noEmit and kfc validate, each path named', () => {
    const dir = chartsFor(PINNED);
    const { files, paths } = brokenValues(dir);
    const entries = Object.entries(files);
    // one defineValues per file, each on its own line
    const r = typecheck(`import { defineValues, type KubeflowValues } from 'TYPES';\n${entries.map(([, v], i) => `export const v${i} = defineValues<KubeflowValues>(${tsLiteral(v)});`).join('\n')}\n`);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/use\.ts\(2,.*'pipelnes' does not exist in type .*Did you mean to write 'pipelines'\?/);
    expect(r.out).toMatch(/use\.ts\(3,.*Type 'string' is not assignable to type 'number'/);
    expect(r.out).toMatch(/use\.ts\(4,.*'"5 cores"' is not assignable to type 'Quantity/);
    // the same objects as values files, written by toYaml
    const w = workDir();
    const script = `import { toYaml } from '${PKG}';\nimport { writeFileSync } from 'node:fs';\n${entries.map(([f, v]) => `writeFileSync(${JSON.stringify(path.join(w, f))}, toYaml(${JSON.stringify(v)}));`).join('\n')}\n`;
    writeFileSync(path.join(w, 'write.mjs'), script);
    execFileSync(process.execPath, [path.join(w, 'write.mjs')], { cwd: w });
    const v = validateValues({ chart: UMBRELLA, charts: dir, values: entries.map(([f]) => path.join(w, f)) });
    expect(v.issues.map((i) => [path.basename(i.file ?? ''), i.path, i.suggestion])).toEqual([
      ['misspelt.yaml', 'pipelnes', 'pipelines'],
      ['wrong-type.yaml', paths.replicas, undefined],
      ['bad-quantity.yaml', paths.cpu, undefined],
    ]);
  });

  it('every ci values file type-checks as its chart values', () => {
    const dir = chartsFor(PINNED);
    const lines = [`import { defineValues, type ${chartNames(dir).map(typeName).join(', type ')} } from 'TYPES';`];
    let n = 0;
    for (const c of chartNames(dir)) for (const f of ciFiles(path.join(dir, c))) lines.push(`export const v${n++} = defineValues<${typeName(c)}>(${JSON.stringify(parseYaml(readFileSync(f, 'utf8')) ?? {})}); // ${c} ${path.basename(f)}`);
    // and the defaults themselves
    for (const c of chartNames(dir)) lines.push(`export const d${n++} = defineValues<${typeName(c)}>(${JSON.stringify(readYaml(path.join(dir, c, 'values.yaml')))});`);
    expect(n).toBe(ciMatrix().length + chartNames(dir).length);
    const r = typecheck(lines.join('\n'));
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });

  it('toYaml writes what helm reads: YAML 1.1 look-alikes stay strings, nothing helm cannot read', () => {
    const w = workDir();
    writeFileSync(
      path.join(w, 'run.mjs'),
      `import { toYaml, defineValues } from '${PKG}';
const out = { yaml: toYaml(defineValues({ a: 'yes', b: 'on', c: '0755', d: '1e3', e: 1.5, f: null, g: undefined, h: ['x'] })) };
for (const bad of [{ f: () => 1 }, { d: new Date(0) }, { n: NaN }]) { try { toYaml(bad); } catch (e) { out[Object.keys(bad)[0]] = e.message; } }
process.stdout.write(JSON.stringify(out));
`,
    );
    const out = JSON.parse(execFileSync(process.execPath, [path.join(w, 'run.mjs')], { cwd: w, encoding: 'utf8' }));
    expect(out.yaml).toBe('a: "yes"\nb: "on"\nc: "0755"\nd: "1e3"\ne: 1.5\nf: null\nh:\n- x\n');
    // read back as helm does (YAML 1.1): the same values
    expect(parseYaml(out.yaml)).toEqual({ a: 'yes', b: 'on', c: '0755', d: '1e3', e: 1.5, f: null, h: ['x'] });
    expect(out.f).toMatch(/toYaml: f is a function/);
    expect(out.d).toMatch(/toYaml: d is a Date/);
    expect(out.n).toMatch(/toYaml: n is NaN/);
  });

  it('the package resolves from outside: exports map, declarations, runtime and README', () => {
    const pkgJson = execFileSync('node', ['-e', `console.log(require.resolve('${PKG}/package.json'))`], { cwd: repoRoot(), encoding: 'utf8' }).trim();
    expect(pkgJson).toMatch(/packages\/values-types\/package\.json/);
    const pkg = JSON.parse(readFileSync(pkgJson, 'utf8'));
    expect(pkg.exports['.'].types).toBe('./index.d.ts');
    for (const f of pkg.files) expect(readFileSync(path.join(path.dirname(pkgJson), f === 'dist/' ? 'dist/runtime.js' : f === 'src/generated/' ? 'src/generated/index.d.ts' : f), 'utf8').length).toBeGreaterThan(50);
    expect(readFileSync(path.join(path.dirname(pkgJson), 'README.md'), 'utf8')).toContain('defineValues');
  });
});
