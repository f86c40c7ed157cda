import { compile, type JSONSchema } from 'json-schema-to-typescript';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UMBRELLA } from '../core/chart-model.js';
import { type JsonSchema, loadSchemaDefinitions } from '../core/schema.js';
import { KfcError } from '../core/errors.js';
import type { ChartSummary } from './chart.js';

export function typeName(chart: string): string {
  return `${chart.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase())}Values`;
}

/**
 * Kubernetes quantities as a type: the schema's pattern cannot be a type, so
 * this is the nearest one (a number, or a number with a unit suffix).
 */
const COMMON = `/** A Kubernetes quantity: a number, or a number with a unit (\`500m\`, \`1.5\`, \`2Gi\`, \`1e3\`). The values schema checks the exact form. */
export type Quantity = number | \`\${number}\` | \`\${number}\${QuantitySuffix}\`;
/** Binary (Ki..Ei), decimal (n, u, m, k..E) and exponent-free suffixes of a quantity. */
export type QuantitySuffix = 'Ki' | 'Mi' | 'Gi' | 'Ti' | 'Pi' | 'Ei' | 'n' | 'u' | 'm' | 'k' | 'M' | 'G' | 'T' | 'P' | 'E';
`;

/**
 * The schema given to json-schema-to-typescript: the chart's values schema with
 * the nodes no JSON Schema keyword can type replaced by a TypeScript type:
 * quantities (the pattern of values-schemas/resources.json), and in the
 * umbrella each component's pass-through map by that component's own values type.
 */
export function typingSchema(schema: JsonSchema, subcharts: Map<string, string>): { schema: JsonSchema; uses: Set<string> } {
  // a quantity: `{oneOf: [{type: string, pattern: <quantity>}, {type: number}]}` (values-schemas/resources.json)
  const quantities = loadSchemaDefinitions().definitions?.quantities?.patternProperties;
  const quantity = Object.values<JsonSchema>(quantities ?? {})[0]?.oneOf?.find((x) => x.type === 'string')?.pattern;
  if (!quantity) throw new KfcError('values-schemas/resources.json: no quantity pattern under definitions.quantities', 'the types need it to type quantities; keep the oneOf string pattern there');
  const isQuantity = (s: JsonSchema) => s.pattern === quantity || (Array.isArray(s.oneOf) && s.oneOf.some((x) => x?.pattern === quantity));
  const uses = new Set<string>();
  const walk = (node: unknown, top: boolean): unknown => {
    if (Array.isArray(node)) return node.map((x) => walk(x, false));
    if (!node || typeof node !== 'object') return node;
    const s = node as JsonSchema;
    if (isQuantity(s)) {
      uses.add('Quantity');
      // imported under an alias: a schema definition named `quantity` becomes a type `Quantity` of its own
      return { ...(s.description ? { description: s.description } : {}), tsType: 'CommonQuantity' };
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s)) {
      if (k === 'properties' && top) {
        out.properties = Object.fromEntries(
          Object.entries(v as Record<string, JsonSchema>).map(([key, p]) => {
            const t = subcharts.get(key);
            if (!t) return [key, walk(p, false)];
            uses.add(t);
            return [key, { description: p.description, tsType: t }];
          }),
        );
      } else out[k] = k === 'enum' || k === 'const' || k === 'default' ? v : walk(v, false);
    }
    return out;
  };
  return { schema: walk(schema, true) as JsonSchema, uses };
}

/**
 * Writes `<chart>.d.ts` for every chart's values schema, `common.d.ts` and an
 * index into `dir` (the generated part of @kubeflow-charts/values-types).
 * Types come from the same schema the chart ships, so a values object that
 * type-checks has the keys and types the schema accepts.
 */
export async function emitTypes(charts: Array<Pick<ChartSummary, 'name' | 'schema' | 'version'>>, dir: string, banner: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'common.d.ts'), `// ${banner}\n\n${COMMON}`);
  const index: string[] = [`// ${banner}`, '', "export type { Quantity, QuantitySuffix } from './common.js';"];
  const names = new Map(charts.map((c) => [c.name, typeName(c.name)]));
  for (const c of charts) {
    const { title: _t, ...schema } = c.schema;
    const name = typeName(c.name);
    const subcharts = c.name === UMBRELLA ? new Map([...names].filter(([n]) => n !== UMBRELLA)) : new Map<string, string>();
    const typed = typingSchema(schema, subcharts);
    const imports = [...typed.uses].sort().map((t) => (t === 'Quantity' ? `import type { Quantity as CommonQuantity } from './common.js';` : `import type { ${t} } from './${[...names].find(([, v]) => v === t)![0]}.js';`));
    const head = `/* ${banner}\n * Values of the ${c.name} chart ${c.version}. */${imports.length ? `\n\n${imports.join('\n')}` : ''}`;
    const ts = await compile(typed.schema as JSONSchema, name, { bannerComment: head, additionalProperties: false, format: false, declareExternallyReferenced: true });
    writeFileSync(path.join(dir, `${c.name}.d.ts`), ts);
    index.push(`export type { ${name} } from './${c.name}.js';`);
  }
  writeFileSync(path.join(dir, 'index.d.ts'), `${index.join('\n')}\n`);
}
