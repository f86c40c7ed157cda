import type { ChartModel } from '../core/chart-model.js';
import { addMetadata } from '../templatize/workloads.js';
import { HOOK_WEIGHTS, type Placement } from './tiers.js';

/**
 * Annotations that place an object in the install order (docs/ordering.md):
 * its Argo CD sync wave, gate hooks for admission webhooks, keep policies for
 * user data and the Argo CD options CRDs need.
 */
export function placementAnnotations(p: Placement | undefined, version: string): Record<string, string> {
  if (!p) return {};
  const a: Record<string, string> = { 'argocd.argoproj.io/sync-wave': String(p.wave) };
  if (p.gatedWebhook) {
    // Helm registers it after the gate saw its server ready; Argo CD applies it in its wave.
    a['helm.sh/hook'] = 'post-install,post-upgrade';
    a['helm.sh/hook-weight'] = String(HOOK_WEIGHTS.webhooks);
    a['argocd.argoproj.io/hook'] = 'Sync';
  }
  if (p.tier === 'crds') {
    a['argocd.argoproj.io/sync-options'] = 'ServerSideApply=true,Prune=false';
    // read by the umbrella's pre-upgrade check: Helm never upgrades CRDs
    a['kubeflow-charts.io/version'] = version;
  }
  if (p.keep) a['helm.sh/resource-policy'] = 'keep';
  return a;
}

/** The order stage on one chart: every object gets the annotations of its placement. */
export function placeChart(m: ChartModel, placements: Map<string, Placement>): ChartModel {
  for (const o of m.objects) {
    o.annotations = { ...placementAnnotations(placements.get(o.key), m.version), ...o.annotations };
    for (const b of o.branches) if (b.content) addMetadata(b.content.doc, 'annotations', o.annotations);
  }
  return m;
}
