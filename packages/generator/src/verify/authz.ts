/**
 * Istio AuthorizationPolicy semantics for one connection: which policies apply to the destination
 * workload (root namespace or its own, by selector), and whether a request from the source on
 * that port can pass CUSTOM/DENY/ALLOW. Request-level (L7) attributes (paths, methods, headers,
 * JWT principals) are chosen by the client, so a rule depending on them may match; ztunnel (ambient
 * without a waypoint) cannot see them: its ALLOW rules with L7 attributes match nothing and its
 * DENY rules ignore them (istio.io, "Use Layer 4 security policy").
 */

/** How a pod takes part in the mesh: its own Envoy (sidecar, gateway), ztunnel (ambient), or not at all. */
export type MeshMode = 'sidecar' | 'gateway' | 'ambient' | 'none';

export interface AuthzWorkload {
  namespace: string;
  labels: Record<string, string>;
  mode: MeshMode;
  /** ambient: the waypoint its traffic goes through (policies targeting it apply there, with L7) */
  waypoint?: { namespace: string; name: string; serviceAccount: string; services: string[] };
}

export interface AuthzSource {
  /** `cluster.local/ns/<ns>/sa/<sa>`: only when the source is in the mesh (mTLS) */
  principal?: string;
  namespace?: string;
}

export interface AuthzDecision {
  allowed: boolean;
  /** the policy that decided, and why */
  reason: string;
}

type Match = 'yes' | 'no' | 'l7';

/** An AuthorizationPolicy as parsed from YAML: the fields the evaluation reads. */
export interface AuthorizationPolicy {
  metadata?: { namespace?: string; name?: string };
  spec?: {
    action?: string;
    rules?: AuthzRule[];
    selector?: { matchLabels?: Record<string, string> };
    targetRef?: PolicyTargetRef;
    targetRefs?: PolicyTargetRef[];
  };
}

interface PolicyTargetRef {
  kind?: string;
  name: string;
}

export interface AuthzRule {
  from?: Array<{ source?: RuleSource }>;
  to?: Array<{ operation?: RuleOperation }>;
  when?: RuleCondition[];
}

interface RuleSource {
  principals?: string[];
  notPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  remoteIpBlocks?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
}

