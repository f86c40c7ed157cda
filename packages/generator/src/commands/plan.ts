import { readFileSync } from 'node:fs';
import path from 'node:path';
import { KfcError } from '../core/errors.js';
import { helmTemplate } from '../core/helm.js';
import { repoRoot } from '../core/paths.js';
import { check, ENGINES, formatSequence, planObjects, planSummary, sequence, type Engine, type Violation } from '../order/sequence.js';
import { UMBRELLA } from '../core/chart-model.js';

/** Where the README installs the umbrella. */
export const RELEASE_NAMESPACE = 'kubeflow-charts';

export interface PlanOptions {
  chart?: string;
  values: string[];
  rendered?: string;
  engines?: string[];
  verbose?: boolean;
  summary?: boolean;
}

export interface PlanResult {
  text: string;
  violations: Violation[];
}

/** Renders a chart (default charts/kubeflow) or reads a rendered manifest and plans its install. */
export async function plan(o: PlanOptions): Promise<PlanResult> {
  if (o.summary) return { text: `${planSummary()}\n`, violations: [] };
  const engines = (o.engines?.length ? o.engines : ENGINES) as Engine[];
  for (const e of engines) if (!ENGINES.includes(e)) throw new KfcError(`unknown engine "${e}"`, `use one of ${ENGINES.join(', ')}`);
  let text: string;
  if (o.rendered) {
    try {
      text = readFileSync(o.rendered, 'utf8');
    } catch (e) {
      throw new KfcError(`cannot read ${o.rendered}: ${(e as Error).message}`, 'pass the output of `helm template --include-crds`');
    }
  } else {
    // the release namespace of the README's install command: one the release itself does not declare
    text = await helmTemplate(path.resolve(o.chart ?? path.join(repoRoot(), 'charts', UMBRELLA)), { includeCrds: true, valuesFiles: o.values, release: UMBRELLA, namespace: RELEASE_NAMESPACE });
  }
  const objs = planObjects(text);
  const out: string[] = [planSummary(), ''];
  const violations: Violation[] = [];
  for (const e of engines) {
    const stages = sequence(e, objs);
    out.push(formatSequence(e, stages, !!o.verbose), '');
    const vs = check(e, stages);
    violations.push(...vs);
    out.push(vs.length ? `${vs.length} violation(s):\n${vs.map((v) => `  ${v.rule}: ${v.message}`).join('\n')}` : 'dependency rules: ok', '');
  }
  out.push(violations.length ? `FAILED: ${violations.length} ordering violation(s)` : `OK: ${objs.length} objects, every dependency rule holds on ${engines.join(', ')}`);
  return { text: `${out.join('\n')}\n`, violations };
}

export async function runPlan(o: PlanOptions, stdout: NodeJS.WritableStream): Promise<number> {
  const r = await plan(o);
  stdout.write(r.text);
  return r.violations.length ? 1 : 0;
}
