// The entry point of @kubeflow-charts/values-types: the runtime helpers (built
// into dist/) and every chart's values types (generated into src/generated/ by
// `npm run build` from the charts' values.schema.json).
export * from './dist/runtime.js';
export type * from './src/generated/index.js';
