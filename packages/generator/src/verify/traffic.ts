import { authorize, type AuthorizationPolicy, type AuthzWorkload } from './authz.js';
import { allowedConnections, formatPorts, portsInclude, subtractPorts, type Connection, type Ports } from './netpol.js';
import { evalExpr, type Target, type TrafficModel, type TrafficPath } from './traffic-model.js';
import { actorPods, findWorkload, labelsMatch, serviceBackends, serviceByHost, standInApplies, type Doc, type DocSpec, type PodInfo, type RenderModel, type ServiceRef } from './traffic-render.js';

/**
 * The traffic check of one render: every declared path that applies is allowed by the
 * NetworkPolicies (np-guard's netpol-analyzer) and by Istio's AuthorizationPolicies (authz.ts).
 */

export interface PathCheck {
  path: string;
  from: string;
  to: string;
  ok: boolean;
  reason: string;
  /** a denial upstream has too (knownGaps): not a failure */
  gap?: string;
  /** the connection checked: analyzer ids and pod ports (empty: any) */
  src?: string;
  dst?: string;
  ports?: number[];
}

interface Hop {
  dst: PodInfo;
  /** pod ports the path uses; empty: any */
  ports: number[];
  what: string;
}

type Resolved = { hops: Hop[]; errors: string[]; egress?: string[] };

type ServicePort = NonNullable<DocSpec['ports']>[number];

function servicePorts(svc: Doc, port: string | number | undefined): ServicePort[] {
  const ports = svc.spec?.ports ?? [];
  if (port === undefined) return ports;
  return ports.filter((p) => p.name === port || p.port === Number(port));
}

/** The pod port a Service port sends to on `pod`. */
function targetPort(pod: PodInfo, sp: ServicePort): number | undefined {
  const t = sp.targetPort ?? sp.port;
  if (typeof t === 'number' || /^\d+$/.test(String(t))) return Number(t);
  return pod.ports.find((p) => p.name === t)?.containerPort;
}

function serviceHops(r: RenderModel, svc: Doc, port: string | number | undefined, what: string): Resolved {
  const sps = servicePorts(svc, port);
  if (!sps.length) return { hops: [], errors: [`${what}: Service ${svc.metadata.namespace}/${svc.metadata.name} has no port ${port}`] };
  const backends = serviceBackends(r, svc);
  if (!backends.length) return { hops: [], errors: [`${what}: Service ${svc.metadata.namespace}/${svc.metadata.name} selects no pod (${JSON.stringify(svc.spec?.selector ?? {})})`] };
  const hops = backends.map((dst) => ({ dst, what, ports: sps.map((sp) => targetPort(dst, sp)).filter((p: number | undefined): p is number => p !== undefined) }));
  return { hops, errors: [] };
}

function hostHops(r: RenderModel, host: string, port: number | undefined, ns: string | undefined, what: string): Resolved {
  const svc = serviceByHost(r, host, ns);
  if (svc) return serviceHops(r, svc, port, what);
  if (/\.svc(\.cluster\.local)?$/.test(host) || !host.includes('.')) return { hops: [], errors: [`${what}: no Service ${host}${ns && !host.includes('.') ? ` in namespace ${ns}` : ''} is rendered`] };
  return { hops: [], errors: [], egress: [host] };
}

function routeHops(r: RenderModel, gateway: string): Resolved {
  const out: Resolved = { hops: [], errors: [] };
  for (const vs of r.docs.filter((d) => d.kind === 'VirtualService')) {
    const ns = vs.metadata.namespace!;
    const bound = (vs.spec?.gateways ?? []).some((g: string) => g === gateway || (!g.includes('/') && `${ns}/${g}` === gateway));
    if (!bound) continue;
    for (const route of [...(vs.spec?.http ?? []), ...(vs.spec?.tcp ?? []), ...(vs.spec?.tls ?? [])]) {
      for (const dest of route.route ?? []) {
        const d: { host?: string; port?: { number?: number } } = dest.destination ?? {};
        const res = hostHops(r, d.host!, d.port?.number, ns, `VirtualService ${ns}/${vs.metadata.name} -> ${d.host}`);
        out.hops.push(...res.hops);
        out.errors.push(...res.errors);
      }
    }
  }
  return out;
}

