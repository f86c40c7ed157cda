import { scenarioTests } from './cluster-scenario-tests.js';

// The most different umbrella scenarios beyond the defaults (cluster-helm4), every component
// (cluster-helm3) and profiles (both), installed for real: ambient mesh with a Gateway API
// route, and your own Istio and cert-manager with an external database and object store.
scenarioTests('ambient + Gateway API; bring-your-own Istio and cert-manager + external MySQL and S3', [
  '15-mesh-ambient-values.yaml+12-gateway-api-values.yaml',
  '13-byo-istio-values.yaml+14-byo-cert-manager-values.yaml+17-pipelines-external-database-values.yaml+18-pipelines-external-object-store-values.yaml',
]);
