/** An object key (`apiVersion/kind/namespace/name`) split into its parts. */
export function keyParts(key: string): { group: string; kind: string; namespace: string; name: string } {
  const p = key.split('/');
  const [group, kind, namespace, name] = p.length === 5 ? [p[0], p[2], p[3], p[4]] : ['', p[1], p[2], p[3]];
  return { group, kind, namespace, name };
}

/** The kubectl command that removes an object Helm left behind (kept on purpose, dropped by an upgrade). */
export function removeCommand(key: string): string {
  const { group, kind, namespace, name } = keyParts(key);
  return `kubectl delete ${kind.toLowerCase()}${group ? `.${group}` : ''} ${name}${namespace ? ` -n ${namespace}` : ''}`;
}