interface RuleOperation {
  ports?: Array<string | number>;
  notPorts?: Array<string | number>;
  hosts?: string[];
  notHosts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

interface RuleCondition {
  key?: string;
  values?: string[];
  notValues?: string[];
}

/** Istio's string match: exact, `*`, `prefix*`, `*suffix`. */
export function istioMatch(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  return pattern === value;
}

const any = (list: string[] | undefined, v: string | undefined) => (list ?? []).some((p) => istioMatch(p, v));

function both(a: Match, b: Match): Match {
  if (a === 'no' || b === 'no') return 'no';
  return a === 'l7' || b === 'l7' ? 'l7' : 'yes';
}

function sourceMatch(s: RuleSource, src: AuthzSource): Match {
  let m: Match = 'yes';
  if (s.principals && !any(s.principals, src.principal)) m = 'no';
  if (s.notPrincipals && any(s.notPrincipals, src.principal)) m = 'no';
  if (s.namespaces && !any(s.namespaces, src.namespace)) m = 'no';
  if (s.notNamespaces && any(s.notNamespaces, src.namespace)) m = 'no';
  // the source address is not modelled: an ipBlocks condition does not match
  if (s.ipBlocks || s.remoteIpBlocks) m = 'no';
  if (s.requestPrincipals || s.notRequestPrincipals) m = both(m, 'l7');
  return m;
}

function operationMatch(o: RuleOperation, port: number): Match {
  let m: Match = 'yes';
  if (o.ports && !o.ports.map(String).includes(String(port))) m = 'no';
  if (o.notPorts && o.notPorts.map(String).includes(String(port))) m = 'no';
  if ((['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'] as const).some((k) => o[k])) m = both(m, 'l7');
  return m;
}

function conditionMatch(c: RuleCondition, src: AuthzSource, port: number): Match {
  const test = (v: string | undefined): Match => {
    if (c.values && !any(c.values, v)) return 'no';
    if (c.notValues && any(c.notValues, v)) return 'no';
    return 'yes';
  };
  switch (c.key) {
    case 'source.principal':
      return test(src.principal);
    case 'source.namespace':
      return test(src.namespace);
    case 'destination.port':
      return test(String(port));
    case 'source.ip':
    case 'remote.ip':
      return 'no';
    default:
      return 'l7';
  }
}

/** Whether a rule matches the connection: yes, no, or depending on the request (l7). */
export function ruleMatch(rule: AuthzRule | undefined, src: AuthzSource, port: number): Match {
  let m: Match = 'yes';
  if (rule?.from?.length) m = both(m, rule.from.map((f) => sourceMatch(f.source ?? {}, src)).reduce(either, 'no' as Match));
  if (rule?.to?.length) m = both(m, rule.to.map((t) => operationMatch(t.operation ?? {}, port)).reduce(either, 'no' as Match));
  for (const c of rule?.when ?? []) m = both(m, conditionMatch(c, src, port));
  return m;
}

function either(a: Match, b: Match): Match {
  if (a === 'yes' || b === 'yes') return 'yes';
  return a === 'l7' || b === 'l7' ? 'l7' : 'no';
}

function selects(policy: AuthorizationPolicy, w: AuthzWorkload, root: string): boolean {
  const ns = policy.metadata?.namespace;
  if (ns !== root && ns !== w.namespace) return false;
  const spec = policy.spec ?? {};
  if (spec.targetRef || spec.targetRefs) return false;
  const labels = spec.selector?.matchLabels;
  return !labels || Object.entries(labels).every(([k, v]) => w.labels[k] === v);
}

/** Policies attached to a waypoint (targetRefs naming it, or a Service behind it). */
function atWaypoint(policy: AuthorizationPolicy, w: AuthzWorkload): boolean {
  const wp = w.waypoint;
  if (!wp || policy.metadata?.namespace !== wp.namespace) return false;
  const refs = [...(policy.spec?.targetRefs ?? []), ...(policy.spec?.targetRef ? [policy.spec.targetRef] : [])];
  return refs.some((r) => (r.kind === 'Gateway' && r.name === wp.name) || (r.kind === 'Service' && wp.services.includes(r.name)));
}

/** Decides CUSTOM/DENY/ALLOW over the given policies; `l4` is ztunnel's view (no request attributes). */
function decide(policies: AuthorizationPolicy[], src: AuthzSource, port: number, l4: boolean, where: string): AuthzDecision {
  const name = (p: AuthorizationPolicy) => `AuthorizationPolicy ${p.metadata?.namespace}/${p.metadata?.name}${where}`;
  for (const p of policies.filter((x) => x.spec?.action === 'DENY')) {
    for (const r of p.spec?.rules ?? []) {
      const m = ruleMatch(r, src, port);
      if (m === 'yes' || (l4 && m === 'l7')) return { allowed: false, reason: `denied by ${name(p)}` };
    }
  }
  const allow = policies.filter((x) => (x.spec?.action ?? 'ALLOW') === 'ALLOW');
  if (!allow.length) return { allowed: true, reason: 'no ALLOW policy applies' };
  for (const p of allow) {
    for (const r of p.spec?.rules ?? []) {
      const m = ruleMatch(r, src, port);
      if (m === 'yes' || (!l4 && m === 'l7')) return { allowed: true, reason: `allowed by ${name(p)}` };
    }
  }
  const l7 = l4 && allow.some((p) => (p.spec?.rules ?? []).some((r) => ruleMatch(r, src, port) === 'l7'));
  return {
    allowed: false,
    reason: `no rule of ${allow.map(name).join(', ')} allows ${src.principal ?? 'a source without mesh identity'}${l7 ? ' (only rules on request attributes would, which ztunnel cannot evaluate: a waypoint is needed)' : ''}`,
  };
}

/**
 * Whether Istio lets `src` reach `dst` on `port`. `policies` are every AuthorizationPolicy of the
 * render; `root` is the mesh's root namespace (istiod's).
 */
export function authorize(policies: AuthorizationPolicy[], root: string, dst: AuthzWorkload, src: AuthzSource, port: number): AuthzDecision {
  if (dst.mode === 'none') return { allowed: true, reason: 'not in the mesh' };
  if (dst.mode !== 'ambient')
    return decide(
      policies.filter((p) => selects(p, dst, root)),
      src,
      port,
      false,
      '',
    );
  if (dst.waypoint) {
    const wp = decide(
      policies.filter((p) => atWaypoint(p, dst)),
      src,
      port,
      false,
      ' (at the waypoint)',
    );
    if (!wp.allowed) return wp;
    // ztunnel then sees the waypoint as the source
    const via: AuthzSource = { principal: `cluster.local/ns/${dst.waypoint.namespace}/sa/${dst.waypoint.serviceAccount}`, namespace: dst.waypoint.namespace };
    return decide(
      policies.filter((p) => selects(p, dst, root)),
      via,
      port,
      true,
      ' (at ztunnel, from the waypoint)',
    );
  }
  return decide(
    policies.filter((p) => selects(p, dst, root)),
    src,
    port,
    true,
    ' (at ztunnel)',
  );
}
