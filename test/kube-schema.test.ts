import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { UMBRELLA } from '../packages/generator/src/core/chart-model.js';
import { parseYaml } from '../packages/generator/src/core/model.js';
import { kubeSchema, loadKubeDefinitions } from '../packages/generator/src/verify/kube-schema.js';
import { KubeValidator, structuralToJsonSchema } from '../packages/generator/src/verify/kube-validate.js';
import { formatRenderIssues, validateRenders } from '../packages/generator/src/verify/renders.js';
import { renderJobs } from '../packages/generator/src/core/render-cache.js';
import { sha256 } from '../packages/generator/src/core/util.js';
import { chartNames } from './helpers.js';
import { chartsFor, PINNED } from './releases.js';
import { ciMatrix, forEachRender } from './renders.js';

/** The CRD of `kind` from any chart's crds/ (read from the generated charts, never from upstream). */
function crdOf(dir: string, kind: string): any {
  for (const c of chartNames(dir)) {
    const crds = path.join(dir, c, 'crds');
    let files: string[] = [];
    try {
      files = readdirSync(crds);
    } catch {
      continue;
    }
    for (const f of files) {
      const crd = parseYaml(readFileSync(path.join(crds, f), 'utf8'));
      if (crd?.spec?.names?.kind === kind) return crd;
    }
  }
  throw new Error(`no CRD of kind ${kind} in ${dir}`);
}

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'kubeflow', labels: { app: 'web' }, creationTimestamp: null },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'nginx:1', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '500m' } } }], tolerations: [{ key: 'k', operator: 'Exists' }] },
    },
  },
});

