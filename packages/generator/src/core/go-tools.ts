import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KfcError } from './errors.js';
import { TOOLS_LOCK } from './layers.js';

/**
 * Tools built from public package registries with the machine's own toolchains, pinned in
 * tools.lock.json: Go commands (`go install <package>@<version>` from the Go module proxy)
 * and Python packages (`pip install` into a virtualenv). Both land in the tool cache, outside
 * the work tree, once per machine and version; a build goes to a temporary directory that is
 * renamed into place, so an interrupted one leaves nothing half-written.
 */
export interface GoToolPin {
  /** the module holding the command */
  module: string;
  /** the command's package */
  package: string;
  version: string;
}

export interface GoModulePin {
  module: string;
  version: string;
  /** a directory inside the module */
  path: string;
}

export interface ToolPins {
  controlplane: { kubernetes: string; etcd: string };
  go: Record<string, GoToolPin>;
  modules: Record<string, GoModulePin>;
  python: Record<string, string>;
}

const VERSION = /^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

export function toolPins(file = TOOLS_LOCK): ToolPins {
  let lock: any;
  try {
    lock = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new KfcError(`cannot read the tool pins in ${file}: ${(e as Error).message}`, 'restore packages/generator/tools.lock.json from git');
  }
  const cp = lock?.go?.controlplane;
  if (!cp || !VERSION.test(cp.kubernetes) || !VERSION.test(cp.etcd)) {
    throw new KfcError(`${file}: go.controlplane needs exact versions of kubernetes and etcd (vX.Y.Z)`, 'restore packages/generator/tools.lock.json from git');
  }
  const go: Record<string, GoToolPin> = lock.go.tools ?? {};
  for (const [name, pin] of Object.entries(go)) {
    if (typeof pin?.module !== 'string' || typeof pin.package !== 'string' || !pin.package.startsWith(pin.module) || !VERSION.test(pin.version ?? '')) {
      throw new KfcError(`${file}: go.tools.${name} needs a module, a package inside it and an exact version (vX.Y.Z)`, 'fix the pin');
    }
  }
  const modules: Record<string, GoModulePin> = Object.fromEntries(Object.entries(lock.go.modules ?? {}).filter(([k]) => k !== '//')) as Record<string, GoModulePin>;
  for (const [name, m] of Object.entries(modules)) {
    if (typeof m?.module !== 'string' || !VERSION.test(m.version ?? '') || typeof m.path !== 'string') throw new KfcError(`${file}: go.modules.${name} needs module, an exact version and path`, 'fix the pin');
  }
  const python: Record<string, string> = lock?.python?.packages ?? {};
  for (const [name, v] of Object.entries(python)) {
    if (!/^\d+(\.\d+)*$/.test(String(v))) throw new KfcError(`${file}: python.packages.${name} needs an exact version`, 'fix the pin');
  }
  return { controlplane: cp, go, modules, python };
}

/** Where built tools live: $KFC_TOOLS_CACHE, else $XDG_CACHE_HOME/kubeflow-charts, else ~/.cache/kubeflow-charts. */
export function toolCacheDir(): string {
  if (process.env.KFC_TOOLS_CACHE) return path.resolve(process.env.KFC_TOOLS_CACHE);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'kubeflow-charts');
}

/** `go` on PATH, or an error saying what needs it. */
export function goBinary(what: string): string {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return 'go';
  } catch {
    throw new KfcError(`${what} is built with Go, and no \`go\` is on PATH`, 'install Go >= 1.25 (https://go.dev/dl) and rerun');
  }
}

/** Environment for go commands: the machine's Go (no toolchain download), our own caches untouched. */
export function goEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN || 'local', GOFLAGS: '', ...extra };
}

