import path from 'node:path';
import { describeCluster } from './cluster.js';
import { lifecycleTests, UMBRELLA_DIR } from './cluster-lifecycle.js';

describeCluster('the umbrella with every component on a real control plane, Helm 3: install, test, uninstall, install again', (cluster) => {
  lifecycleTests(3, cluster, [path.join(UMBRELLA_DIR, 'ci', '11-all-components-values.yaml'), path.join(UMBRELLA_DIR, 'ci', '19-user-namespace-profiles-values.yaml')]);
});