describe('Kubernetes schemas of the pinned minor', () => {
  it('load from the npm package, with the kinds and definitions values schemas need', () => {
    const d = loadKubeDefinitions();
    expect(d.kubernetes).toMatch(/^1\.\d+$/);
    expect(d.source).toMatch(/^kubernetes-models@/);
    expect(Object.keys(d.definitions).length).toBeGreaterThan(500);
    expect(d.kinds['apps/v1/Deployment']).toBe('IoK8sApiAppsV1Deployment');
    // a standalone schema validates with ajv and rejects unknown fields
    const tol = new Ajv({ strict: false }).compile({ type: 'array', items: kubeSchema('IoK8sApiCoreV1Toleration') });
    expect(tol([{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }])).toBe(true);
    expect(tol([{ key: 'gpu', operater: 'Exists' }])).toBe(false);
    expect(tol([{ effect: 'Sometimes' }])).toBe(false);
    expect(tol([{ key: 'gpu', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1.5 }])).toBe(false);
    expect(kubeSchema('IoK8sApiCoreV1Toleration').properties?.tolerationSeconds?.type).toBe('integer');
    const aff = kubeSchema('IoK8sApiCoreV1Affinity');
    expect(aff.definitions?.IoK8sApiCoreV1WeightedPodAffinityTerm?.properties?.weight?.type).toBe('integer');
    expect(Object.keys(aff.definitions ?? {})).toContain('IoK8sApiCoreV1NodeSelectorTerm');
    expect(JSON.stringify(aff)).not.toContain('#/definitions/IoK8sApiCoreV1Affinity"');
  });

  it('a valid Deployment passes; a broken one is reported with the path of each error', () => {
    const v = new KubeValidator();
    expect(v.validate(deployment())).toEqual([]);
    const bad: any = deployment();
    bad.spec.replicas = 1.5;
    bad.spec.template.spec.containers[0].imagePullPolcy = 'Always';
    bad.spec.template.spec.containers[0].ports[0].containerPort = '80';
    bad.spec.template.spec.tolerations[0].effect = 'Sometimes';
    delete bad.spec.selector;
    expect(v.validate(bad).sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: '/spec/replicas', message: 'must be integer' },
      { path: '/spec/selector', message: 'required field is missing' },
      { path: '/spec/template/spec/containers/0/imagePullPolcy', message: 'unknown field "imagePullPolcy"' },
      { path: '/spec/template/spec/containers/0/ports/0/containerPort', message: 'must be integer' },
      { path: '/spec/template/spec/tolerations/0/effect', message: 'must be one of "NoExecute", "NoSchedule", "PreferNoSchedule"' },
    ]);
  });

  it("a broken custom resource is reported against its CRD's OpenAPI v3 schema; unknown kinds are errors", () => {
    const v = new KubeValidator();
    v.addCrds([crdOf(chartsFor(PINNED), 'Certificate')]);
    const cert = { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'c', namespace: 'kubeflow' }, spec: { secretName: 's', issuerRef: { name: 'i', kind: 'ClusterIssuer' }, dnsNames: ['a.example'] } };
    expect(v.validate(cert)).toEqual([]);
    const bad: any = structuredClone(cert);
    bad.spec.secretNam = bad.spec.secretName;
    delete bad.spec.secretName;
    bad.spec.duration = 5;
    bad.spec.issuerRef.nam = 'x';
    bad.metadata.labelz = {};
    expect(v.validate(bad).sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: '/metadata/labelz', message: 'unknown field "labelz"' },
      { path: '/spec/duration', message: 'must be string' },
      { path: '/spec/issuerRef/nam', message: 'unknown field "nam"' },
      { path: '/spec/secretNam', message: 'unknown field "secretNam"' },
      { path: '/spec/secretName', message: 'required field is missing' },
    ]);
    expect(v.validate({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })[0].message).toMatch(/no schema for example.com\/v1 Widget/);
  });

  it('Gateway API objects (HTTPRoute) validate against the Gateway API definitions, inherited fields included', () => {
    const v = new KubeValidator();
    const route: any = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'kubeflow', namespace: 'istio-system' },
      spec: { parentRefs: [{ name: 'gw', namespace: 'gateways' }], hostnames: ['kubeflow.example.com'], rules: [{ backendRefs: [{ name: 'istio-ingressgateway', port: 80 }] }] },
    };
    expect(v.validate(route)).toEqual([]);
    route.spec.parentRef = route.spec.parentRefs;
    route.spec.rules[0].backendRefs[0].port = '80';
    expect(
      v
        .validate(route)
        .map((i) => i.path)
        .sort(),
    ).toEqual(['/spec/parentRef', '/spec/rules/0/backendRefs/0/port']);
  });

  it('structural schemas: preserve-unknown-fields stays open, int-or-string and nullable widen the type', () => {
    const s = structuralToJsonSchema({ type: 'object', properties: { port: { 'x-kubernetes-int-or-string': true }, free: { type: 'object', [`x-kubernetes-${'preserve'}-unknown-fields`]: true }, note: { type: 'string', nullable: true } } });
    const ok = new Ajv({ strict: false }).compile(s);
    expect(ok({ port: 'http', free: { anything: 1 }, note: null })).toBe(true);
    expect(ok({ port: 8080 })).toBe(true);
    expect(ok({ port: 1.5 })).toBe(false);
    expect(ok({ other: 1 })).toBe(false);
  });
});

describe(`every render validates against Kubernetes and CRD schemas, ${PINNED}`, () => {
  it('every object of every chart x ci values file, the umbrella included', async () => {
    const dir = chartsFor(PINNED);
    const r = await validateRenders({ charts: dir, concurrency: renderJobs() });
    expect(formatRenderIssues(r.issues)).toBe('');
    const matrix = ciMatrix();
    expect(r.renders).toBe(matrix.length);
    expect(matrix.some((x) => x.chart === UMBRELLA)).toBe(true);
    // every object of every render was validated, every distinct CRD registered (counted apart, from the render matrix)
    const counts = await forEachRender(matrix, (_x, rendered) => ({ objects: rendered.objects.length, crds: rendered.objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => sha256(o.raw)) }));
    expect(r.objects).toBe(counts.reduce((n, c) => n + c.objects, 0));
    expect(r.crds).toBe(new Set(counts.flatMap((c) => c.crds)).size);
    expect(r.crds).toBeGreaterThan(0);
  });
});
