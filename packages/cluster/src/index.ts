export { ensureBuilt, pin, stagingReplaces } from './build.js';
export { down, kubectl, kubectlBin, readState, running, stateDir, up, type ClusterState } from './cluster.js';
export { LIFECYCLE_LABEL } from './kwok.js';
export { setup } from './setup.js';
