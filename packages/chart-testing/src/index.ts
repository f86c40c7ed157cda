export { readCtConfig, type CtConfig } from './config.js';
export { EXIT, lint, install, lintAndInstall, installTargets, stageChartDirs, setArgs, clusterReachable, ctTools, type CtTools, type Status, type RunOptions } from './ct.js';
