import YAML from 'yaml';
import type { PlanObject } from './sequence.js';

/**
 * Fields that controllers in the cluster change after Argo CD applied the
 * rendered object, and the Argo CD `ignoreDifferences` that keep the
 * Application in sync (with `RespectIgnoreDifferences=true`, so a sync does
 * not write them back). This module is the single source of truth: the rules
 * find the fields in a render, the entries are derived from what they find,
 * docs/argocd.md carries the list for the default values, and the examples
 * under examples/argocd/ use it.
 */
export interface MutatedField {
  group: string;
  kind: string;
  namespace?: string;
  name: string;
  /** JSON pointer of the field in the object */
  pointer: string;
  /** who changes it */
  why: string;
}

export interface IgnoreDifference {
  group: string;
  kind: string;
  name?: string;
  namespace?: string;
  jsonPointers?: string[];
  jqPathExpressions?: string[];
}

const groupOf = (o: PlanObject) => (o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '');
const WEBHOOK_KINDS = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

/** One webhook of a (Validating|Mutating)WebhookConfiguration: the fields read here. */
interface Webhook {
  name?: string;
  clientConfig?: { service?: { namespace?: string; name?: string }; caBundle?: string };
  rules?: unknown[];
  failurePolicy?: string;
}

/** The rules: every field of the render a controller is known to change after apply. */
export function mutatedFields(objs: PlanObject[]): MutatedField[] {
  const out: MutatedField[] = [];
  const add = (o: PlanObject, pointer: string, why: string) => out.push({ group: groupOf(o), kind: o.kind, ...(o.namespace ? { namespace: o.namespace } : {}), name: o.name, pointer, why });
  // the service behind Istio's sidecar injector (istiod) also owns its validating webhook's failurePolicy
  const injectorServices = new Set(
    objs
      .filter((o) => o.kind === 'MutatingWebhookConfiguration')
      .flatMap((o) => (o.doc?.webhooks ?? []).filter((w: Webhook) => String(w.name).includes('sidecar-injector')).map((w: Webhook) => `${w.clientConfig?.service?.namespace}/${w.clientConfig?.service?.name}`)),
  );
  for (const o of objs) {
    const d = o.doc ?? {};
    if (WEBHOOK_KINDS.includes(o.kind)) {
      (d.webhooks ?? []).forEach((w: Webhook | undefined, i: number) => {
        // a webhook needs the CA of its server: cert-manager's cainjector or the server itself writes it
        if (w?.clientConfig?.service && !w.clientConfig.caBundle)
          add(o, `/webhooks/${i}/clientConfig/caBundle`, o.annotations['cert-manager.io/inject-ca-from'] ? 'cert-manager cainjector injects the CA' : 'the webhook server injects its CA');
        // Knative's webhooks register their rules themselves
        if (!w?.rules) add(o, `/webhooks/${i}/rules`, 'the webhook server registers its rules');
        const svc = `${w?.clientConfig?.service?.namespace}/${w?.clientConfig?.service?.name}`;
        if (o.kind === 'ValidatingWebhookConfiguration' && w?.failurePolicy === 'Ignore' && injectorServices.has(svc)) add(o, `/webhooks/${i}/failurePolicy`, 'istiod switches its validation to Fail once it serves');
      });
    }
    if (o.kind === 'ClusterRole' && d.aggregationRule) add(o, '/rules', 'the aggregation controller fills the rules from the selected ClusterRoles');
    if (o.kind === 'CustomResourceDefinition' && (d.spec?.conversion?.strategy === 'Webhook' || o.annotations['cert-manager.io/inject-ca-from']))
      add(o, '/spec/conversion/webhook/clientConfig/caBundle', 'the CA of the conversion webhook is injected');
    if (o.kind === 'APIService' && d.spec?.service && !d.spec.caBundle) add(o, '/spec/caBundle', 'the CA of the aggregated API server is injected');
    // certificates and keys that controllers generate into Secrets upstream ships empty
    if (o.kind === 'Secret' && !d.data && !d.stringData) add(o, '/data', 'a controller writes the generated certificate or key');
  }
  // replicas owned by a HorizontalPodAutoscaler
  for (const h of objs.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
    const ref = h.doc?.spec?.scaleTargetRef;
    const target = objs.find((o) => o.kind === ref?.kind && o.name === ref?.name && o.namespace === h.namespace);
    if (target && target.doc?.spec?.replicas !== undefined) add(target, '/spec/replicas', `HorizontalPodAutoscaler ${h.name} scales it`);
  }
  return out;
}

/** A JSON pointer with its array indices generalized, as an Argo CD jq path expression. */
export function jqPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? '[]?' : `.${p}`))
    .join('');
}

/**
 * The ignoreDifferences entries for a render: CA bundles kind-wide (any
 * webhook's or conversion's CA is injected), every other field name-scoped.
 */
export function ignoreDifferences(objs: PlanObject[]): IgnoreDifference[] {
  const entries = new Map<string, IgnoreDifference>();
  for (const f of mutatedFields(objs)) {
    const caBundle = f.pointer.endsWith('/caBundle');
    const id = caBundle ? `${f.group}/${f.kind}` : `${f.group}/${f.kind}/${f.namespace ?? ''}/${f.name}`;
    const e = entries.get(id) ?? { group: f.group, kind: f.kind, ...(caBundle ? {} : { name: f.name, ...(f.namespace ? { namespace: f.namespace } : {}) }) };
    const list = /\/\d+\//.test(f.pointer) ? (e.jqPathExpressions ??= []) : (e.jsonPointers ??= []);
    const expr = list === e.jqPathExpressions ? jqPath(f.pointer) : f.pointer;
    if (!list.includes(expr)) list.push(expr);
    entries.set(id, e);
  }
  return [...entries.values()].sort((a, b) => `${a.group}/${a.kind}/${a.name ?? ''}`.localeCompare(`${b.group}/${b.kind}/${b.name ?? ''}`));
}

/** Whether an entry keeps Argo CD from seeing a change of `f`. */
export function covers(e: IgnoreDifference, f: MutatedField): boolean {
  if (e.group !== f.group || e.kind !== f.kind) return false;
  if (e.name !== undefined && e.name !== f.name) return false;
  if (e.namespace !== undefined && e.namespace !== f.namespace) return false;
  return (e.jsonPointers ?? []).some((p) => f.pointer === p || f.pointer.startsWith(`${p}/`)) || (e.jqPathExpressions ?? []).includes(jqPath(f.pointer));
}

/** The Application fragment: sync option and ignoreDifferences, as YAML. */
export function argoSyncFragment(objs: PlanObject[]): string {
  return YAML.stringify({ syncPolicy: { syncOptions: ['RespectIgnoreDifferences=true'] }, ignoreDifferences: ignoreDifferences(objs) }, { lineWidth: 0 });
}
