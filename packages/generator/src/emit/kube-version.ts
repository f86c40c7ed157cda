import { KfcError } from '../core/errors.js';

/**
 * A chart's `kubeVersion`, derived from what its objects need from the API
 * server: the oldest Kubernetes minor serving every built-in apiVersion/kind
 * it renders (any variant), the CRD schema features it uses, and the first
 * minor that removed an API it still uses. Kubernetes facts, not release ones:
 * a built-in group/version missing here stops the build, so the table grows
 * with upstream instead of being guessed.
 */

/** Built-in API groups ('' is the core group). Anything else is a custom resource. */
const BUILTIN_GROUPS = new Set([
  '',
  'apps',
  'batch',
  'autoscaling',
  'policy',
  'extensions',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'certificates.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'internal.apiserver.k8s.io',
  'networking.k8s.io',
  'node.k8s.io',
  'rbac.authorization.k8s.io',
  'resource.k8s.io',
  'scheduling.k8s.io',
  'storage.k8s.io',
  'storagemigration.k8s.io',
]);

/** First minor serving `group/version` (or `group/version/Kind` where kinds of one version differ) by default. */
const SINCE: Record<string, number> = {
  v1: 0,
  'apps/v1': 9,
  'batch/v1': 0,
  'batch/v1/CronJob': 21,
  'autoscaling/v1': 2,
  'autoscaling/v2': 23,
  'policy/v1': 21,
  'admissionregistration.k8s.io/v1': 16,
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy': 30,
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding': 30,
  'admissionregistration.k8s.io/v1/MutatingAdmissionPolicy': 34,
  'admissionregistration.k8s.io/v1/MutatingAdmissionPolicyBinding': 34,
  'apiextensions.k8s.io/v1': 16,
  'apiregistration.k8s.io/v1': 10,
  'certificates.k8s.io/v1': 19,
  'coordination.k8s.io/v1': 14,
  'discovery.k8s.io/v1': 21,
  'events.k8s.io/v1': 19,
  'flowcontrol.apiserver.k8s.io/v1': 29,
  'networking.k8s.io/v1': 8,
  'networking.k8s.io/v1/Ingress': 19,
  'networking.k8s.io/v1/IngressClass': 19,
  'node.k8s.io/v1': 20,
  'rbac.authorization.k8s.io/v1': 8,
  'resource.k8s.io/v1': 34,
  'scheduling.k8s.io/v1': 14,
  'storage.k8s.io/v1': 6,
  'storage.k8s.io/v1/CSIDriver': 18,
  'storage.k8s.io/v1/CSINode': 17,
  'storage.k8s.io/v1/CSIStorageCapacity': 24,
  'storage.k8s.io/v1/VolumeAttachment': 13,
  'storage.k8s.io/v1/VolumeAttributesClass': 34,
};

/** First minor that no longer serves `group/version`. */
const REMOVED: Record<string, number> = {
  'extensions/v1beta1': 22,
  'apps/v1beta1': 16,
  'apps/v1beta2': 16,
  'batch/v1beta1': 25,
  'autoscaling/v2beta1': 25,
  'autoscaling/v2beta2': 26,
  'policy/v1beta1': 25,
  'admissionregistration.k8s.io/v1beta1': 22,
  'apiextensions.k8s.io/v1beta1': 22,
  'apiregistration.k8s.io/v1beta1': 22,
  'certificates.k8s.io/v1beta1': 22,
  'coordination.k8s.io/v1beta1': 22,
  'discovery.k8s.io/v1beta1': 25,
  'events.k8s.io/v1beta1': 25,
  'flowcontrol.apiserver.k8s.io/v1beta1': 26,
  'flowcontrol.apiserver.k8s.io/v1beta2': 29,
  'flowcontrol.apiserver.k8s.io/v1beta3': 32,
  'networking.k8s.io/v1beta1': 22,
  'node.k8s.io/v1beta1': 25,
  'rbac.authorization.k8s.io/v1beta1': 22,
  'scheduling.k8s.io/v1beta1': 22,
  'storage.k8s.io/v1beta1': 27,
};

