import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { helmRun, helmTemplate } from '../packages/generator/src/core/helm.js';
import { parseYaml, splitObjects } from '../packages/generator/src/core/model.js';
import { chartsFor, PINNED } from './releases.js';

/** The platform stories of the umbrella, rendered: each feature carries its consequences. */

const charts = chartsFor(PINNED);
const umbrella = path.join(charts, 'kubeflow');
const render = async (o: { set?: string[]; files?: string[]; chart?: string } = {}) =>
  splitObjects(await helmTemplate(o.chart ?? umbrella, { set: o.set, valuesFiles: o.files, release: 'kubeflow', namespace: 'kubeflow-charts' }), 'render').map((x) => parseYaml(x.raw));
const find = (docs: any[], kind: string, name: string, namespace?: string) => docs.find((d) => d.kind === kind && d.metadata.name === name && (!namespace || d.metadata.namespace === namespace));
const menu = (docs: any[]) => JSON.parse(find(docs, 'ConfigMap', 'centraldashboard-config', 'kubeflow').data.links);
const texts = (items: any[]): string[] => items.flatMap((i) => [i.text ?? i.desc, ...texts(i.items ?? [])]);

describe(`the dashboard follows the values (${PINNED})`, () => {
  it("defaults render upstream's menu; disabled components lose their entries; Model Registry gets one", async () => {
    const standalone = await render({ chart: path.join(charts, 'centraldashboard') });
    const upstream = find(standalone, 'ConfigMap', 'centraldashboard-config', 'kubeflow');
    const defaults = await render();
    expect(defaults.filter((d) => d.kind === 'ConfigMap' && d.metadata.name === 'centraldashboard-config')).toHaveLength(1);
    expect(find(defaults, 'ConfigMap', 'centraldashboard-config', 'kubeflow').data).toEqual(upstream.data);
    expect(texts(menu(defaults).menuLinks)).toEqual(expect.arrayContaining(['Pipelines', 'Katib Experiments', 'KServe Endpoints']));

    const off = await render({ set: ['pipelines.enabled=false', 'katib.enabled=false', 'kserve-models-web-app.enabled=false', 'model-registry.enabled=true'] });
    const links = menu(off);
    const shown = [...texts(links.menuLinks), ...texts(links.quickLinks)].join('\n');
    expect(shown).not.toMatch(/Pipeline|Katib|KServe/);
    expect(links.menuLinks).toContainEqual({ icon: 'assignment', link: '/model-registry/', text: 'Model Registry', type: 'item' });
    expect(texts(links.menuLinks)).toEqual(expect.arrayContaining(['Notebooks', 'Volumes']));
  });
});

describe(`hard-wired defaults have values (${PINNED})`, () => {
  it("oauth2-proxy: a secure cookie and a verified issuer outside devMode, upstream's with devMode", async () => {
    const params = (docs: any[]) => docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name.startsWith('oauth2-proxy-parameters')).data;
    expect(params(await render())).toMatchObject({ FORCE_HTTPS: 'true', ALLOW_SELF_SIGNED_ISSUER: 'false' });
    expect(params(await render({ set: ['global.devMode=true'] }))).toMatchObject({ FORCE_HTTPS: 'false', ALLOW_SELF_SIGNED_ISSUER: 'true' });
    expect(params(await render({ set: ['global.devMode=true', 'oauth2-proxy.security.cookieSecure=true'] }))).toMatchObject({ FORCE_HTTPS: 'true' });
  });

  it('autoscaling: a replica range or no HPA; a replicas value an HPA would override is refused naming both paths', async () => {
    const hpa = (docs: any[]) => find(docs, 'HorizontalPodAutoscaler', 'activator', 'knative-serving');
    expect(hpa(await render())).toBeDefined();
    expect(hpa(await render({ set: ['knative-serving.autoscaling.activator.minReplicas=2', 'knative-serving.autoscaling.activator.maxReplicas=4'] })).spec).toMatchObject({ minReplicas: 2, maxReplicas: 4 });
    expect(hpa(await render({ set: ['knative-serving.autoscaling.activator.enabled=false'] }))).toBeUndefined();
    const bad = await helmRun(['template', 'kubeflow', umbrella, '--set', 'knative-serving.activator.replicas=3']);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toMatch(/activator\.replicas is not honoured while HorizontalPodAutoscaler activator scales Deployment activator: set autoscaling\.activator\.minReplicas/);
    expect((await helmRun(['template', 'kubeflow', umbrella, '--set', 'knative-serving.activator.replicas=3', '--set', 'knative-serving.autoscaling.activator.enabled=false'])).exitCode).toBe(0);
  });

  it('scheduling: gate jobs, test pods and secrets Jobs take nodeSelector, tolerations, affinity and priorityClassName', async () => {
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['system'] }] }] } } };
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-sched-'));
    const file = path.join(dir, 'values.yaml');
    const sched = { nodeSelector: { pool: 'system' }, tolerations: [{ key: 'system', operator: 'Exists', effect: 'NoSchedule' }], affinity, priorityClassName: 'platform' };
    writeFileSync(file, JSON.stringify({ hooks: sched, tests: { enabled: true, ...sched }, katib: { secretsJob: sched } }));
    const out = splitObjects(await helmTemplate(umbrella, { valuesFiles: [file], release: 'kubeflow', namespace: 'kubeflow-charts' }), 'sched');
    const hooks = splitObjects((await helmRun(['template', 'kubeflow', umbrella, '-f', file, '--namespace', 'kubeflow-charts'])).stdout, 'hooks');
    const spec = (kind: string, re: RegExp) => {
      const o = [...out, ...hooks].find((x) => x.kind === kind && re.test(x.name));
      const d = parseYaml(o!.raw);
      return kind === 'Pod' ? d.spec : d.spec.template.spec;
    };
    for (const s of [spec('Job', /-gate-wait$/), spec('Pod', /-test$/), spec('Job', /-katib-secrets-/)]) expect(s).toMatchObject(sched);
  });
});

// On the control plane, the scenarios' Services get endpoints and their routes' backends exist: test/cluster-scenario-tests.ts.
