import { scenarioTests } from './cluster-scenario-tests.js';

// the most different umbrella scenarios, installed for real (half of them; -b has the rest)
scenarioTests('a', ['11-all-components-values.yaml', '15-mesh-ambient-values.yaml', '12-gateway-api-values.yaml']);