/** Schema and pod features and the first minor that enables them by default. */
const FEATURES: Array<{ what: string; since: number; test: (o: { kind: string; raw: string }) => boolean }> = [
  { what: 'CRD validation rules (x-kubernetes-validations)', since: 25, test: (o) => o.kind === 'CustomResourceDefinition' && o.raw.includes('x-kubernetes-validations:') },
  { what: 'CRD selectableFields', since: 31, test: (o) => o.kind === 'CustomResourceDefinition' && /^\s+selectableFields:/m.test(o.raw) },
];

export interface KubeRange {
  /** oldest minor that serves everything */
  min: number;
  /** first minor that does not (removed API), if any */
  below?: number;
  /** why: the apiVersion or feature that sets `min` */
  reason: string;
}

/** The range of Kubernetes minors (1.x) that serve every object; `source` names the chart in errors. */
export function kubeRange(objects: Array<{ apiVersion: string; kind: string; raw: string }>, source: string): KubeRange {
  let min = 0;
  let reason = 'core APIs only';
  let below: number | undefined;
  const raise = (v: number, why: string) => {
    if (v > min) {
      min = v;
      reason = why;
    }
  };
  for (const o of objects) {
    const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
    if (!BUILTIN_GROUPS.has(group)) continue;
    const removed = REMOVED[o.apiVersion];
    if (removed !== undefined) {
      below = Math.min(below ?? removed, removed);
      continue;
    }
    const since = SINCE[`${o.apiVersion}/${o.kind}`] ?? SINCE[o.apiVersion];
    if (since === undefined) {
      throw new KfcError(`${source}: ${o.apiVersion} ${o.kind} is a built-in API the kubeVersion table does not know`, 'add it to packages/generator/src/emit/kube-version.ts (first Kubernetes minor serving it)');
    }
    raise(since, `${o.apiVersion} ${o.kind}`);
  }
  for (const o of objects) for (const f of FEATURES) if (f.test(o)) raise(f.since, f.what);
  return { min, below, reason };
}

/**
 * The apiVersion/kind of every object a chart's own templates write (`templates/*.yaml` of `files`: feature
 * templates, the secrets Job and its admission policy), so what the generator adds counts like upstream's
 * objects. Only literal top-level `apiVersion:` / `kind:` lines count; a templated one names no built-in API.
 */
export function templateObjects(files: Record<string, string>): Array<{ apiVersion: string; kind: string; raw: string }> {
  const out: Array<{ apiVersion: string; kind: string; raw: string }> = [];
  for (const [file, text] of Object.entries(files)) {
    if (!/^templates\/.*\.ya?ml$/.test(file)) continue;
    for (const doc of text.split(/^---\s*$/m)) {
      const apiVersion = /^apiVersion: ([\w.\-/]+)\s*$/m.exec(doc)?.[1];
      const kind = /^kind: (\w+)\s*$/m.exec(doc)?.[1];
      if (apiVersion && kind) out.push({ apiVersion, kind, raw: doc });
    }
  }
  return out;
}

/** Several charts together (the umbrella): the narrowest range. */
export function combineRanges(ranges: KubeRange[]): KubeRange {
  let out: KubeRange = { min: 0, reason: 'core APIs only' };
  for (const r of ranges) {
    if (r.min > out.min) out = { ...out, min: r.min, reason: r.reason };
    if (r.below !== undefined) out.below = Math.min(out.below ?? r.below, r.below);
  }
  return out;
}

/** The Chart.yaml constraint; `-0` lets pre-release and vendor builds (v1.31.2-eks-...) match. */
export function kubeVersionConstraint(r: KubeRange): string {
  if (r.below !== undefined && r.below <= r.min) throw new KfcError(`no Kubernetes version serves both ${r.reason} (since 1.${r.min}) and an API removed in 1.${r.below}`, 'the upstream release mixes removed and new APIs; report it');
  return `>=1.${r.min}.0-0${r.below !== undefined ? ` <1.${r.below}.0-0` : ''}`;
}