function webhookHops(r: RenderModel): Resolved {
  const out: Resolved = { hops: [], errors: [] };
  const refs: Array<{ svc: ServiceRef; what: string }> = [];
  for (const d of r.docs) {
    if (d.kind === 'ValidatingWebhookConfiguration' || d.kind === 'MutatingWebhookConfiguration') {
      for (const w of d.webhooks ?? []) if (w.clientConfig?.service) refs.push({ svc: w.clientConfig.service, what: `${d.kind} ${d.metadata.name} (${w.name})` });
    }
    if (d.kind === 'CustomResourceDefinition' && d.spec?.conversion?.webhook?.clientConfig?.service) refs.push({ svc: d.spec.conversion.webhook.clientConfig.service, what: `conversion webhook of CRD ${d.metadata.name}` });
  }
  for (const { svc, what } of refs) {
    const s = r.services.find((x) => x.metadata.name === svc.name && x.metadata.namespace === svc.namespace);
    if (!s) {
      out.errors.push(`${what}: no Service ${svc.namespace}/${svc.name} is rendered`);
      continue;
    }
    const res = serviceHops(r, s, svc.port ?? 443, what);
    out.hops.push(...res.hops);
    out.errors.push(...res.errors);
  }
  return out;
}

function jwtHops(r: RenderModel): Resolved {
  const out: Resolved = { hops: [], errors: [], egress: [] };
  for (const ra of r.docs.filter((d) => d.kind === 'RequestAuthentication')) {
    for (const rule of ra.spec?.jwtRules ?? []) {
      const url = rule.jwksUri || rule.issuer;
      if (!url) continue;
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        continue;
      }
      const res = hostHops(r, u.hostname, Number(u.port || (u.protocol === 'https:' ? 443 : 80)), undefined, `RequestAuthentication ${ra.metadata.namespace}/${ra.metadata.name} issuer ${url}`);
      out.hops.push(...res.hops);
      out.errors.push(...res.errors);
      out.egress!.push(...(res.egress ?? []));
    }
  }
  return out;
}

function urlHops(r: RenderModel, src: PodInfo): Resolved {
  const out: Resolved = { hops: [], errors: [] };
  for (const m of src.args.join('\n').matchAll(/\bhttps?:\/\/([a-z0-9.-]+)(?::(\d+))?/g)) {
    const port = Number(m[2] ?? (m[0].startsWith('https') ? 443 : 80));
    const res = hostHops(r, m[1], port, src.namespace, `${src.namespace}/${src.name} calls ${m[0]}`);
    out.hops.push(...res.hops);
    out.errors.push(...res.errors);
  }
  return out;
}

/** What a target means in this render, for one source pod. */
function resolveTarget(r: RenderModel, model: TrafficModel, t: Target, src: PodInfo | undefined): Resolved {
  const ctx = { values: r.values, releaseNamespace: r.releaseNamespace };
  if ('anyOf' in t) {
    const errors: string[] = [];
    for (const x of t.anyOf) {
      const res = resolveTarget(r, model, x, src);
      if (res.hops.length || res.egress?.length) return res;
      errors.push(...res.errors);
    }
    return { hops: [], errors: errors.length ? errors : ['none of its alternatives is rendered or configured'] };
  }
  if ('actor' in t) {
    const a = model.actors[t.actor];
    const pods = actorPods(r, a);
    return pods.length ? { hops: pods.map((dst) => ({ dst, ports: a.ports ?? [], what: `actor ${a.name}` })), errors: [] } : { hops: [], errors: [`actor ${a.name} (${a.description}) is not in the render`] };
  }
  if ('service' in t) {
    const svc = serviceByHost(r, t.service);
    return svc ? serviceHops(r, svc, t.port, `Service ${t.service}`) : { hops: [], errors: [`Service ${t.service} is not rendered`] };
  }
  if ('host' in t) {
    const host = evalExpr(t.host, ctx);
    return host ? { hops: [], errors: [], egress: [String(host)] } : { hops: [], errors: [`${t.host} is empty`] };
  }
  if ('routes' in t) return routeHops(r, t.routes);
  if ('webhooks' in t) return webhookHops(r);
  if ('jwtIssuers' in t) return jwtHops(r);
  return src ? urlHops(r, src) : { hops: [], errors: [] };
}

