import type { ChartModel } from '../templatize/chart-model.js';
import { KfcError } from '../core/errors.js';
import { addMetadata } from '../templatize/workloads.js';
import { sp } from '../templatize/template-doc.js';
import { INSTALL_POLICY_ANNOTATION, type Placement } from './tiers.js';
import type { Content } from '../templatize/chart-model.js';

/**
 * Annotations that place an object in the install order (docs/ordering.md):
 * its Argo CD sync wave, gate hooks for admission webhooks, keep policies for
 * user data and the Argo CD options CRDs need.
 */
/** Argo CD's counterpart of `helm.sh/resource-policy: keep`. */
export const ARGO_KEEP = 'Prune=false,Delete=false';

export function placementAnnotations(p: Placement | undefined, version: string): Record<string, string> {
  if (!p) return {};
  const a: Record<string, string> = { 'argocd.argoproj.io/sync-wave': String(p.wave) };
  // an ordinary resource (Helm and Argo CD manage and delete it); Argo CD applies it in its server's wave
  if (p.gatedWebhook) a[INSTALL_POLICY_ANNOTATION] = 'Ignore';
  if (p.tier === 'crds') {
    a['argocd.argoproj.io/sync-options'] = `ServerSideApply=true,${ARGO_KEEP}`;
    // read by the umbrella's pre-upgrade check: Helm never upgrades CRDs
    a['kubeflow-charts.io/version'] = version;
  }
  if (p.keep) {
    a['helm.sh/resource-policy'] = 'keep';
    // what helm uninstall keeps, Argo CD keeps too: not pruned by a sync, not deleted with the Application
    a['argocd.argoproj.io/sync-options'] ??= ARGO_KEEP;
  }
  return a;
}

/** The order stage on one chart: every object gets the annotations of its placement. */
export function placeChart(m: ChartModel, placements: Map<string, Placement>): ChartModel {
  for (const o of m.objects) {
    const p = placements.get(o.key);
    o.annotations = { ...placementAnnotations(p, m.version), ...o.annotations };
    for (const b of o.branches) {
      if (!b.content) continue;
      addMetadata(b.content.doc, 'annotations', o.annotations);
      if (p?.gatedWebhook) bindFailurePolicies(m.name, b.content, p.gatedWebhook.servers);
    }
  }
  // installed alone (no gate), say which webhooks were registered failing open
  const gated = m.objects.filter((o) => placements.get(o.key)?.gatedWebhook);
  if (gated.length) {
    const lines = gated.map((o) => {
      const servers = placements
        .get(o.key)!
        .gatedWebhook!.servers.map((s) => JSON.stringify(s))
        .join(' ');
      return `{{- if eq (include "${m.name}.webhookFailurePolicy" (dict "policy" "Fail" "servers" (list ${servers}))) "Ignore" }}\n${o.sample.kind} ${o.sample.name} was registered with failurePolicy Ignore: its server was not ready yet. Once it is, run "helm upgrade {{ .Release.Name }} <chart> --reset-then-reuse-values" to make it fail closed.\n{{- end }}`;
    });
    m.files['templates/NOTES.txt'] = `${m.files['templates/NOTES.txt'] ?? ''}${lines.join('\n')}\n`;
  }
  return m;
}

/**
 * Binds each failing-closed webhook of a gated configuration to the chart's
 * webhookFailurePolicy helper: upstream's policy, or Ignore while Helm installs
 * against a cluster where a server is not available yet (lookup; helm template
 * and Argo CD have no cluster and get upstream's).
 */
function bindFailurePolicies(chart: string, c: Content, servers: string[]): void {
  const call = `include "${chart}.webhookFailurePolicy" (dict "policy" "Fail" "servers" (list ${servers.map((s) => JSON.stringify(s)).join(' ')}))`;
  for (const w of c.doc.webhooks ?? []) {
    if (!w || typeof w !== 'object') continue;
    if (w.failurePolicy === 'Fail') w.failurePolicy = c.t.value(() => `{{ ${call} }}`);
    else if (w.failurePolicy === undefined) w[c.t.key((i) => `${sp(i)}{{- if eq (${call}) "Ignore" }}\n${sp(i)}failurePolicy: Ignore\n${sp(i)}{{- end }}`)] = null;
  }
}

/**
 * Hand-written feature templates place themselves after an upstream object
 * with `__KFC_WAVE_AFTER(Kind/namespace/name)__`: the wave after that
 * object's, from this release's ordering. An object that is not there fails
 * the build, naming the template.
 */
export function resolveWaves(m: ChartModel, placements: Map<string, Placement>, tag: string): void {
  for (const [file, text] of Object.entries(m.files)) {
    m.files[file] = text.replace(/__KFC_WAVE_AFTER\(([^)]+)\)__/g, (_all, ref: string) => {
      const suffix = `/${ref}`;
      const hit = [...placements].find(([key]) => key.endsWith(suffix) && key.split('/').length - ref.split('/').length <= 2);
      if (!hit) throw new KfcError(`${m.name}: ${file} places itself after ${ref}, which is not an object of release ${tag}`, 'upstream renamed or moved it: update the template');
      return String(hit[1].wave + 1);
    });
  }
}

/**
 * Namespaces holding Secrets a chart generates (passwords, keys) are user data like the ones
 * holding PVCs: `helm uninstall` keeps them, so the generated Secrets survive it as the README
 * says (a kept Namespace still carries Helm's ownership metadata: installing the same release
 * again adopts it).
 */
export function keepGeneratedSecretNamespaces(models: ChartModel[]): void {
  const namespaces = new Set(models.flatMap((m) => m.generated.map((s) => s.namespace)).filter(Boolean));
  for (const m of models) {
    for (const o of m.objects) {
      if (o.sample.kind !== 'Namespace' || !namespaces.has(o.sample.name) || o.annotations['helm.sh/resource-policy'] === 'keep') continue;
      const keep = { 'helm.sh/resource-policy': 'keep', 'argocd.argoproj.io/sync-options': ARGO_KEEP };
      o.annotations = { ...o.annotations, ...keep };
      for (const b of o.branches) if (b.content) addMetadata(b.content.doc, 'annotations', keep);
    }
  }
}
