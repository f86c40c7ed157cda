import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeFingerprint, FINGERPRINT_FILE } from '../packages/generator/src/core/code-fingerprint.js';
import { repoRoot } from '../packages/generator/src/core/paths.js';

const ROOT = repoRoot();
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');
const SRC = 'packages/generator/src/';

interface Cruise {
  modules: Array<{ source: string; dependencies: Array<{ resolved: string; couldNotResolve: boolean }> }>;
  summary: { violations: Array<{ rule: { name: string }; from: string; to: string }> };
}

/** dependency-cruiser over `dirs` (relative to `cwd`) with the project's rules, as JSON. */
function cruise(cwd: string, dirs: string[]): Cruise {
  const bin = path.join(ROOT, 'node_modules', '.bin', 'depcruise');
  const r = spawnSync(bin, [...dirs, '--config', CONFIG, '--output-type', 'json'], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(r.stdout, r.stderr).toMatch(/^\{/);
  return JSON.parse(r.stdout);
}

const folderOf = (file: string) => (file.startsWith(SRC) ? file.slice(SRC.length).split('/')[0].replace(/\.ts$/, '') : undefined);

/** A cycle among the folders of packages/generator/src, or undefined. */
function folderCycle(c: Cruise): string[] | undefined {
  const edges = new Map<string, Set<string>>();
  for (const m of c.modules) {
    const from = folderOf(m.source);
    if (!from) continue;
    for (const d of m.dependencies) {
      const to = folderOf(d.resolved);
      if (to && to !== from) edges.set(from, (edges.get(from) ?? new Set()).add(to));
    }
  }
  const state = new Map<string, 'open' | 'done'>();
  const visit = (n: string, trail: string[]): string[] | undefined => {
    if (state.get(n) === 'open') return [...trail.slice(trail.indexOf(n)), n];
    if (state.get(n) === 'done') return undefined;
    state.set(n, 'open');
    for (const m of edges.get(n) ?? []) {
      const cyc = visit(m, [...trail, n]);
      if (cyc) return cyc;
    }
    state.set(n, 'done');
    return undefined;
  };
  for (const n of edges.keys()) {
    const cyc = visit(n, []);
    if (cyc) return cyc;
  }
  return undefined;
}

describe('architecture: the generator is layered (.dependency-cruiser.cjs)', () => {
  const real = cruise(ROOT, ['packages/generator/src', 'packages/chart-testing/src']);

  it('every import points down the layers; chart-testing uses only the generator core', () => {
    expect(real.modules.length).toBeGreaterThan(50);
    expect(real.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  });

  it('no two folders of packages/generator/src form a cycle', () => {
    expect(folderCycle(real)).toBeUndefined();
  });

  it('the rules bite: an upward import, a sibling import and a folder outside the layers are violations', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-arch-'));
    copyFileSync(path.join(ROOT, 'tsconfig.base.json'), path.join(dir, 'tsconfig.base.json'));
    const files: Record<string, string> = {
      'core/low.ts': "import { high } from '../emit/high.js';\nexport const low = high;\n",
      'emit/high.ts': 'export const high = 1;\n',
      'verify/v.ts': "import { d } from '../diff/d.js';\nexport const v = d;\n",
      'diff/d.ts': 'export const d = 1;\n',
      'stray/s.ts': "import { high } from '../emit/high.js';\nexport const s = high;\n",
    };
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, SRC, f)), { recursive: true });
      writeFileSync(path.join(dir, SRC, f), text);
    }
    const c = cruise(dir, [SRC]);
    expect(c.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort()).toEqual([
      `layer-core: ${SRC}core/low.ts -> ${SRC}emit/high.ts`,
      `layer-unknown: ${SRC}stray/s.ts -> ${SRC}emit/high.ts`,
      `layer-verify: ${SRC}verify/v.ts -> ${SRC}diff/d.ts`,
    ]);
    expect(folderCycle({ ...c, modules: [...c.modules, { source: `${SRC}emit/high.ts`, dependencies: [{ resolved: `${SRC}core/low.ts`, couldNotResolve: false }] }] })).toEqual(['core', 'emit', 'core']);
  });

  it('the compiled generator reads nothing from src/: its assets are in dist/, stamped with the sources it was built from', () => {
    const dist = path.join(ROOT, 'packages/generator/dist');
    const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(path.join(d, f)).isDirectory() ? walk(path.join(d, f)) : [path.join(d, f)]));
    const src = path.join(ROOT, SRC);
    for (const f of walk(src).filter((x) => !x.endsWith('.ts'))) expect(existsSync(path.join(dist, path.relative(src, f))), f).toBe(true);
    for (const f of walk(dist).filter((x) => x.endsWith('.js'))) {
      expect(readFileSync(f, 'utf8'), path.relative(ROOT, f)).not.toMatch(/'\.\.', 'src'|'generator', 'src'|\.\.\/src\//);
    }
    expect(readFileSync(path.join(dist, FINGERPRINT_FILE), 'utf8').trim(), 'dist/ is stale: npm run build').toBe(codeFingerprint());
  });
});