/** The source pods of a path ([] when it does not apply to this render). */
function sources(r: RenderModel, model: TrafficModel, p: TrafficPath): { pods: PodInfo[]; external?: boolean; error?: string } {
  const f = p.from;
  if (typeof f === 'string') {
    const a = model.actors[f];
    return a.external ? { pods: [], external: true } : { pods: actorPods(r, a) };
  }
  if ('workload' in f) {
    const w = findWorkload(
      r.docs.filter((d) => !r.added.includes(d)),
      f.workload,
    );
    return { pods: w ? r.pods.filter((x) => x.namespace === w.metadata.namespace && x.name === w.metadata.name && x.kind === w.kind) : [] };
  }
  const svc = serviceByHost(r, f.serviceBackends);
  if (!svc) return { pods: [] };
  const pods = serviceBackends(r, svc);
  return pods.length ? { pods } : { pods: [], error: `its source, the pods behind Service ${svc.metadata.namespace}/${svc.metadata.name}, do not exist: it selects ${JSON.stringify(svc.spec?.selector ?? {})}` };
}

const identity = (p: PodInfo) => (p.mode === 'none' ? {} : { principal: `cluster.local/ns/${p.namespace}/sa/${p.serviceAccount}`, namespace: p.namespace });

/** The waypoint traffic from `src` to `dst` goes through (pod, Service or namespace label; ingress gateways only where the Service opts in). */
function waypointOf(r: RenderModel, dst: PodInfo, src: PodInfo | undefined): AuthzWorkload['waypoint'] {
  const nsLabels = r.namespaces.get(dst.namespace) ?? {};
  const svcs = r.services.filter((s) => s.metadata.namespace === dst.namespace && labelsMatch(s.spec?.selector, dst.labels));
  const viaSvc = svcs.find((s) => s.metadata.labels?.['istio.io/use-waypoint']);
  const name = dst.labels['istio.io/use-waypoint'] ?? viaSvc?.metadata.labels?.['istio.io/use-waypoint'] ?? nsLabels['istio.io/use-waypoint'];
  if (!name || name === 'none') return undefined;
  if (src?.mode === 'gateway' && !svcs.some((s) => s.metadata.labels?.['istio.io/ingress-use-waypoint'] === 'true')) return undefined;
  const gw = r.docs.find((d) => d.kind === 'Gateway' && d.apiVersion?.startsWith('gateway.networking.k8s.io') && d.metadata.namespace === dst.namespace && d.metadata.name === name);
  if (!gw) return undefined;
  const services = r.services.filter((s) => s.metadata.namespace === dst.namespace && labelsMatch(s.spec?.selector, dst.labels)).map((s) => s.metadata.name);
  return { namespace: dst.namespace, name, serviceAccount: name, services };
}

/** Which ports of `ports` (empty: any) the NetworkPolicies deny from `src` (undefined: outside the pod network) to `dst`. */
function npDenied(conns: Connection[], src: PodInfo | undefined, dst: PodInfo, ports: number[]): string | undefined {
  const allowed: Ports = conns.filter((c) => c.dst === dst.id && (src ? c.src === src.id : !c.src.includes('['))).flatMap((c) => (src || c.src === '0.0.0.0-255.255.255.255' ? c.ports : []));
  const missing = ports.length ? ports.filter((p) => !portsInclude(allowed, p)) : allowed.length ? [] : [0];
  if (!missing.length) return undefined;
  return `NetworkPolicy denies ${ports.length ? `port ${missing.join(',')}` : 'every port'}${allowed.length ? ` (allowed: ${formatPorts(allowed)})` : ''}`;
}

