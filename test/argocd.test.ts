import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../packages/generator/src/core/paths.js';
import { argoSyncFragment, covers, ignoreDifferences, mutatedFields } from '../packages/generator/src/order/argocd.js';
import { planObjects, type PlanObject } from '../packages/generator/src/order/sequence.js';
import { ciFiles } from './helpers.js';
import { chartsFor, PINNED } from './releases.js';
import { forEachRender } from './renders.js';
import { UMBRELLA } from '../packages/generator/src/core/chart-model.js';

const rendered = new Map<string, Promise<Array<{ name: string; objs: PlanObject[] }>>>();
/** The umbrella rendered as Argo CD renders it, for defaults and every ci scenario (once per release). */
function scenarios(tag: string): Promise<Array<{ name: string; objs: PlanObject[] }>> {
  if (!rendered.has(tag)) rendered.set(tag, renderScenarios(tag));
  return rendered.get(tag)!;
}

async function renderScenarios(tag: string): Promise<Array<{ name: string; objs: PlanObject[] }>> {
  const chart = path.join(chartsFor(tag), UMBRELLA);
  const items = [{ chart, file: undefined as string | undefined }, ...ciFiles(chart).map((file) => ({ chart, file }))];
  return forEachRender(items, ({ file }, r) => ({ name: file ? path.basename(file) : 'defaults', objs: planObjects(r.text) }), { tag });
}

describe(`Argo CD stays in sync, ${PINNED}`, () => {
  const tag = PINNED;
  it('every field a controller changes after apply is covered by the shipped ignoreDifferences, in every scenario', async () => {
    const all = await scenarios(tag);
    expect(all.length).toBeGreaterThan(1);
    const union = ignoreDifferences(all.flatMap((s) => s.objs));
    for (const s of all) {
      const fields = mutatedFields(s.objs);
      const why = new Set(fields.map((f) => f.why));
      // the known cases are found by the rules, not listed by name
      expect(why.has('the aggregation controller fills the rules from the selected ClusterRoles'), s.name).toBe(true);
      expect(
        [...why].some((w) => /injects (the|its) CA/.test(w)),
        s.name,
      ).toBe(true);
      if (s.objs.some((o) => o.kind === 'MutatingWebhookConfiguration' && o.doc?.webhooks?.some((w: any) => String(w.name).includes('sidecar-injector'))))
        expect(
          fields.some((f) => f.pointer.endsWith('/failurePolicy')),
          `${s.name}: Istio's validator`,
        ).toBe(true);
      const uncovered = fields.filter((f) => !union.some((e) => covers(e, f)) || !ignoreDifferences(s.objs).some((e) => covers(e, f)));
      expect(uncovered, s.name).toEqual([]);
      console.log(`${tag} ${s.name}: ${fields.length} mutated fields, all ignored`);
    }
  });

  it('the checker fails when an entry is missing', async () => {
    const [defaults] = await scenarios(tag);
    const fields = mutatedFields(defaults.objs);
    const entries = ignoreDifferences(defaults.objs).filter((e) => e.kind !== 'ClusterRole');
    expect(fields.filter((f) => !entries.some((e) => covers(e, f))).length).toBeGreaterThan(5);
  });
});

describe('docs/argocd.md', () => {
  it('carries the ignoreDifferences for every scenario of the pinned release', async () => {
    const all = await scenarios(PINNED);
    const doc = readFileSync(path.join(repoRoot(), 'docs', 'argocd.md'), 'utf8');
    const block = /<!-- ignore-differences:start -->\n```yaml\n([\s\S]*?)```\n<!-- ignore-differences:end -->/.exec(doc)?.[1];
    expect(block).toBe(argoSyncFragment(all.flatMap((s) => s.objs)));
  });
});
