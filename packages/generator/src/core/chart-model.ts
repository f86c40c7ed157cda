/**
 * Names every layer above core shares about the charts. The in-memory chart model
 * itself (what templatize builds and later stages hand on) is templatize/chart-model.ts.
 */

/** The umbrella chart's name. */
export const UMBRELLA = 'kubeflow';
/** Label on the umbrella's own lifecycle objects (gate jobs, their RBAC, tests). */
export const LIFECYCLE_LABEL = 'kubeflow-charts.io/lifecycle';
