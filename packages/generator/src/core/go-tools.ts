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
  package: string;
  version: string;
}

export interface ToolPins {
  controlplane: { kubernetes: string; etcd: string };
  go: Record<string, GoToolPin>;
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
    if (typeof pin?.package !== 'string' || !VERSION.test(pin.version ?? '')) {
      throw new KfcError(`${file}: go.tools.${name} needs a package and an exact version (vX.Y.Z)`, 'fix the pin');
    }
  }
  const python: Record<string, string> = lock?.python?.packages ?? {};
  for (const [name, v] of Object.entries(python)) {
    if (!/^\d+(\.\d+)*$/.test(String(v))) throw new KfcError(`${file}: python.packages.${name} needs an exact version`, 'fix the pin');
  }
  return { controlplane: cp, go, python };
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

/** The path of a pinned Go command, built from the Go module proxy at first use (see inScratchModule). */
export function ensureGoTool(name: string, pins = toolPins()): string {
  const pin = pins.go[name];
  if (!pin) throw new KfcError(`no Go tool ${name} is pinned in ${TOOLS_LOCK}`, `pin it under go.tools.${name}`);
  const bin = path.basename(pin.package);
  const dest = path.join(toolCacheDir(), 'go', `${pin.package.replace(/\//g, '_')}@${pin.version}`);
  buildInto(dest, bin, (tmp) => buildGoTool(name, pin, path.join(tmp, bin)));
  return path.join(dest, bin);
}

const PROXY_HINT = 'the Go module proxy must be reachable (GOPROXY); if it lacks this version, pin a served one in packages/generator/tools.lock.json';

/**
 * Runs `f` in a scratch module that requires only the pinned package's module, at the pinned
 * version (`go get`): the build list `go install <package>@<version>` would use. Not `go install`
 * itself: it also asks the proxy for the module's whole version list (its deprecation check),
 * which a proxy may refuse although it serves the version (403).
 */
function inScratchModule<T>(name: string, pin: GoToolPin, f: (go: string, opts: { cwd: string; env: NodeJS.ProcessEnv }) => T): T {
  const go = goBinary(`${name} (${pin.package})`);
  const cwd = mkdtempSync(path.join(os.tmpdir(), `kfc-go-${name}-`));
  try {
    // the lowest go line: `go get` raises it to the module's own, as its main module would have
    writeFileSync(path.join(cwd, 'go.mod'), 'module kubeflow-charts.io/go-tool\n\ngo 1.21\n');
    const env = goEnv();
    run(go, ['get', `${pin.package}@${pin.version}`], { cwd, env, what: `go get ${pin.package}@${pin.version}`, hint: PROXY_HINT });
    const [mod, version] = execFileSync(go, ['list', '-f', '{{.Module.Path}} {{.Module.Version}}', pin.package], { cwd, env, encoding: 'utf8' }).trim().split(' ');
    if (version !== pin.version) throw new KfcError(`${pin.package}: go get resolved ${mod}@${version}, not the pinned ${pin.version}`, 'fix the pin');
    return f(go, { cwd, env });
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

function buildGoTool(name: string, pin: GoToolPin, out: string): void {
  inScratchModule(name, pin, (go, opts) => run(go, ['build', '-o', out, pin.package], { ...opts, what: `go build ${pin.package}@${pin.version}`, hint: PROXY_HINT }));
}

/**
 * The source directory of the module a pinned Go tool comes from, in Go's module cache
 * (downloaded if missing), for files it ships beside its command, such as chart-testing's
 * lint rules and Chart.yaml schema. Does not build the tool.
 */
export function goToolModuleDir(name: string, pins = toolPins()): string {
  const pin = pins.go[name];
  if (!pin) throw new KfcError(`no Go tool ${name} is pinned in ${TOOLS_LOCK}`, `pin it under go.tools.${name}`);
  return inScratchModule(name, pin, (go, opts) => execFileSync(go, ['list', '-f', '{{.Module.Dir}}', pin.package], { ...opts, encoding: 'utf8' }).trim());
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
