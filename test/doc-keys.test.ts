import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UMBRELLA } from '../packages/generator/src/core/chart-model.js';
import { chartDocKeys, notesKeys, schemaAccepts, textKeys } from './doc-keys.js';
import { chartsFor, PINNED } from './releases.js';

const CHARTS = chartsFor(PINNED);
const schemaOf = (chart: string) => JSON.parse(readFileSync(path.join(CHARTS, chart, 'values.schema.json'), 'utf8'));
const charts = () => readdirSync(CHARTS).filter((c) => existsSync(path.join(CHARTS, c, 'Chart.yaml')));

describe('generated docs name real keys', () => {
  it('finds the keys docs name: backticks, --set, .Values and index in NOTES; the schema walk follows refs, maps and lists', () => {
    expect(textKeys('set `jupyterWebApp.enabled` or `dex.enabled: false`; `values.yaml`, `foo.svc.cluster.local`, `metadata.labels.x`', 'R').map((k) => k.key)).toEqual(['jupyterWebApp.enabled', 'dex.enabled']);
    expect(textKeys('helm install x --set istio.variant=ambient --set-string a.b[0]=c', 'R').map((k) => k.key)).toEqual(['istio.variant', 'a.b[0]']);
    expect(notesKeys('{{ if .Values.hooks.enabled }}{{ (index .Values "cert-manager").enabled }}{{ end }} use `global.devMode`', 'N').map((k) => k.key)).toEqual(['hooks.enabled', 'cert-manager.enabled', 'global.devMode']);
    const s = {
      definitions: { r: { type: 'object', properties: { n: { type: 'integer' } }, additionalProperties: false } },
      type: 'object',
      properties: { a: { $ref: '#/definitions/r' }, m: { type: 'object', additionalProperties: { type: 'string' } }, l: { type: 'array', items: { $ref: '#/definitions/r' } } },
      additionalProperties: false,
    };
    expect(['a.n', 'm.anything', 'l[0].n'].filter((k) => !schemaAccepts(s, k))).toEqual([]);
    expect(['a.x', 'b.n', 'l[0].x'].filter((k) => schemaAccepts(s, k))).toEqual([]);
  });

  it('every key a chart README or NOTES names is in its values schema, or in the umbrella schema (umbrella advice such as <chart>.enabled)', () => {
    const umbrella = schemaOf(UMBRELLA);
    const wrong: string[] = [];
    let checked = 0;
    for (const c of charts()) {
      const schema = schemaOf(c);
      const keys = chartDocKeys(path.join(CHARTS, c));
      // every component README tells how the umbrella enables it
      if (c !== UMBRELLA)
        expect(
          keys.map((k) => k.key),
          `${c}/README.md names its umbrella key`,
        ).toContain(`${c}.enabled`);
      for (const k of keys) {
        checked++;
        if (!schemaAccepts(schema, k.key) && !schemaAccepts(umbrella, k.key)) wrong.push(`${c}/${k.where}: ${k.key}`);
      }
    }
    expect(checked).toBeGreaterThan(charts().length * 10);
    expect(wrong).toEqual([]);
  });
});
