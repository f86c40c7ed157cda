import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { helmTemplate } from '../packages/generator/src/core/helm.js';
import { LIFECYCLE_LABEL } from '../packages/generator/src/core/chart-model.js';
import { planObjects, type PlanObject } from '../packages/generator/src/order/sequence.js';
import { INSTALL_POLICY_ANNOTATION } from '../packages/generator/src/order/tiers.js';
import { chartNames, ciFiles } from './helpers.js';
import { chartsFor, RELEASES } from './releases.js';

const label = (x: PlanObject) => `${x.kind} ${x.namespace ? `${x.namespace}/` : ''}${x.name}`;

/** Objects Argo CD runs as hooks on every sync (it maps Helm's install/upgrade hooks to its phases and re-creates a hook each sync). */
function argoEverySyncHooks(objs: PlanObject[]): PlanObject[] {
  return objs.filter((x) => {
    const argo = x.annotations['argocd.argoproj.io/hook'];
    if (argo) return argo.split(',').some((p) => ['PreSync', 'Sync', 'PostSync', 'SyncFail'].includes(p.trim()));
    const events = (x.annotations['helm.sh/hook'] ?? '').split(',').map((e) => e.trim());
    return events.some((e) => ['pre-install', 'pre-upgrade', 'post-install', 'post-upgrade'].includes(e));
  });
}

/** Runs a gate script with a fake kubectl (its body decides the answers) and records the calls. */
function fakeKubectl(script: string, body: string): { status: number | null; out: string; calls: string[] } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-kubectl-'));
  const log = path.join(dir, 'calls.log');
  writeFileSync(log, '');
  writeFileSync(path.join(dir, 'kubectl'), `#!/bin/sh\necho "$*" >> ${log}\n${body}\n`);
  chmodSync(path.join(dir, 'kubectl'), 0o755);
  const r = spawnSync('sh', ['-ec', script], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, TIMEOUT: '5s' }, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr, calls: readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) };
}

const script = (objs: PlanObject[], suffix: string) => objs.find((o) => o.kind === 'Job' && o.name.endsWith(suffix))!.doc.spec.template.spec.containers[0].args[0] as string;