function checkHop(r: RenderModel, conns: Connection[], src: PodInfo | undefined, hop: Hop, aps: AuthorizationPolicy[]): { ok: boolean; reason: string } {
  const waypoint = hop.dst.mode === 'ambient' ? waypointOf(r, hop.dst, src) : undefined;
  const wpPod = waypoint && r.pods.find((p) => p.namespace === waypoint.namespace && p.name === `waypoint-${waypoint.name}`);
  // through a waypoint: the source reaches the waypoint's pod, which reaches the destination
  const denied = wpPod ? (npDenied(conns, src, wpPod, [15008]) ?? npDenied(conns, wpPod, hop.dst, hop.ports)) : npDenied(conns, src, hop.dst, hop.ports);
  if (denied) return { ok: false, reason: `${denied}${wpPod ? ` (through waypoint ${waypoint!.namespace}/${waypoint!.name})` : ''}` };
  if (!r.rootNamespace) return { ok: true, reason: 'allowed' };
  const dst: AuthzWorkload = { namespace: hop.dst.namespace, labels: hop.dst.labels, mode: hop.dst.mode, waypoint };
  const excluded = (hop.dst.annotations['traffic.sidecar.istio.io/excludeInboundPorts'] ?? '').split(',').map((x) => Number(x.trim()));
  for (const port of hop.ports.length ? hop.ports : [0]) {
    // the sidecar does not intercept an excluded port: no policy applies there
    if (hop.dst.mode === 'sidecar' && excluded.includes(port)) continue;
    const d = authorize(aps, r.rootNamespace, dst, src ? identity(src) : {}, port);
    if (!d.allowed) return { ok: false, reason: d.reason };
  }
  return { ok: true, reason: 'allowed' };
}

function egressAllowed(conns: Connection[], src: PodInfo | undefined): boolean {
  if (!src) return true;
  return conns.some((c) => c.src === src.id && (c.dst === 'elsewhere/bystander[Pod]' || !c.dst.includes('[')));
}

/** Checks every declared path that applies to the render. */
export function checkPaths(r: RenderModel, model: TrafficModel, conns: Connection[]): PathCheck[] {
  const aps = r.docs.filter((d) => d.kind === 'AuthorizationPolicy') as AuthorizationPolicy[];
  const out: PathCheck[] = [];
  const ctx = { values: r.values, releaseNamespace: r.releaseNamespace };
  for (const p of model.paths) {
    if (p.when && !standInApplies(p.when, ctx, r.docs)) continue;
    const s = sources(r, model, p);
    if (s.error) out.push({ path: p.name, from: String(typeof p.from === 'string' ? p.from : JSON.stringify(p.from)), to: '', ok: false, reason: s.error });
    const srcs: Array<PodInfo | undefined> = s.external ? [undefined] : s.pods;
    for (const src of srcs) {
      const from = src ? `${src.namespace}/${src.name}` : String(p.from);
      const res = resolveTarget(r, model, p.to, src);
      for (const e of res.errors) out.push({ path: p.name, from, to: '', ok: false, reason: e });
      for (const h of res.egress ?? []) out.push({ path: p.name, from, to: h, ok: egressAllowed(conns, src), reason: egressAllowed(conns, src) ? 'allowed' : 'NetworkPolicy denies egress' });
      for (const hop of res.hops) {
        const to = `${hop.dst.namespace}/${hop.dst.name}${hop.ports.length ? `:${hop.ports.join(',')}` : ''} (${hop.what})`;
        const c: PathCheck = { path: p.name, from, to, src: src?.id ?? '0.0.0.0-255.255.255.255', dst: hop.dst.id, ports: hop.ports, ...checkHop(r, conns, src, hop, aps) };
        const gap = c.ok ? undefined : p.knownGaps?.find((g) => g.to === hop.dst.name || g.to === `${hop.dst.namespace}/${hop.dst.name}`);
        out.push(gap ? { ...c, ok: true, gap: gap.to } : c);
      }
    }
  }
  return out;
}

