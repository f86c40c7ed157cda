export { readCtConfig, chartSchemaFile, packageRoot, type CtConfig } from './config.js';
export { lintOffline, chartDirs, ciValuesFiles, checkChartYaml, checkMaintainers, type CheckResult } from './offline.js';
export { EXIT, lint, install, lintAndInstall, installTargets, clusterReachable, findCt, type Status, type RunOptions } from './ct.js';
