import path from 'node:path';
import { describeCluster } from './cluster.js';
import { lifecycleTests, UMBRELLA_DIR } from './cluster-lifecycle.js';

// defaults plus profiles from values: every kind the README says uninstall keeps is rendered
describeCluster('the umbrella on a real control plane, Helm 4: install, test, uninstall, install again', (cluster) => {
  lifecycleTests(4, cluster, [path.join(UMBRELLA_DIR, 'ci', '19-user-namespace-profiles-values.yaml')]);
});
