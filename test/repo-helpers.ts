import path from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import { findHelm } from '../packages/generator/src/core/toolchain.js';
import { BY_VERSION, chartsFor, versionOf } from './releases.js';

/** The mirrored releases with their chart versions, oldest first. */
export function publishedReleases(): Array<{ tag: string; charts: string; version: string }> {
  return BY_VERSION.map((tag) => ({ tag, charts: chartsFor(tag), version: versionOf(tag) }));
}

/** Runs helm with a private configuration (repositories, cache) in `home`. */
export function helmIn(home: string) {
  const env = { HELM_REPOSITORY_CONFIG: path.join(home, 'repos.yaml'), HELM_REPOSITORY_CACHE: path.join(home, 'cache'), HELM_CACHE_HOME: path.join(home, 'c'), HELM_CONFIG_HOME: path.join(home, 'cfg'), HELM_DATA_HOME: path.join(home, 'd') };
  return async (major: 3 | 4, ...args: string[]) => {
    const r = await execa((await findHelm(major)).path, args, { env, cwd: home, reject: false, maxBuffer: 1 << 30 });
    expect(r.exitCode, `helm ${major} ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
}
