import { serviceBackends, serviceByHost, type Doc, type RenderModel } from './traffic-render.js';

/**
 * References that must resolve in a render: every VirtualService, DestinationRule and HTTPRoute
 * host names a rendered Service (or a ServiceEntry host), every VirtualService gateway a rendered
 * Gateway, every Service with a selector selects a pod (rendered or stood in), and every in-cluster
 * address written in a rendered string (`svc.ns.svc.cluster.local`, `svc.ns:port`) names a
 * rendered Service. Namespaces where stand-ins run (the user's pods) hold the user's Services.
 */
export function unresolvedReferences(r: RenderModel, model: { externalServices: Array<{ host: string }> }): string[] {
  // where the values say a user's pods run (bring-your-own Istio, your Gateway) is the user's namespace
  const external = [...new Set(r.pods.filter((p) => p.standIn && !r.docs.some((d) => d.kind === 'Namespace' && d.metadata.name === p.namespace && !r.added.includes(d))).map((p) => p.namespace))];
  const out: string[] = [];
  const entries = new Set(r.docs.filter((d) => d.kind === 'ServiceEntry').flatMap((d) => d.spec?.hosts ?? []));
  const rendered = (d: Doc) => !r.added.includes(d);
  const resolves = (host: string, ns: string) => entries.has(host) || host.includes('*') || !!serviceByHost(r, host, ns) || external.some((x) => host.split('.')[1] === x);
  for (const d of r.docs.filter(rendered)) {
    const at = `${d.kind} ${d.metadata.namespace}/${d.metadata.name}`;
    const ns = d.metadata.namespace!;
    if (d.kind === 'VirtualService') {
      for (const g of d.spec?.gateways ?? []) {
        if (g === 'mesh') continue;
        const [gns, gname] = g.includes('/') ? g.split('/') : [ns, g];
        const found = r.docs.some((x) => x.kind === 'Gateway' && x.metadata.namespace === gns && x.metadata.name === gname);
        if (!found && !external.includes(gns)) out.push(`${at}: gateway ${g} is not rendered (in namespace ${gns})`);
      }
      for (const route of [...(d.spec?.http ?? []), ...(d.spec?.tcp ?? []), ...(d.spec?.tls ?? [])])
        for (const dest of route.route ?? []) if (dest.destination?.host && !resolves(dest.destination.host, ns)) out.push(`${at}: route to ${dest.destination.host}, which no rendered Service is`);
    }
    if (d.kind === 'DestinationRule' && d.spec?.host && !resolves(d.spec.host, ns)) out.push(`${at}: host ${d.spec.host} is no rendered Service`);
    if (d.kind === 'HTTPRoute') {
      for (const rule of d.spec?.rules ?? [])
        for (const b of rule.backendRefs ?? [])
          if ((b.kind ?? 'Service') === 'Service' && !serviceByHost(r, `${b.name}.${b.namespace ?? ns}`) && !external.includes(b.namespace ?? ns)) out.push(`${at}: backend ${b.namespace ?? ns}/${b.name} is no rendered Service`);
    }
    if (d.kind === 'Service' && d.spec?.selector && Object.keys(d.spec.selector).length && !serviceBackends(r, d).length) out.push(`${at}: selects no pod (${JSON.stringify(d.spec.selector)})`);
  }
  out.push(
    ...addressesInStrings(
      r,
      model.externalServices.map((e) => e.host),
      external,
    ),
  );
  return [...new Set(out)];
}

function* strings(v: unknown): Generator<string> {
  if (typeof v === 'string') yield v;
  else if (Array.isArray(v)) for (const x of v) yield* strings(x);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) yield* strings(x);
}

/** In-cluster addresses in the strings of rendered objects (env values, ConfigMap data, args) naming no rendered Service. */
function addressesInStrings(r: RenderModel, allowed: string[], external: string[]): string[] {
  const namespaces = new Set([...r.namespaces.keys()].filter((n) => n !== 'elsewhere'));
  // an address the values name is the user's
  const fromValues = [...strings(r.values)].join('\n');
  const out: string[] = [];
  for (const d of r.docs.filter((x) => !r.added.includes(x) && x.kind !== 'CustomResourceDefinition')) {
    for (const text of strings(d)) {
      // comments in embedded files are not addresses
      const s = text
        .split('\n')
        .filter((l) => !/^\s*#/.test(l))
        .join('\n');
      for (const m of s.matchAll(/(?<![\w.-])([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.svc(\.cluster\.local)?)?(?=[:/"'\s]|$)/g)) {
        const [host, name, , ns, , svc] = m;
        // `name.ns` without `.svc` counts only with a namespace the render has and a port or path after it
        if (!svc && (!namespaces.has(ns) || !/^[:/]/.test(s.slice((m.index ?? 0) + host.length)))) continue;
        if (external.includes(ns) || (!namespaces.has(ns) && !svc) || allowed.includes(`${name}.${ns}`) || fromValues.includes(`${name}.${ns}`)) continue;
        if (!r.services.some((x) => x.metadata.name === name && x.metadata.namespace === ns)) out.push(`${d.kind} ${d.metadata.namespace ?? ''}/${d.metadata.name}: names ${host}, which no rendered Service is`);
      }
    }
  }
  return out;
}
