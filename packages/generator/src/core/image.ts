/** Container image references, split so that joining the parts gives the same string back. */
export interface ImageValue {
  registry: string;
  repository: string;
  tag: string;
  digest: string;
}

/** Splits `registry/repository:tag@digest` so that joining the parts gives the same string back. */
export function parseImage(ref: string): ImageValue {
  let rest = ref;
  let digest = '';
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let registry = '';
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  let tag = '';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { registry, repository: rest, tag, digest };
}

export function formatImage(i: ImageValue): string {
  return `${i.registry ? `${i.registry}/` : ''}${i.repository}${i.tag ? `:${i.tag}` : ''}${i.digest ? `@${i.digest}` : ''}`;
}
