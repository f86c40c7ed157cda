import { compile } from 'json-schema-to-typescript';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ChartSummary } from './chart.js';

export function typeName(chart: string): string {
  return chart.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase()) + 'Values';
}

/** Writes `<chart>.d.ts` for every chart's values schema plus an index into `dir`. */
export async function emitTypes(charts: Array<Pick<ChartSummary, 'name' | 'schema' | 'version'>>, dir: string, banner: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const index: string[] = [`// ${banner}`, '', '/** Every key optional, recursively: the shape of a values override file. */', 'export type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;', ''];
  for (const c of charts) {
    const { title: _t, ...schema } = c.schema;
    const name = typeName(c.name);
    const ts = await compile(schema, name, { bannerComment: `/* ${banner}\n * Values of the ${c.name} chart ${c.version}. */`, additionalProperties: false, format: false, declareExternallyReferenced: true });
    writeFileSync(path.join(dir, `${c.name}.d.ts`), ts);
    index.push(`export type { ${name} } from './${c.name}.js';`);
  }
  writeFileSync(path.join(dir, 'index.d.ts'), `${index.join('\n')}\n`);
}
