import type { KObject } from '../core/model.js';
import type { JsonSchema } from '../core/schema.js';
import type { ComponentPlan, Toggle } from '../discover/plan.js';
import type { Release } from '../upstream/release.js';
import type { TemplateDoc } from './template-doc.js';

/**
 * The in-memory chart that every stage after fold hands on: templatize builds
 * it, features change it under values, order places its objects, and only
 * emit turns it into files.
 */

/** One upstream content of an object, parsed, with the template actions bound into it. */
export interface Content {
  obj: KObject;
  /** the parsed object; fields bound to values hold TemplateDoc tokens */
  doc: any;
  t: TemplateDoc;
}

/** One `if` branch of an object's template: rendered when `cond` holds (`true`: always). */
export interface Branch {
  cond: string;
  /** null: the object is absent in this branch */
  content: Content | null;
  /** left out inside the umbrella, where another chart owns the object */
  outsideUmbrellaOnly?: boolean;
}

export interface ModelObject {
  key: string;
  /** any content, for identity (kind, name, namespace) */
  sample: KObject;
  /** template (or crds/) file name without extension */
  file: string;
  /** a CRD identical in every configuration: shipped verbatim in crds/ */
  crd?: boolean;
  /** one content rendered always, or branches */
  branches: Branch[];
  /** template conditions that must all hold for the object to render (features that drop it) */
  when: string[];
  /** metadata annotations the order stage places on it (CRDs: added to the raw text) */
  annotations: Record<string, string>;
}

export interface CiFile {
  /** `ci/NN-<slug>-values.yaml` */
  file: string;
  values: Record<string, unknown>;
  comment: string;
  /** a feature scenario: not an upstream configuration, checked by its expectations instead of parity */
  feature?: { name: string; expect: unknown; umbrella?: Record<string, unknown> };
}

/** How the secrets Job fills one key of a Secret it creates (features/secrets.ts). */
export type KeyRule = { random: number } | { value: string } | { copy: string } | { bcrypt: string };

/** A Secret a chart needs but never ships: its hook Job creates it when missing (features/secrets.ts). */
export interface GeneratedSecret {
  namespace: string;
  name: string;
  /** template condition under which the Secret is needed */
  when: string;
  keys: Record<string, KeyRule>;
  /** which feature asks for it */
  feature: string;
  /** one Secret per item of this list (a template expression); namespace, name and keys are templates on the item */
  forEach?: string;
  /** the Secret's type (default Opaque), e.g. kubernetes.io/dockerconfigjson */
  type?: string;
  /** with forEach: the template (on the item) of each Secret it copies from, `namespace/name`, which the Job may read */
  reads?: string;
  /** `Kind/namespace/name`: the Secrets' namespaces are created in the wave after this object's (the Job runs after them) */
  after?: string;
}

export interface ChartModel {
  name: string;
  plan: ComponentPlan;
  release: Release;
  version: string;
  /** variant names, default first (empty: no variants) */
  variants: string[];
  toggles: Toggle[];
  objects: ModelObject[];
  /** default values, in values.yaml order */
  values: Record<string, unknown>;
  /** the values schema's top-level properties */
  properties: Record<string, JsonSchema>;
  ciFiles: CiFile[];
  /** further files relative to the chart (templates/_helpers.tpl, feature templates, NOTES.txt) */
  files: Record<string, string>;
  /** README sections after the generated ones (features document themselves here) */
  readmeSections: string[];
  /** values paths tests and docs point at for each feature, by feature name */
  features: Array<{ name: string; description: string; values: string; when?: string }>;
  /** Secrets the chart's hook Job creates when missing (features/secrets.ts) */
  generated: GeneratedSecret[];
}

/** Adds `ci/NN-<slug>-values.yaml` to a chart model, numbered in order. */
export function addCiFile(m: Pick<ChartModel, 'ciFiles'>, slug: string, values: Record<string, unknown>, comment: string): CiFile {
  const f: CiFile = { file: `ci/${String(m.ciFiles.length + 1).padStart(2, '0')}-${slug}-values.yaml`, values, comment };
  m.ciFiles.push(f);
  return f;
}

/** Every content of a chart model (each once). */
export function contents(m: Pick<ChartModel, 'objects'>): Content[] {
  const out = new Set<Content>();
  for (const o of m.objects) for (const b of o.branches) if (b.content) out.add(b.content);
  return [...out];
}
