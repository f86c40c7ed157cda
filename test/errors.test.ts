import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../packages/generator/src/commands/build.js';
import { silentLogger } from '../packages/generator/src/core/log.js';
import { KfcError } from '../packages/generator/src/core/errors.js';
import { repoRoot } from '../packages/generator/src/core/paths.js';
import { makeRelease } from './fixtures.js';
import { lockFor } from './releases.js';

/** An output directory holding a previous good build (a sentinel chart). */
function previousOutput(): string {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-err-')), 'charts');
  mkdirSync(path.join(out, 'sentinel'), { recursive: true });
  writeFileSync(path.join(out, 'sentinel', 'Chart.yaml'), 'name: sentinel\n');
  return out;
}

function untouched(out: string): void {
  expect(readdirSync(out)).toEqual(['sentinel']);
  expect(readdirSync(path.dirname(out)).filter((f) => f !== 'charts')).toEqual([]);
}

async function failure(p: Promise<unknown>): Promise<KfcError> {
  const e = await p.then(
    () => undefined,
    (x) => x,
  );
  expect(e).toBeInstanceOf(KfcError);
  return e as KfcError;
}

describe('bad input ends with one clear message and leaves no partial chart', () => {
  it('a missing manifests directory', async () => {
    const out = previousOutput();
    const e = await failure(build({ lockFile: lockFor('v1.11.0'), upstreamDir: '/nonexistent/manifests', out, logger: silentLogger }));
    expect(e.message).toMatch(/upstream directory \/nonexistent\/manifests \(--upstream\) does not exist/);
    expect(e.hint).toMatch(/kubeflow\/manifests checkout/);
    untouched(out);
  });

  it('a directory that is not a manifests release', async () => {
    const out = previousOutput();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-notrelease-'));
    const e = await failure(build({ lockFile: lockFor('v1.11.0'), upstreamDir: dir, out, logger: silentLogger }));
    expect(e.message).toContain(`${dir} (--upstream) is not a Kubeflow manifests release: example/kustomization.yaml is missing`);
    untouched(out);
  });

  it('a broken default component stops the build with the kustomize error, naming the path', async () => {
    const out = previousOutput();
    const dir = makeRelease({
      lines: ['- ../common/kubeflow-namespace/base', '- ../applications/broken/base'],
      copy: ['common/kubeflow-namespace'],
      files: { 'applications/broken/base/kustomization.yaml': 'resources:\n- missing.yaml\n' },
    });
    const e = await failure(build({ lockFile: lockFor('v1.11.0'), upstreamDir: dir, out, logger: silentLogger }));
    expect(e.message).toMatch(/kustomize build of example .* failed/);
    expect(e.message).toMatch(/applications\/broken\/base/);
    expect(e.message).toMatch(/missing\.yaml/);
    untouched(out);
  });

  /** A release whose oauth2-proxy alternative `broken` has a YAML syntax error in a patch it uses. */
  const brokenAlternative = () =>
    makeRelease({
      lines: ['- ../common/kubeflow-namespace/base', '- ../common/oauth2-proxy/overlays/m2m-dex-only', '# - ../common/oauth2-proxy/overlays/broken'],
      copy: ['common/kubeflow-namespace', 'common/oauth2-proxy'],
      files: {
        'common/oauth2-proxy/overlays/broken/kustomization.yaml': 'resources:\n- ../../base\npatches:\n- path: patch.yaml\n',
        'common/oauth2-proxy/overlays/broken/patch.yaml': 'apiVersion: apps/v1\nkind: [Deployment\nmetadata: {name: oauth2-proxy}\n',
      },
    });

  /** A copy of components/ whose oauth2-proxy file lists `knownBroken` entries. */
  const componentsWith = (knownBroken: unknown[]) => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-comp-')), 'components');
    cpSync(path.join(repoRoot(), 'components'), dir, { recursive: true });
    const file = path.join(dir, 'oauth2-proxy.yaml');
    writeFileSync(file, `${readFileSync(file, 'utf8')}knownBroken: ${JSON.stringify(knownBroken)}\n`);
    return dir;
  };

  it('a broken alternative (a YAML syntax error) stops the build naming its kustomization, and leaves the charts untouched', async () => {
    const dir = brokenAlternative();
    const out = previousOutput();
    const e = await failure(build({ lockFile: lockFor('v1.11.0'), upstreamDir: dir, out, logger: silentLogger }));
    expect(e.message).toContain(`oauth2-proxy: variant broken: ${path.join(dir, 'common/oauth2-proxy/overlays/broken/kustomization.yaml')} does not build in release snapshot-`);
    // kustomize's own words (out of kubectl's multi-line log block), naming the file that does not parse
    expect(e.message).toMatch(/does not build in release snapshot-\w+: unable to parse .*patch\.yaml/);
    expect(e.hint).toMatch(/knownBroken/);
    untouched(out);
  });

  it('an alternative a component file lists under knownBroken is skipped with a warning only when its error matches', async () => {
    const dir = brokenAlternative();
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-alt-')), 'charts');
    const env = process.env.KFC_COMPONENTS_DIR;
    try {
      // an error pattern the failure does not match: still fatal
      process.env.KFC_COMPONENTS_DIR = componentsWith([{ path: 'common/oauth2-proxy/overlays/broken', error: 'no such file', reason: 'refers to a directory upstream forgot' }]);
      const e = await failure(build({ lockFile: lockFor('v1.11.0'), upstreamDir: dir, out, logger: silentLogger }));
      expect(e.message).toMatch(/variant broken: .*overlays\/broken\/kustomization\.yaml does not build/);
      expect(existsSync(out)).toBe(false);
      // the pattern matches: skipped, with the reason; an entry naming no directory of the release is reported
      process.env.KFC_COMPONENTS_DIR = componentsWith([
        { path: 'common/oauth2-proxy/overlays/broken', error: 'yaml', reason: 'a syntax error upstream fixes in the next release' },
        { path: 'common/oauth2-proxy/overlays/gone', reason: 'removed upstream' },
      ]);
      const res = await build({ lockFile: lockFor('v1.11.0'), upstreamDir: dir, out, logger: silentLogger });
      const w = res.warnings.join('\n');
      expect(w).toMatch(/oauth2-proxy: variant broken \(common\/oauth2-proxy\/overlays\/broken\) does not build \(a syntax error upstream fixes in the next release; knownBroken in oauth2-proxy\.yaml\); skipped: /);
      expect(w).toMatch(/oauth2-proxy\.yaml: knownBroken common\/oauth2-proxy\/overlays\/gone names no directory of release snapshot-\w+/);
      expect(res.charts.find((c) => c.name === 'oauth2-proxy')?.variants).toEqual(['dex-only']);
      // a release without cert-manager or istio: the shared features about them are off, and the build says so
      expect(w).toMatch(/shared feature certManagerIssuer \(.*cert-manager-issuer\.yaml\) is off in release snapshot-\w+: it has none of the charts cert-manager/);
      expect(res.warnings.filter((x) => x.startsWith('shared feature ')).length).toBe(3);
    } finally {
      if (env === undefined) delete process.env.KFC_COMPONENTS_DIR;
      else process.env.KFC_COMPONENTS_DIR = env;
    }
  });

  it('a feature schema with a key read as a keyword (an unquoted comma in a YAML flow map) stops the build naming the chart', async () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-comp-')), 'components');
    cpSync(path.join(repoRoot(), 'components'), dir, { recursive: true });
    const file = path.join(dir, 'dex', 'features', 'identity.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace("{description: 'The connector type (oidc, github, ldap, ...).',", '{description: The connector type (oidc, github, ldap, ...).,'));
    const env = process.env.KFC_COMPONENTS_DIR;
    process.env.KFC_COMPONENTS_DIR = dir;
    try {
      const out = previousOutput();
      const e = await failure(build({ lockFile: lockFor('v1.11.0'), out, logger: silentLogger, force: true }));
      expect(e.message).toMatch(/^chart dex: values\.schema\.json does not compile: strict mode: unknown keyword: "github"/);
      expect(e.hint).toMatch(/quote a description holding commas/);
      untouched(out);
    } finally {
      if (env === undefined) delete process.env.KFC_COMPONENTS_DIR;
      else process.env.KFC_COMPONENTS_DIR = env;
    }
  });

  it('a release pin that is not a tag', async () => {
    const lock = path.join(mkdtempSync(path.join(os.tmpdir(), 'kfc-lock-')), 'upstream.lock.json');
    writeFileSync(lock, JSON.stringify({ repository: 'kubeflow/manifests', tag: 'main', commit: 'x' }));
    const e = await failure(build({ lockFile: lock, logger: silentLogger }));
    expect(e.message).toBe(`${lock}: tag "main" is not a release tag (vMAJOR.MINOR.PATCH (v1.11.0) or YY.MM[.PATCH][-PRERELEASE] (26.03, 26.03.1, 26.03.1-rc.2))`);
    rmSync(path.dirname(lock), { recursive: true });
  });

  it('a component configuration with an unknown key names the file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-comp-'));
    writeFileSync(path.join(dir, 'katib.yaml'), 'description: x\npaths: ["*/katib/**"]\nvariant: {}\n');
    process.env.KFC_COMPONENTS_DIR = dir;
    try {
      const out = previousOutput();
      const e = await failure(build({ lockFile: lockFor('v1.11.0'), out, logger: silentLogger, force: true }));
      expect(e.message).toBe(`${path.join(dir, 'katib.yaml')}: unknown key "variant" (known: description, paths, variants, keywords, tier, install, options, checks, features, variantOverrides, knownBroken)`);
      untouched(out);
      expect(existsSync(out)).toBe(true);
    } finally {
      delete process.env.KFC_COMPONENTS_DIR;
    }
  });
});