/** Runs a build into a fresh temporary directory next to `dest` and renames it into place. */
export function buildInto(dest: string, check: string, build: (tmp: string) => void): string {
  if (existsSync(path.join(dest, check))) return dest;
  mkdirSync(path.dirname(dest), { recursive: true });
  const tmp = mkdtempSync(`${dest}.tmp-`);
  try {
    build(tmp);
    if (!existsSync(path.join(tmp, check))) throw new KfcError(`building ${path.basename(dest)} produced no ${check}`, 'see the output above');
    try {
      renameSync(tmp, dest);
    } catch (e) {
      if (!existsSync(path.join(dest, check))) throw e; // another process built it first
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dest;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; what: string; hint: string }): void {
  try {
    execFileSync(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    const tailLines = (err.stderr?.toString() || err.message).trim().split('\n').slice(-8).join('\n  ');
    throw new KfcError(`${opts.what} failed:\n  ${tailLines}`, opts.hint);
  }
}

const PROXY_HINT = 'the Go module proxy must be reachable (GOPROXY); if it lacks this version, pin a served one in packages/generator/tools.lock.json';

/** The source directory of `module@version` in Go's module cache (`go mod download`, checked against the checksum database). */
function moduleDir(what: string, module: string, version: string): string {
  let info: { Dir?: string; Error?: string };
  const go = goBinary(what); // no Go: that error, as it is
  try {
    info = JSON.parse(execFileSync(go, ['mod', 'download', '-json', `${module}@${version}`], { env: goEnv(), encoding: 'utf8', cwd: os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new KfcError(`go mod download ${module}@${version} failed: ${(err.stderr || err.stdout || err.message).trim()}`, PROXY_HINT);
  }
  if (info.Error || !info.Dir) throw new KfcError(`${module}@${version}: ${info.Error ?? 'no module directory'}`, PROXY_HINT);
  return info.Dir;
}

/** A directory of a pinned Go module (downloaded into Go's module cache at first use). */
export function goModuleDir(name: string, pins = toolPins()): string {
  const pin = pins.modules[name];
  if (!pin) throw new KfcError(`no Go module ${name} is pinned in ${TOOLS_LOCK}`, `pin it under go.modules.${name}`);
  const dir = path.join(moduleDir(`${name} (${pin.module})`, pin.module, pin.version), pin.path);
  if (!existsSync(dir)) throw new KfcError(`${pin.module}@${pin.version} has no ${pin.path}`, `fix go.modules.${name}.path`);
  return dir;
}

/**
 * The source directory of the module a pinned Go tool comes from, in Go's module cache, for
 * files it ships beside its command (chart-testing's lint rules and Chart.yaml schema).
 */
export function goToolModuleDir(name: string, pins = toolPins()): string {
  const pin = pins.go[name];
  if (!pin) throw new KfcError(`no Go tool ${name} is pinned in ${TOOLS_LOCK}`, `pin it under go.tools.${name}`);
  return moduleDir(`${name} (${pin.package})`, pin.module, pin.version);
}

/**
 * The path of a pinned Go command, built at first use. It is built inside its own module, as
 * downloaded from the proxy with its go.sum (what `go install <package>@<version>` does, minus
 * the module list lookup some proxies refuse), so its dependencies are exactly the module's.
 */
export function ensureGoTool(name: string, pins = toolPins()): string {
  const pin = pins.go[name];
  if (!pin) throw new KfcError(`no Go tool ${name} is pinned in ${TOOLS_LOCK}`, `pin it under go.tools.${name}`);
  const bin = path.basename(pin.package);
  const dest = path.join(toolCacheDir(), 'go', `${pin.package.replace(/\//g, '_')}@${pin.version}`);
  if (existsSync(path.join(dest, bin))) return path.join(dest, bin);
  const dir = goToolModuleDir(name, pins);
  const pkg = `.${pin.package.slice(pin.module.length) || ''}`;
  buildInto(dest, bin, (tmp) => run(goBinary(name), ['build', '-mod=readonly', '-o', path.join(tmp, bin), pkg], { cwd: dir, env: goEnv(), what: `go build ${pin.package}@${pin.version}`, hint: PROXY_HINT }));
  return path.join(dest, bin);
}

/**
 * The bin directory of a virtualenv holding the pinned Python packages (yamllint, yamale).
 * A virtualenv cannot move (its scripts name its path), so it is built in place and marked
 * complete at the end; an incomplete one is removed and built again.
 */
export function ensurePythonTools(pins = toolPins()): string {
  const reqs = Object.entries(pins.python)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([n, v]) => `${n}==${v}`);
  const dest = path.join(toolCacheDir(), 'python', reqs.join('_'));
  const done = path.join(dest, '.complete');
  if (existsSync(done)) return path.join(dest, 'bin');
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(path.dirname(dest), { recursive: true });
  try {
    const python = process.env.KFC_PYTHON || 'python3';
    run(python, ['-m', 'venv', dest], { what: `${python} -m venv`, hint: 'install python3 with its venv module (Debian: python3-venv)' });
    run(path.join(dest, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...reqs], {
      what: `pip install ${reqs.join(' ')}`,
      hint: 'PyPI must be reachable (or set PIP_INDEX_URL to your mirror)',
    });
    writeFileSync(done, `${reqs.join('\n')}\n`);
  } catch (e) {
    rmSync(dest, { recursive: true, force: true });
    throw e;
  }
  return path.join(dest, 'bin');
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
