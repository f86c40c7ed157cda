import type { ChartModel } from '../templatize/chart-model.js';
import type { Analysis } from '../fold/analyze.js';
import { fold } from '../fold/fold.js';
import { keepGeneratedSecretNamespaces, placeChart, resolveWaves } from '../order/place.js';
import { orderingOf, type OrderingModel } from '../order/tiers.js';
import { templatizeChart } from '../templatize/chart.js';
import { applyFeatures, movedObjectError, strandedFeatureError } from '../features/apply.js';
import { loadComponentConfigs } from '../discover/components.js';
import { loadFeatures, loadSharedFeatures, type Feature } from '../features/contract.js';
import { KfcError } from '../core/errors.js';
import { addSecretsJob } from '../features/secrets.js';
import { gateImage } from '../order/gates.js';

/**
 * Generates the chart models of an analysed release, in memory: fold -> templatize ->
 * features -> order, one chart model per component. Nothing is written; `emit` does that
 * (commands/build.ts), `kfc diff` compares two releases' models (diff/diff.ts).
 */
export function chartModels(a: Analysis): { models: ChartModel[]; ordering: OrderingModel; shared: Feature[] } {
  const ordering = orderingOf(a);
  const hookImage = gateImage(a.components);
  // a shared feature whose subject charts are not in this release is off, and the build says so
  const present = new Set(a.components.map((c) => c.plan.name));
  const shared = loadSharedFeatures().filter((f) => {
    if (f.needs!.some((n) => present.has(n))) return true;
    a.warnings.push(`shared feature ${f.name} (${f.file}) is off in release ${a.release.tag}: it has none of the charts ${f.needs!.join(', ')}`);
    return false;
  });
  const used = new Map<string, number>();
  const objectsByChart = a.components.map((c) => ({ name: c.plan.name, objects: c.configs.flatMap((x) => x.objects) }));
  const models = a.components.map((c) => {
    const variants = c.plan.variants.map((v) => v.name);
    const folded = fold(variants, c.configs);
    const model = templatizeChart({ plan: c.plan, release: a.release, version: a.release.version, variants, toggles: c.toggles, folded, sharedKeys: c.sharedKeys });
    // placement annotations first, so that features patching metadata merge with them
    placeChart(model, ordering.placements);
    try {
      applyFeatures(model, loadFeatures(c.plan.config));
    } catch (e) {
      throw movedObjectError(e, objectsByChart);
    }
    applyFeatures(model, shared, used);
    addSecretsJob(model, hookImage, (ref) => {
      const hit = [...ordering.placements].find(([key]) => key.endsWith(`/${ref}`) && key.split('/').length - ref.split('/').length <= 2);
      if (!hit) throw new KfcError(`${model.name}: a generated Secret comes after ${ref}, which is not an object of release ${a.release.tag}`, "upstream renamed or moved it: update the feature's generate[].after");
      return hit[1].wave;
    });
    resolveWaves(model, ordering.placements, a.release.tag);
    return model;
  });
  keepGeneratedSecretNamespaces(models);
  resolvePlatformNamespaces(models);
  // features of component files that claim nothing here, whose objects another chart renders
  for (const config of loadComponentConfigs().filter((x) => !present.has(x.name))) {
    const stranded = strandedFeatureError(config.file, loadFeatures(config), objectsByChart, a.release.tag);
    if (stranded) throw stranded;
  }
  for (const f of shared) {
    if (!used.get(f.name)) throw new KfcError(`shared feature ${f.name} (${f.file}) matches no object of any chart in release ${a.release.tag}`, "upstream renamed or removed what it selects: update the feature's selectors");
  }
  return { models, ordering, shared };
}

/** Namespaces Kubernetes itself uses: never a user's (profile) namespace. */
const KUBERNETES_NAMESPACES = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];

/**
 * `__KFC_PLATFORM_NAMESPACES__` in a template: a list literal of every Namespace the release's charts render
 * (and Kubernetes' own), so a value naming a user namespace (a profile) cannot take one of the platform's.
 */
function resolvePlatformNamespaces(models: ChartModel[]): void {
  for (const m of models) {
    // the namespaces of other charts' objects too (the chart asking holds user namespaces itself)
    const names = new Set(KUBERNETES_NAMESPACES);
    for (const o of models.flatMap((x) => x.objects)) if (o.sample.kind === 'Namespace' && !m.objects.includes(o)) names.add(o.sample.name);
    for (const o of models.filter((x) => x !== m).flatMap((x) => x.objects)) if (o.sample.namespace) names.add(o.sample.namespace);
    const list = `(list ${[...names]
      .sort()
      .map((n) => JSON.stringify(n))
      .join(' ')})`;
    for (const [f, text] of Object.entries(m.files)) if (text.includes('__KFC_PLATFORM_NAMESPACES__')) m.files[f] = text.replaceAll('__KFC_PLATFORM_NAMESPACES__', list);
  }
}
