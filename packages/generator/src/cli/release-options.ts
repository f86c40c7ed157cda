import { Option } from 'commander';
import type { ResolveOptions } from '../upstream/release.js';

/** The options that choose the upstream release (build, verify). */
export interface ReleaseFlags {
  lock?: string;
  upstream?: string;
  tag?: string;
}

export const lockOption = () => new Option('--lock <file>', 'release pin (default: upstream.lock.json; env KFC_LOCK)');

export const releaseOptions = (): Option[] => [
  lockOption(),
  new Option('--upstream <dir>', 'use this kubeflow/manifests tree instead of the pinned one (env KFC_UPSTREAM_DIR)'),
  new Option('--tag <tag>', 'the upstream tag of that tree (env KFC_UPSTREAM_TAG); without it the tree is an untagged snapshot (chart version 0.0.0-snapshot.<id>)'),
];

export const resolveOptions = (o: ReleaseFlags): ResolveOptions => ({ lockFile: o.lock, upstreamDir: o.upstream, upstreamTag: o.tag });
