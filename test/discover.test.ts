import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadComponentConfigs } from '../packages/generator/src/discover/components.js';
import { discover } from '../packages/generator/src/discover/example.js';
import { planComponents } from '../packages/generator/src/discover/plan.js';
import { cleanupCopies, copyOf, editExample } from './fixtures.js';
import { MIRROR } from './releases.js';

const planDir = (dir: string, drop: string[] = []) =>
  planComponents(
    discover(dir),
    loadComponentConfigs().filter((c) => !drop.includes(c.name)),
    dir,
  );
const plan = (tag: string, drop: string[] = []) => planDir(path.join(MIRROR, tag), drop);
const variants = (p: ReturnType<typeof plan>, name: string) => p.components.find((c) => c.name === name)?.variants.map((v) => `${v.name}${v.isDefault ? '*' : ''}`);

afterAll(cleanupCopies);

describe('components and variants come from the example', () => {
  it('26.03: the pipelines default moved to a wrapper directory, its alternative stayed under upstream/env: same variant names', () => {
    const p = plan('26.03');
    expect(variants(p, 'pipelines')).toEqual(['database*', 'k8s-native']);
    expect(p.components.find((c) => c.name === 'pipelines')?.entries.map((e) => e.path)).toEqual(['applications/pipeline/overlays']);
    // cert-manager's merged overlay is still the cert-manager chart
    expect(p.components.find((c) => c.name === 'cert-manager')?.entries.map((e) => e.path)).toEqual(['common/cert-manager/overlays/kubeflow']);
    expect(variants(p, 'istio')).toEqual(['oauth2-proxy*', 'gke', 'ambient', 'ambient-gke']);
    // Model Registry is installed apart from the example: a disabled chart with its overlays as variants and options
    const mr = p.components.find((c) => c.name === 'model-registry')!;
    expect(mr).toMatchObject({ enabled: false, outside: true });
    expect(variants(p, 'model-registry')).toEqual(['db*', 'postgres']);
    expect(mr.options.map((o) => [o.name, o.defaultOn])).toEqual([
      ['istio', true],
      ['ui', true],
    ]);
    // NetworkPolicies moved into the components: the file that claims nothing is reported
    expect(p.warnings.join('\n')).toMatch(/networkpolicies\.yaml claims no line of this release's example; no "networkpolicies" chart/);
    expect(p.toggles).toEqual([]);
  });

  it('v1.11.0: variants named as documented, commented-out standalone entries disabled', () => {
    const p = plan('v1.11.0');
    expect(variants(p, 'istio')).toEqual(['oauth2-proxy*', 'gke', 'ambient', 'ambient-gke']);
    expect(variants(p, 'oauth2-proxy')).toEqual(['dex-only*', 'kind', 'eks']);
    expect(variants(p, 'pipelines')).toEqual(['database*', 'k8s-native']);
    expect(
      p.components
        .filter((c) => !c.enabled && !c.outside)
        .map((c) => c.name)
        .sort(),
    ).toEqual(['knative-eventing', 'kuberay-operator', 'training-operator']);
    // Istio's crds, namespace and install are one chart; cert-manager carries its Kubeflow issuer
    expect(p.components.find((c) => c.name === 'istio')?.entries.map((e) => e.path.split('/')[2])).toEqual(['istio-crds', 'istio-namespace', 'istio-install']);
    expect(p.components.find((c) => c.name === 'cert-manager')?.entries).toHaveLength(2);
    expect(p.toggles).toEqual([expect.objectContaining({ name: 'pssDynamicBaseline', defaultOn: true, path: 'common/security/PSS/dynamic/baseline' })]);
    expect(p.warnings).toEqual([]);
  });

  it('v1.10.2: same configuration, the release own layout; missing commented components are reported', () => {
    const p = plan('v1.10.2');
    expect(variants(p, 'istio')).toEqual(['oauth2-proxy*', 'gke']);
    expect(p.components.find((c) => c.name === 'training-operator')?.enabled).toBe(true);
    expect(p.components.find((c) => c.name === 'trainer')).toBeUndefined();
    expect(p.toggles.map((t) => [t.name, t.defaultOn])).toEqual([['pssDynamicRestricted', false]]);
    expect(p.warnings.filter((w) => /does not exist in the release/.test(w))).toHaveLength(3);
    expect(p.warnings.join('\n')).toMatch(/trainer\.yaml claims no line/);
  });

  it('an entry no configuration claims still gets a chart, under a derived name, with a warning', () => {
    const p = plan('v1.11.0', ['katib', 'spark-operator']);
    expect(p.components.map((c) => c.name)).toContain('katib');
    expect(p.components.map((c) => c.name)).toContain('spark');
    expect(p.warnings.join('\n')).toMatch(/no component configuration claims applications\/katib\/upstream\/installs\/katib-with-kubeflow; generating chart "katib"/);
  });

  it('two configurations claiming one entry is an error naming both files', () => {
    const dir = path.join(MIRROR, 'v1.11.0');
    const configs = loadComponentConfigs();
    const dup = { ...configs.find((c) => c.name === 'katib')!, name: 'katib2', file: 'components/katib2.yaml' };
    expect(() => planComponents(discover(dir), [...configs, dup], dir)).toThrow(/katib-with-kubeflow is claimed by .*katib\.yaml and components\/katib2\.yaml/);
  });
});

describe('discovery survives upstream reshuffles (modified copies of a mirror)', () => {
  it('an enabled line moved into a wrapper directory, its alternative left elsewhere, keeps the variant names', () => {
    const dir = copyOf('v1.11.0', (d) => {
      mkdirSync(path.join(d, 'applications/pipeline/kfc-test-wrapper'), { recursive: true });
      writeFileSync(path.join(d, 'applications/pipeline/kfc-test-wrapper/kustomization.yaml'), 'resources:\n- ../upstream/env/cert-manager/platform-agnostic-multi-user\n');
      editExample(d, (t) => t.replace('- ../applications/pipeline/upstream/env/cert-manager/platform-agnostic-multi-user  #', '- ../applications/pipeline/kfc-test-wrapper  #'));
    });
    const p = planDir(dir);
    expect(p.components.find((c) => c.name === 'pipelines')?.entries.map((e) => e.path)).toEqual(['applications/pipeline/kfc-test-wrapper']);
    expect(variants(p, 'pipelines')).toEqual(['database*', 'k8s-native']);
    expect(p.warnings).toEqual([]);
  });

  it('a renamed component directory keeps its chart name while its glob claims it; a file that claims nothing is reported', () => {
    const moved = copyOf('v1.11.0', (d) => {
      mkdirSync(path.join(d, 'apps'), { recursive: true });
      renameSync(path.join(d, 'applications/katib'), path.join(d, 'apps/katib'));
      editExample(d, (t) => t.replace('../applications/katib/', '../apps/katib/'));
    });
    const p = planDir(moved);
    expect(p.components.find((c) => c.name === 'katib')?.entries.map((e) => e.path)).toEqual(['apps/katib/upstream/installs/katib-with-kubeflow']);
    expect(p.warnings).toEqual([]);

    const renamed = copyOf('v1.11.0', (d) => {
      renameSync(path.join(d, 'applications/katib'), path.join(d, 'applications/hyperparameter-tuning'));
      editExample(d, (t) => t.replace('../applications/katib/', '../applications/hyperparameter-tuning/'));
    });
    const q = planDir(renamed);
    expect(q.components.find((c) => c.name === 'katib')).toBeUndefined();
    const w = q.warnings.join('\n');
    expect(w).toMatch(/katib\.yaml claims no line of this release's example; no "katib" chart/);
    expect(w).toMatch(/no component configuration claims applications\/hyperparameter-tuning\/upstream\/installs\/katib-with-kubeflow; generating chart "hyperparameter-tuning"/);
  });

  it('a commented-out section header switches sections; a commented-out alternative claimed by its file joins it in any directory', () => {
    const dir = copyOf('v1.11.0', (d) =>
      editExample(d, (t) =>
        t
          .replace(/\ncomponents:\n/, '\n# components:\n')
          .replace('- ../common/security/PSS/dynamic/baseline', '# - ../common/security/PSS/dynamic/baseline')
          .replace('# - ../common/oauth2-proxy/overlays/m2m-dex-and-eks', '# NOTE: an alternative further down\n# - ../common/oauth2-proxy/overlays/m2m-dex-and-eks'),
      ),
    );
    const p = planDir(dir);
    expect(p.toggles.map((t) => [t.name, t.defaultOn])).toEqual([['pssDynamicBaseline', false]]);
    expect(variants(p, 'oauth2-proxy')).toEqual(['dex-only*', 'kind', 'eks']);
  });

  it('upstream README components without a chart are reported', () => {
    const dir = copyOf('26.03', (d) => renameSync(path.join(d, 'applications/model-registry/upstream/overlays/db'), path.join(d, 'applications/model-registry/upstream/overlays/mysql')));
    const p = planDir(dir);
    expect(p.components.find((c) => c.name === 'model-registry')).toBeUndefined();
    const w = p.warnings.join('\n');
    expect(w).toMatch(/model-registry\.yaml \(install\): \*\/model-registry\/upstream\/overlays\/db matches no kustomization directory/);
    expect(w).toMatch(/upstream's README lists Kubeflow Model Registry at applications\/model-registry\/upstream, which no generated chart covers/);
  });

  it('an example without resources is refused', () => {
    const dir = copyOf('26.03', (d) => editExample(d, (t) => t.replace(/\nresources:[\s\S]*$/, '\nresources: []\n')));
    expect(() => discover(dir)).toThrow(/the example enables no resources/);
    expect(existsSync(dir)).toBe(true);
  });
});