describe.each(Object.keys(RELEASES))('lifecycle, %s', (tag) => {
  const charts = chartsFor(tag);
  const umbrella = path.join(charts, 'kubeflow');

  // What uninstall leaves is proven on the control plane (cluster-helm3/4: uninstall with and without
  // hooks, compared with the README's table); a render proves what Helm is given.
  it('in every scenario webhook configurations are release resources, never hooks; every hook is deleted by Helm after it ran, succeeded or failed; with hooks.enabled=false only the secrets Jobs remain, as release resources', async () => {
    const problems: string[] = [];
    for (const f of [undefined, ...ciFiles(umbrella)]) {
      const objs = planObjects(await helmTemplate(umbrella, { includeCrds: true, valuesFiles: f ? [f] : [] }));
      const where = f ? path.basename(f) : 'defaults';
      expect(objs.filter((o) => o.kind.endsWith('WebhookConfiguration')).length).toBeGreaterThan(5);
      for (const w of objs.filter((o) => o.kind.endsWith('WebhookConfiguration'))) if (w.annotations['helm.sh/hook']) problems.push(`${where}: ${label(w)} is a hook`);
      for (const h of objs.filter((o) => o.annotations['helm.sh/hook'])) {
        const policy = (h.annotations['helm.sh/hook-delete-policy'] ?? '').split(',');
        for (const p of ['before-hook-creation', 'hook-succeeded', 'hook-failed']) if (!policy.includes(p)) problems.push(`${where}: hook ${label(h)} lacks delete policy ${p}`);
      }
    }
    const noHooks = planObjects(await helmTemplate(umbrella, { includeCrds: true, set: ['hooks.enabled=false'] }));
    expect(noHooks.filter((o) => o.kind === 'Job' && o.labels[LIFECYCLE_LABEL] !== 'secrets').map(label)).toEqual([]);
    expect(noHooks.filter((o) => o.annotations['helm.sh/hook'] && !o.annotations['helm.sh/hook'].includes('test')).map(label)).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('a component chart installed alone: its webhook configurations are release resources, its hooks deleted after they ran', async () => {
    const problems: string[] = [];
    for (const c of chartNames(charts).filter((x) => x !== 'kubeflow')) {
      const objs = planObjects(await helmTemplate(path.join(charts, c), { includeCrds: true }));
      for (const w of objs.filter((o) => o.kind.endsWith('WebhookConfiguration'))) if (w.annotations['helm.sh/hook'] || w.annotations['argocd.argoproj.io/hook']) problems.push(`${c}: ${label(w)} is a hook`);
      for (const h of objs.filter((o) => o.annotations['helm.sh/hook'])) if (!(h.annotations['helm.sh/hook-delete-policy'] ?? '').includes('hook-succeeded')) problems.push(`${c}: hook ${label(h)} is never deleted`);
    }
    expect(problems).toEqual([]);
  });

  it('rendered for Argo CD, no object is a hook that runs on every sync; webhook configurations are ordinary resources in waves', async () => {
    for (const f of [undefined, ...ciFiles(umbrella)]) {
      const objs = planObjects(await helmTemplate(umbrella, { includeCrds: true, valuesFiles: f ? [f] : [], extraArgs: ['--api-versions', 'argoproj.io/v1alpha1'] }));
      // the secrets Jobs' RBAC runs with its Job (Sync hooks deleted once it succeeded): the rights go with the Job
      expect(
        argoEverySyncHooks(objs)
          .filter((o) => o.kind !== 'Job' && o.labels[LIFECYCLE_LABEL] !== 'secrets')
          .map(label),
      ).toEqual([]);
      for (const w of objs.filter((o) => o.kind.endsWith('WebhookConfiguration'))) {
        expect(w.annotations['argocd.argoproj.io/hook'], label(w)).toBeUndefined();
        expect(w.annotations['argocd.argoproj.io/sync-wave'], label(w)).toMatch(/^\d+$/);
      }
    }
  });

  it('least privilege: no ClusterRole or Role of ours grants patch or delete without resourceNames; hooks clean up and run read-only', async () => {
    const all = ciFiles(umbrella).find((f) => f.endsWith('all-components-values.yaml'));
    for (const f of [undefined, all]) {
      const objs = planObjects(await helmTemplate(umbrella, { includeCrds: true, valuesFiles: f ? [f] : [], set: ['tests.enabled=true'] }));
      const ours = objs.filter((o) => o.labels[LIFECYCLE_LABEL]);
      const roles = ours.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');
      expect(roles.length).toBeGreaterThan(3);
      for (const r of roles) {
        for (const rule of r.doc.rules ?? []) {
          // Kubernetes cannot authorize `create` by name (the object does not exist yet): the secrets
          // Jobs create Secrets by kind, in a Role of each namespace they write (an admission policy
          // limits them to their own names), and everything else is by name; nothing creates Namespaces
          const verbs: string[] = rule.verbs ?? [];
          const resources: string[] = rule.resources ?? [];
          const unnamed = verbs.filter((v) => v !== 'create' && !(resources.length === 1 && resources[0] === 'pods' && v === 'list'));
          if (unnamed.length) expect(rule.resourceNames?.length, `${label(r)}: ${JSON.stringify(rule)}`).toBeGreaterThan(0);
          if (verbs.includes('create')) {
            expect(r.kind, `${label(r)} creates`).toBe('Role');
            expect(resources, `${label(r)} creates`).toEqual(['secrets']);
          }
          expect(resources, label(r)).not.toContain('namespaces');
          expect(verbs, label(r)).not.toContain('*');
        }
        if (r.kind === 'ClusterRole') for (const rule of r.doc.rules ?? []) expect(rule.resources, label(r)).not.toContain('deployments');
      }
      for (const x of ours.filter((o) => o.annotations['helm.sh/hook'])) {
        const policy = x.annotations['helm.sh/hook-delete-policy'] ?? '';
        expect(policy, label(x)).toContain('hook-succeeded');
        if (!x.annotations['helm.sh/hook'].startsWith('test')) expect(policy, label(x)).toContain('hook-failed');
      }
      for (const j of ours.filter((o) => o.kind === 'Job' || o.kind === 'Pod')) {
        const spec = j.kind === 'Job' ? j.doc.spec.template.spec : j.doc.spec;
        for (const c of spec.containers) expect(c.securityContext.readOnlyRootFilesystem, label(j)).toBe(true);
      }
    }
  });

  it('the gate fails loudly on API errors, skips only what the values do not render, and sets the webhooks back to Fail', async () => {
    const objs = planObjects(await helmTemplate(umbrella, { includeCrds: true }));
    const wait = script(objs, 'gate-wait');
    const gated = objs.filter((o) => o.annotations[INSTALL_POLICY_ANNOTATION] === 'Ignore').map((o) => o.name);
    expect(gated.length).toBeGreaterThan(2);
    // everything answers: every gated webhook is patched back to Fail
    const ok = fakeKubectl(wait, 'case "$*" in *"--ignore-not-found -o name"*) echo found ;; esac');
    expect(ok.status, ok.out).toBe(0);
    for (const name of gated)
      expect(
        ok.calls.some((c) => c.startsWith('patch ') && c.includes(` ${name} `) && c.includes('"value":"Fail"')),
        name,
      ).toBe(true);
    // an API error (not NotFound) fails the job instead of skipping the wait
    const denied = fakeKubectl(wait, 'case "$*" in *"get crd"*) echo "Error from server (Forbidden)" >&2; exit 1 ;; esac');
    expect(denied.status).not.toBe(0);
    expect(denied.calls.some((c) => c.startsWith('wait '))).toBe(false);
    // a name the values do not render is skipped, naming it
    const absent = fakeKubectl(wait, 'exit 0');
    expect(absent.status).toBe(0);
    expect(absent.out).toMatch(/not rendered with these values/);
    const restart = script(objs, 'gate-sidecars');
    expect(fakeKubectl(restart, 'case "$*" in *" get deployment "*) echo "Unable to connect to the server" >&2; exit 1 ;; esac').status).not.toBe(0);
  });
});
