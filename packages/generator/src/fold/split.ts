import type { Aggregate } from '../discover/aggregate.js';
import { KfcError } from '../core/errors.js';
import { splitObjects, type KObject } from '../core/model.js';
import { briefKustomizeError, kustomizeBuild, type Release } from '../upstream/release.js';

/**
 * Splits the objects of an aggregate line among the components whose
 * directories it reaches, by object identity: each claimed directory is built
 * on its own (kustomize outputs are cached per directory) and an object of
 * the line belongs to the directory whose build has the same object. The
 * line's content stays the truth, so patches the aggregate makes on top stay
 * on the objects they patch.
 */

const HASHED = new Set(['ConfigMap', 'Secret']);

/**
 * An object's identities, most precise first: its key; its name without
 * kustomize's hash suffix (a patch on top changes the hash); and both without
 * the namespace (an aggregate may move its parts into another namespace).
 */
export function identities(o: Pick<KObject, 'apiVersion' | 'kind' | 'namespace' | 'name' | 'key'>): string[] {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  const bare = HASHED.has(o.kind) ? o.name.replace(/-[a-z0-9]{10}$/, '') : o.name;
  const ns = o.namespace ?? '';
  return [o.key, `${group}/${o.kind}/${ns}/${bare}`, `${group}/${o.kind}/*/${o.name}`, `${group}/${o.kind}/*/${bare}`];
}

export interface Split {
  /** part directory -> its objects, in the line's order */
  byPart: Map<string, KObject[]>;
  /** objects no part (or more than one) produces */
  rest: KObject[];
}

/** Assigns each object to the one part whose own build has it, at the most precise identity that decides. */
export function splitByParts(objs: KObject[], parts: Array<{ path: string; objects: KObject[] }>): Split {
  const index = [0, 1, 2, 3].map(() => new Map<string, Set<string>>());
  for (const p of parts) {
    for (const o of p.objects) {
      identities(o).forEach((id, tier) => {
        const owners = index[tier].get(id) ?? new Set<string>();
        owners.add(p.path);
        index[tier].set(id, owners);
      });
    }
  }
  const byPart = new Map<string, KObject[]>(parts.map((p) => [p.path, []]));
  const rest: KObject[] = [];
  for (const o of objs) {
    const ids = identities(o);
    const tier = ids.findIndex((id, t) => index[t].has(id));
    const owners = tier < 0 ? undefined : index[tier].get(ids[tier])!;
    if (owners?.size === 1) byPart.get([...owners][0])!.push(o);
    else rest.push(o);
  }
  return { byPart, rest };
}

const solos = new Map<string, Promise<KObject[]>>();

/** One directory built on its own (memoized per release tree; kustomize outputs are cached on disk too). */
export function soloObjects(release: Release, dir: string): Promise<KObject[]> {
  const key = `${release.dir}\0${release.fingerprint}\0${dir}`;
  let p = solos.get(key);
  if (!p) {
    p = kustomizeBuild(release, { resources: [dir], components: [] }).then((t) => splitObjects(t, `kustomize build ${dir}`));
    solos.set(key, p);
  }
  return p;
}

/** The objects of an aggregate's line split among its parts; the rest keyed by the line's own path. */
export async function splitAggregate(release: Release, agg: Aggregate, objs: KObject[]): Promise<Map<string, KObject[]>> {
  const parts = await Promise.all(
    agg.parts.map(async (p) => {
      try {
        return { path: p.path, objects: await soloObjects(release, p.path) };
      } catch (e) {
        throw new KfcError(
          `${agg.entry.path} (example line ${agg.entry.line}) builds on ${p.path} (${p.config.file}), which does not build on its own, so its objects cannot be told apart: ${briefKustomizeError((e as Error).message)}`,
          "fix the release tree, or narrow the component file's paths so that it claims a directory that builds",
        );
      }
    }),
  );
  const { byPart, rest } = splitByParts(objs, parts);
  return new Map([...byPart, [agg.entry.path, rest]]);
}
