import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { KfcError } from '@kubeflow-charts/generator/core/errors';
import { goBinary, goEnv, toolPins } from '@kubeflow-charts/generator/core/go-tools';

/** Pods with this label are the charts' own Jobs and tests: kfc-node runs them, kwok leaves them alone. */
export const LIFECYCLE_LABEL = 'kubeflow-charts.io/lifecycle';

/** kwok's own default stages (the ones kwokctl uses), from the pinned kwok module. */
const STAGES = [
  'kustomize/stage/node/fast/node-initialize.yaml',
  'kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'kustomize/stage/pod/fast/pod-ready.yaml',
  'kustomize/stage/pod/fast/pod-complete.yaml',
  'kustomize/stage/pod/fast/pod-delete.yaml',
];

function kwokModuleDir(): string {
  const pin = toolPins().go.kwok;
  const mod = pin.module;
  const out = execFileSync(goBinary('kwok'), ['mod', 'download', '-json', `${mod}@${pin.version}`], { env: goEnv(), encoding: 'utf8', cwd: '/' });
  const info = JSON.parse(out);
  if (info.Error || !info.Dir) throw new KfcError(`${mod}@${pin.version}: ${info.Error ?? 'no module directory'}`, 'the Go module proxy must serve the pinned kwok');
  return info.Dir;
}

/**
 * kwok's configuration: its default node and pod stages, with every pod stage excluding the
 * lifecycle pods (kfc-node runs those for real and writes their status).
 */
export async function kwokConfig(): Promise<string> {
  const dir = kwokModuleDir();
  const docs: unknown[] = [];
  for (const rel of STAGES) {
    for (const doc of parseAllDocuments(readFileSync(path.join(dir, rel), 'utf8'))) {
      const stage = doc.toJS() as { spec: { resourceRef: { kind: string }; selector?: { matchExpressions?: unknown[] } } };
      if (stage.spec.resourceRef.kind === 'Pod') {
        stage.spec.selector ??= {};
        stage.spec.selector.matchExpressions = [...(stage.spec.selector.matchExpressions ?? []), { key: `.metadata.labels.["${LIFECYCLE_LABEL}"]`, operator: 'DoesNotExist' }];
      }
      docs.push(stage);
    }
  }
  return docs.map((d) => stringify(d)).join('---\n');
}