/** Runs the NetworkPolicy analyzer on a render model (its documents and the stand-ins). */
export function connectionsOf(r: RenderModel, source: string): Promise<Connection[]> {
  return allowedConnections(
    r.docs.filter((d) => ['Namespace', 'NetworkPolicy', 'Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicaSet', 'Service'].includes(d.kind)),
    source,
  );
}

export { subtractPorts };

/** What a connection end stands for across renders: a stand-in is the workload it replaces; a bystander its namespace's. */
export function normalizer(r: RenderModel, model: TrafficModel, known: Set<string>): (id: string) => string {
  const alias = new Map<string, string>();
  const byId = new Map(r.pods.map((p) => [p.id, p]));
  for (const p of r.pods.filter((x) => x.standIn)) {
    const ref = model.actors[p.standIn!].workload;
    if (ref?.includes('/')) alias.set(p.namespace, ref.split('/')[0]);
  }
  return (id: string) => {
    const p = byId.get(id);
    if (!p) return id;
    if (p.standIn) {
      const ref = model.actors[p.standIn].workload;
      const base = ref ? [...known].find((k) => k.startsWith(`${ref.includes('/') ? ref : `${p.namespace}/${ref}`}[`)) : undefined;
      return base ?? id;
    }
    if (p.bystander) {
      const ns = alias.get(p.namespace) ?? p.namespace;
      return known.has(`${ns}/bystander[Pod]`) ? `${ns}/bystander[Pod]` : 'elsewhere/bystander[Pod]';
    }
    return id;
  };
}

/** Connections by `src|dst`, ports merged. */
export function connectionIndex(conns: Connection[], norm: (id: string) => string = (x) => x): Map<string, Ports> {
  const out = new Map<string, Ports>();
  for (const c of conns) {
    const k = `${norm(c.src)}|${norm(c.dst)}`;
    out.set(k, [...(out.get(k) ?? []), ...c.ports]);
  }
  return out;
}

/**
 * Connections a render allows that the baseline (upstream's policies: the umbrella's default and
 * all-components renders) denies, and no declared path of this render explains. Only destinations
 * the charts render count (a user's namespace is the user's); ends unknown to the baseline (new
 * workloads) are skipped.
 */
export function openings(r: RenderModel, model: TrafficModel, conns: Connection[], checks: PathCheck[], baseline: Map<string, Ports>, known: Set<string>): string[] {
  const norm = normalizer(r, model, known);
  const byId = new Map(r.pods.map((p) => [p.id, p]));
  const declared = new Map<string, Ports>();
  for (const c of checks.filter((x) => x.ok && x.src && x.dst)) {
    const k = `${c.src}|${c.dst}`;
    declared.set(k, [...(declared.get(k) ?? []), ...(c.ports?.length ? c.ports.map((p): [number, number] => [p, p]) : [[1, 65535] as [number, number]])]);
  }
  const out: string[] = [];
  for (const c of conns) {
    const dst = byId.get(c.dst);
    if (!dst || r.added.some((d) => d.metadata.namespace === dst.namespace && d.metadata.name === dst.name && d.kind === dst.kind)) continue;
    const [s, d] = [norm(c.src), norm(c.dst)];
    if (!known.has(s) || !known.has(d)) continue;
    const open = subtractPorts(subtractPorts(c.ports, baseline.get(`${s}|${d}`) ?? []), declared.get(`${c.src}|${c.dst}`) ?? []);
    if (open.length) out.push(`${c.src}${s !== c.src ? ` (as ${s})` : ''} -> ${c.dst}${d !== c.dst ? ` (as ${d})` : ''}: ${formatPorts(open)} opened (upstream's policies deny it, no declared path needs it)`);
  }
  return out;
}
