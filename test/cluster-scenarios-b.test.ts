import { scenarioTests } from './cluster-scenario-tests.js';

scenarioTests('b', ['17-pipelines-external-database-values.yaml+18-pipelines-external-object-store-values.yaml', '13-byo-istio-values.yaml+14-byo-cert-manager-values.yaml']);
