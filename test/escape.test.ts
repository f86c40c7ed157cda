import { describe, expect, it } from 'vitest';
import { analyze } from '../packages/generator/src/fold/analyze.js';
import { silentLogger } from '../packages/generator/src/core/log.js';
import { parseYaml } from '../packages/generator/src/core/model.js';
import { escapeBraces } from '../packages/generator/src/templatize/template-doc.js';
import { lockFor, PINNED } from './releases.js';
import { render } from './renders.js';

describe('template delimiters in upstream strings', () => {
  it('escapeBraces leaves no action but its own: every run of braces becomes one string action', () => {
    expect(escapeBraces('a {{ .Values.x }} b }}} {{- x -}}')).toBe('a {{ "{{" }} .Values.x {{ "}}" }} b {{ "}}}" }} {{ "{{" }}- x -{{ "}}" }}');
  });

  it('real upstream ConfigMaps holding {{ .Values.* }} render byte for byte', async () => {
    const tag = PINNED;
    const a = await analyze({ lockFile: lockFor(tag), logger: silentLogger });
    const checked: string[] = [];
    for (const c of a.components) {
      const withBraces = c.configs[0].objects.filter((o) => o.kind === 'ConfigMap' && /\{\{\s*\.Values\./.test(o.raw));
      if (!withBraces.length) continue;
      const rendered = new Map((await render(c.plan.name, { tag })).objects.map((o) => [o.key, o]));
      for (const o of withBraces) {
        const want = parseYaml(o.raw).data;
        const got = parseYaml(rendered.get(o.key)!.raw).data;
        for (const k of Object.keys(want)) expect(got[k], `${o.key} data.${k}`).toBe(want[k]);
        checked.push(o.key);
      }
    }
    // istio's sidecar injector templates are full of {{ .Values.global... }}
    expect(checked).toContain('v1/ConfigMap/istio-system/istio-sidecar-injector');
  });
});
