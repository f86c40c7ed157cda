import type { ChartModel } from '../core/chart-model.js';
import { analyze, orderingOf, type Analysis } from '../fold/analyze.js';
import { fold } from '../fold/fold.js';
import { placeChart } from '../order/place.js';
import type { OrderingModel } from '../order/tiers.js';
import { templatizeChart } from '../templatize/chart.js';
import { applyFeatures } from '../features/apply.js';
import { loadFeatures } from '../features/contract.js';
import { addSecretsJob } from '../features/secrets.js';
import { gateImage } from '../order/gates.js';

export { analyze };

/**
 * The in-memory pipeline after analysis: fold -> templatize -> features ->
 * order, one chart model per component. Nothing is written; `emit` does that.
 */
export function chartModels(a: Analysis): { models: ChartModel[]; ordering: OrderingModel } {
  const ordering = orderingOf(a);
  const hookImage = gateImage(a.components);
  const models = a.components.map((c) => {
    const variants = c.plan.variants.map((v) => v.name);
    const folded = fold(variants, c.configs);
    const model = templatizeChart({ plan: c.plan, release: a.release, version: a.release.version, variants, toggles: c.toggles, folded, sharedKeys: c.sharedKeys });
    applyFeatures(model, loadFeatures(c.plan.config));
    addSecretsJob(model, hookImage);
    return placeChart(model, ordering.placements);
  });
  return { models, ordering };
}
