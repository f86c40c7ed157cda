import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KfcError } from './errors.js';
import { TOOLS_LOCK } from './layers.js';

/** A Go tool pinned in tools.lock.json (`go.<name>`), built from the Go module proxy. */
export interface GoToolPin {
  module: string;
  version: string;
  /** the module's `h1:` hash as go.sum records it */
  sum: string;
  /** the main package to build */
  package: string;
  binary: string;
}

/** Where built Go tools are kept: outside the work tree, one directory per module version. */
export function goToolsDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'kubeflow-charts', 'go-tools');
}

/**
 * The path of the pinned Go tool `name`, built once per machine: a throwaway module requiring
 * exactly the pinned version (`go install mod@version` would ask the proxy for the module's
 * version list, which some proxies refuse), its go.sum hash compared with the pin, then
 * `go build` into a temporary directory renamed into place.
 */
export function goTool(name: string, lockFile = TOOLS_LOCK): string {
  const pin = JSON.parse(readFileSync(lockFile, 'utf8'))?.go?.[name] as GoToolPin | undefined;
  if (!pin?.module || !/^v\d+\.\d+\.\d+$/.test(pin.version ?? '') || !pin.sum?.startsWith('h1:') || !pin.package || !pin.binary)
    throw new KfcError(`${lockFile}: go.${name} needs module, an exact version, its h1: sum, package and binary`, 'restore packages/generator/tools.lock.json from git');
  const dest = path.join(goToolsDir(), `${path.basename(pin.module)}@${pin.version}`);
  const bin = path.join(dest, pin.binary);
  if (existsSync(bin)) return bin;
  mkdirSync(path.dirname(dest), { recursive: true });
  const tmp = mkdtempSync(`${dest}.tmp-`);
  const go = (args: string[]) => {
    try {
      execFileSync('go', args, { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GOFLAGS: '-mod=mod', GOWORK: 'off' } });
    } catch (e) {
      const err = e as { code?: string; stderr?: Buffer; message: string };
      if (err.code === 'ENOENT') throw new KfcError(`${name} is built with Go, and no \`go\` is on PATH`, 'install Go (>= 1.21) or put it on PATH');
      throw new KfcError(`go ${args.join(' ')} for ${pin.module}@${pin.version} failed: ${(err.stderr?.toString() || err.message).trim().split('\n').slice(-3).join(' ')}`, 'the Go module proxy must be reachable once (GOPROXY)');
    }
  };
  try {
    writeFileSync(path.join(tmp, 'go.mod'), `module kubeflow-charts/go-tools/${name}\n\ngo 1.21\n\nrequire ${pin.module} ${pin.version}\n`);
    writeFileSync(path.join(tmp, 'tools.go'), `//go:build tools\n\npackage tools\n\nimport _ "${pin.package}"\n`);
    go(['mod', 'tidy']);
    const sum = readFileSync(path.join(tmp, 'go.sum'), 'utf8').split('\n').find((l) => l.startsWith(`${pin.module} ${pin.version} `))?.split(' ')[2];
    if (sum !== pin.sum) throw new KfcError(`${pin.module}@${pin.version}: go.sum hash ${sum ?? '(none)'} does not match the pin ${pin.sum}`, 'the proxy served other content than the pinned one; check GOPROXY, or update the pin');
    go(['build', '-trimpath', '-o', path.join(tmp, 'out', pin.binary), pin.package]);
    try {
      renameSync(path.join(tmp, 'out'), dest);
    } catch (e) {
      if (!existsSync(bin)) throw e; // another process built it first
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}

/** Whether Go is on PATH (a tool that needs building can be built). */
export function hasGo(): boolean {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
