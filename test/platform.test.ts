import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { imagesIn, listImages } from '../packages/generator/src/commands/images.js';
import { PUBLIC_REGISTRIES } from '../packages/generator/src/core/images.js';
import { parseYaml, podTemplate, splitObjects, WORKLOAD_KINDS } from '../packages/generator/src/core/model.js';
import { chartsFor, PINNED } from './releases.js';
import { render } from './renders.js';

const umbrella = (tag: string) => path.join(chartsFor(tag), 'kubeflow');
const ciFile = (tag: string, suffix: string) => {
  const f = readdirSync(path.join(umbrella(tag), 'ci')).find((x) => x.endsWith(suffix));
  if (!f) throw new Error(`no ci file *${suffix} for ${tag}`);
  return path.join(umbrella(tag), 'ci', f);
};
const REGISTRY = 'registry.example.internal';
const publicHost = new RegExp(`(?<![\\w.-])(${PUBLIC_REGISTRIES.map((h) => h.replace(/\./g, '\\.')).join('|')})/`);

describe(`air-gapped images, ${PINNED}`, () => {
  it("with global.imageRegistry no rendered string names a public registry, every image is the mirror's, and kfc images lists them all", async () => {
    const tag = PINNED;
    const values = [ciFile(tag, '-all-components-values.yaml')];
    // as kfc images renders: no CRDs
    const open = (await render(umbrella(tag), { values, crds: false })).text;
    expect(publicHost.test(open), 'without a mirror upstream names public registries (the check can fail)').toBe(true);
    const mirrored = (await render(umbrella(tag), { values, set: [`global.imageRegistry=${REGISTRY}`], crds: false })).text;
    const lines = mirrored.split('\n').filter((l) => publicHost.test(l));
    expect(lines).toEqual([]);
    const listed = await listImages({ chart: umbrella(tag), values, set: [`global.imageRegistry=${REGISTRY}`] });
    expect(listed.length).toBeGreaterThan(0);
    // every image the rules find is the mirror's, Docker Hub official images under library/
    expect(listed.filter((i) => !i.startsWith(`${REGISTRY}/`))).toEqual([]);
    expect(listed.filter((i) => /\/library\/(mysql|busybox)/.test(i)).length).toBeGreaterThan(0);
    // the list covers, found independently: every pod container image, and every mirror reference in any text
    const pods = splitObjects(mirrored, 'mirrored').flatMap((o) => {
      if (!WORKLOAD_KINDS[o.kind] && o.kind !== 'Pod') return [];
      const spec = o.kind === 'Pod' ? parseYaml(o.raw).spec : podTemplate(parseYaml(o.raw), o.kind)?.spec;
      return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].map((c: any) => c.image);
    });
    const texts = [...mirrored.matchAll(new RegExp(`${REGISTRY.replace(/\./g, '\\.')}/[a-z0-9._/-]+(?::[\\w.-]+)?(?:@sha256:[a-f0-9]{64})?`, 'g'))].map((m) => m[0]);
    const missing = [...new Set([...pods, ...texts])].filter((i) => !listed.includes(i) && !listed.some((l) => l.startsWith(`${i}/`)));
    expect(missing).toEqual([]);
    expect(imagesIn(open).length).toBeGreaterThanOrEqual(listed.length);
  });
});

describe('Gateway API and profiles', () => {
  it('the HTTPRoute of the gateway-api scenario validates against the Gateway API schema and routes to the ingress Service', async () => {
    const route = (await render(umbrella(PINNED), { values: [ciFile(PINNED, '-gateway-api-values.yaml')] })).objects.find((o) => o.kind === 'HTTPRoute')!;
    expect(route).toBeDefined();
    const doc = parseYaml(route.raw);
    expect(() => new HTTPRoute(doc).validate()).not.toThrow();
    expect(doc.spec.parentRefs).toEqual([{ name: 'default-gateway', namespace: 'default', sectionName: 'https' }]);
    expect(doc.spec.rules[0].backendRefs).toEqual([{ name: 'istio-ingressgateway', port: 80 }]);
    expect(doc.metadata.namespace).toBe('istio-system');
    // the check can fail: a broken route is rejected
    expect(() => new HTTPRoute({ ...doc, spec: { ...doc.spec, rules: [{ backendRefs: [{ name: 'x', port: 'http' }] }] } }).validate()).toThrow(/port/);
  });

  it('profiles from values come after the profile controller, with their contributors', async () => {
    const r = await render(umbrella(PINNED), { values: [ciFile(PINNED, '-user-namespace-profiles-values.yaml')] });
    const objs = r.objects.map((o, i) => ({ o, d: r.docs[i] }));
    const wave = (kind: string, name: string) => Number(objs.find((x) => x.o.kind === kind && x.o.name === name)!.d.metadata.annotations['argocd.argoproj.io/sync-wave']);
    expect(wave('Profile', 'team-a')).toBeGreaterThan(wave('Deployment', 'profiles-deployment'));
    expect(
      objs
        .filter((x) => x.o.kind === 'RoleBinding' && x.o.namespace === 'team-a' && !x.d.metadata.labels?.['kubeflow-charts.io/lifecycle'])
        .map((x) => x.o.name)
        .sort(),
    ).toEqual(['user-bob-example-com-clusterrole-edit', 'user-carol-example-com-clusterrole-view']);
    // the pull secrets copied into each profile namespace: the secrets Job's binding there comes after the namespace
    const copy = objs.find((x) => x.o.kind === 'RoleBinding' && x.o.namespace === 'team-a' && x.d.metadata.labels?.['kubeflow-charts.io/lifecycle'] === 'secrets');
    expect(copy, 'the secrets Job may write pull secrets into team-a').toBeDefined();
    expect(Number(copy!.d.metadata.annotations['argocd.argoproj.io/sync-wave'])).toBeGreaterThan(wave('Namespace', 'team-a'));
  });
});
