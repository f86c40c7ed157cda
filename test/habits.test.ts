import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../packages/generator/src/core/paths.js';

const ROOT = repoRoot();
const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(path.join(d, f)).isDirectory() ? (f === 'generated' ? [] : walk(path.join(d, f))) : [path.join(d, f)]));
const sources = () =>
  readdirSync(path.join(ROOT, 'packages'))
    .flatMap((p) => walk(path.join(ROOT, 'packages', p, 'src')))
    .filter((f) => f.endsWith('.ts'));

/** The `any` types written in a source file (the keyword, not the word in comments). */
function anyCount(file: string): number {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  let n = 0;
  const visit = (node: ts.Node) => {
    if (node.kind === ts.SyntaxKind.AnyKeyword) n++;
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return n;
}

describe('habits the code keeps', () => {
  it('at most 50 `any` in packages/*/src (parsed YAML is where they remain)', () => {
    const probe = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-any-')), 'p.ts');
    writeFileSync(probe, '// any word in a comment\nlet a: any;\nconst b = (x: Record<string, any>) => x as any;\n');
    expect(anyCount(probe)).toBe(3);
    const counts = sources()
      .map((f) => [path.relative(ROOT, f), anyCount(f)] as const)
      .filter(([, n]) => n > 0);
    const total = counts.reduce((a, [, n]) => a + n, 0);
    expect(total, counts.map(([f, n]) => `${n} ${f}`).join('\n')).toBeLessThanOrEqual(50);
  });

  it('one source of Kubernetes schemas at one version: values-schemas/kubernetes.json is what scripts/k8s-schemas.mjs makes from kubernetes-models', async () => {
    const pkgs = ['package.json', ...readdirSync(path.join(ROOT, 'packages')).map((p) => path.join('packages', p, 'package.json'))];
    for (const p of pkgs) {
      const j = JSON.parse(readFileSync(path.join(ROOT, p), 'utf8'));
      expect(Object.keys({ ...j.dependencies, ...j.devDependencies }), p).not.toContain('kubernetes-types');
    }
    // @ts-expect-error: a script without types
    const { render } = await import('../scripts/k8s-schemas.mjs');
    expect(readFileSync(path.join(ROOT, 'values-schemas', 'kubernetes.json'), 'utf8'), 'run `npm run build && node scripts/k8s-schemas.mjs`').toBe(render());
    expect(render()).toContain('"source": "kubernetes-models@');
  });
});
