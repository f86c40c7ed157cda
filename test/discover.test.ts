import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadComponentConfigs } from '../packages/generator/src/discover/components.js';
import { discover } from '../packages/generator/src/discover/example.js';
import { planComponents } from '../packages/generator/src/discover/plan.js';
import { MIRROR } from './releases.js';

const plan = (tag: string, drop: string[] = []) => {
  const dir = path.join(MIRROR, tag);
  return planComponents(discover(dir), loadComponentConfigs().filter((c) => !drop.includes(c.name)), dir);
};
const variants = (p: ReturnType<typeof plan>, name: string) => p.components.find((c) => c.name === name)?.variants.map((v) => `${v.name}${v.isDefault ? '*' : ''}`);

describe('components and variants come from the example', () => {
  it('v1.11.0: variants named as documented, commented-out standalone entries disabled', () => {
    const p = plan('v1.11.0');
    expect(variants(p, 'istio')).toEqual(['oauth2-proxy*', 'gke', 'ambient', 'ambient-gke']);
    expect(variants(p, 'oauth2-proxy')).toEqual(['dex-only*', 'kind', 'eks']);
    expect(variants(p, 'pipelines')).toEqual(['database*', 'k8s-native']);
    expect(p.components.filter((c) => !c.enabled).map((c) => c.name).sort()).toEqual(['knative-eventing', 'kuberay-operator', 'training-operator']);
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
