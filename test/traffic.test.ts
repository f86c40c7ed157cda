import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { helmTemplate } from '../packages/generator/src/core/helm.js';
import { parseYaml, splitObjects } from '../packages/generator/src/core/model.js';
import type { Ports } from '../packages/generator/src/verify/netpol.js';
import { loadTrafficModel } from '../packages/generator/src/verify/traffic-model.js';
import { unresolvedReferences } from '../packages/generator/src/verify/traffic-hosts.js';
import { buildRender } from '../packages/generator/src/verify/traffic-render.js';
import { checkPaths, connectionIndex, connectionsOf, openings } from '../packages/generator/src/verify/traffic.js';
import { umbrellaValues } from '../packages/generator/src/verify/traffic-values.js';
import { ciFiles } from './helpers.js';
import { chartsFor, PINNED } from './releases.js';

const umbrella = path.join(chartsFor(PINNED), 'kubeflow');
const RELEASE_NS = 'kubeflow-charts';
const model = loadTrafficModel();

async function analyse(file: string) {
  const text = await helmTemplate(umbrella, { valuesFiles: [file], release: 'kubeflow', namespace: RELEASE_NS, includeCrds: true });
  const docs = splitObjects(text, file).map((o) => parseYaml(o.raw));
  const r = buildRender(docs, model, umbrellaValues(umbrella, [file]), RELEASE_NS);
  const conns = await connectionsOf(r, file);
  return { r, conns, checks: checkPaths(r, model, conns) };
}

const files = ciFiles(umbrella).filter((f) => !process.env.ONLY || f.includes(process.env.ONLY));
const baselineFiles = ciFiles(umbrella).filter((f) => /-(default|all-components)-values\.yaml$/.test(f));

describe(`traffic model (${PINNED})`, () => {
  let baseline: Map<string, Ports>;
  let known: Set<string>;
  beforeAll(async () => {
    const runs = await Promise.all(baselineFiles.map(analyse));
    baseline = connectionIndex(runs.flatMap((x) => x.conns));
    known = new Set([...runs.flatMap((x) => x.r.pods.map((p) => p.id)), ...runs.flatMap((x) => x.conns.flatMap((c) => [c.src, c.dst]))]);
  });

  it.each(files.map((f) => [path.basename(f), f]))('%s: every declared path allowed, no upstream denial opened', async (_name, file) => {
    const { r, conns, checks } = await analyse(file);
    const bad = checks.filter((c) => !c.ok).map((c) => `${c.path}: ${c.from} -> ${c.to}: ${c.reason}`);
    const opened = openings(r, model, conns, checks, baseline, known);
    const unresolved = unresolvedReferences(r, model);
    console.log(`${path.basename(file)}: ${checks.length} checks, ${bad.length} failing, ${opened.length} opened, ${unresolved.length} unresolved\n${[...bad, ...opened, ...unresolved].join('\n')}`);
    expect(bad).toEqual([]);
    expect(opened).toEqual([]);
    expect(unresolved).toEqual([]);
  });
});
