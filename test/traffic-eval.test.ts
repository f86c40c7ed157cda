import { describe, expect, it } from 'vitest';
import { hasGo } from '../packages/generator/src/core/go-tools.js';
import { authorize, istioMatch, type AuthzWorkload } from '../packages/generator/src/verify/authz.js';
import { allowedConnections, parsePorts, subtractPorts } from '../packages/generator/src/verify/netpol.js';

/** Hand-made cases for the evaluators the traffic test relies on (each asserts an allow and a deny). */

const ap = (ns: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { namespace: ns, name }, spec });
const GW = 'cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account';
const sidecar: AuthzWorkload = { namespace: 'kubeflow', labels: { app: 'web' }, mode: 'sidecar' };
const denyAll = ap('istio-system', 'global-deny-all', {});

describe('Istio AuthorizationPolicy semantics', () => {
  it('matches principals like Istio: exact, *, prefix*, *suffix', () => {
    expect(istioMatch('*', 'a')).toBe(true);
    expect(istioMatch('cluster.local/ns/x/*', 'cluster.local/ns/x/sa/y')).toBe(true);
    expect(istioMatch('*/sa/y', 'cluster.local/ns/x/sa/y')).toBe(true);
    expect(istioMatch('a', 'b')).toBe(false);
    expect(istioMatch('*', undefined)).toBe(false);
  });

  it('no policy allows; an empty root policy (global-deny-all) denies every workload of the mesh; outside the mesh nothing applies', () => {
    expect(authorize([], 'istio-system', sidecar, {}, 80).allowed).toBe(true);
    expect(authorize([denyAll], 'istio-system', sidecar, { principal: GW }, 80).allowed).toBe(false);
    expect(authorize([denyAll], 'istio-system', { ...sidecar, mode: 'none' }, {}, 80).allowed).toBe(true);
    // a policy in another (non-root) namespace does not apply
    expect(authorize([ap('other', 'deny', {})], 'istio-system', sidecar, {}, 80).allowed).toBe(true);
  });

  it('ALLOW by principal: the ingress gateway passes, another identity and a plaintext source do not; selectors scope it', () => {
    const allowGw = ap('kubeflow', 'web', { selector: { matchLabels: { app: 'web' } }, rules: [{ from: [{ source: { principals: [GW] } }] }] });
    expect(authorize([denyAll, allowGw], 'istio-system', sidecar, { principal: GW }, 80).allowed).toBe(true);
    expect(authorize([denyAll, allowGw], 'istio-system', sidecar, { principal: 'cluster.local/ns/mesh/sa/gw' }, 80).allowed).toBe(false);
    expect(authorize([denyAll, allowGw], 'istio-system', sidecar, {}, 80).allowed).toBe(false);
    expect(authorize([denyAll, allowGw], 'istio-system', { ...sidecar, labels: { app: 'db' } }, { principal: GW }, 80).allowed).toBe(false);
  });

  it('ports, namespaces and DENY rules; request attributes may match at a sidecar', () => {
    const byPort = ap('kubeflow', 'p', { rules: [{ to: [{ operation: { ports: ['9443'] } }] }] });
    expect(authorize([byPort], 'istio-system', sidecar, {}, 9443).allowed).toBe(true);
    expect(authorize([byPort], 'istio-system', sidecar, {}, 80).allowed).toBe(false);
    const byNs = ap('kubeflow', 'n', { rules: [{ from: [{ source: { namespaces: ['team-a'] } }] }] });
    expect(authorize([byNs], 'istio-system', sidecar, { principal: 'cluster.local/ns/team-a/sa/x', namespace: 'team-a' }, 80).allowed).toBe(true);
    expect(authorize([byNs], 'istio-system', sidecar, { principal: 'cluster.local/ns/team-b/sa/x', namespace: 'team-b' }, 80).allowed).toBe(false);
    const deny = ap('kubeflow', 'd', { action: 'DENY', rules: [{ from: [{ source: { notNamespaces: ['kubeflow'] } }] }] });
    expect(authorize([deny], 'istio-system', sidecar, { principal: 'cluster.local/ns/x/sa/y', namespace: 'x' }, 80).allowed).toBe(false);
    // a DENY on a path leaves other paths open; an ALLOW on a header may match some request
    const denyPath = ap('kubeflow', 'dp', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin'] } }] }] });
    expect(authorize([denyPath], 'istio-system', sidecar, {}, 80).allowed).toBe(true);
    const header = ap('kubeflow', 'h', { rules: [{ when: [{ key: 'request.headers[kubeflow-userid]', notValues: ['*'] }] }] });
    expect(authorize([denyAll, header], 'istio-system', sidecar, { principal: 'cluster.local/ns/team-a/sa/x' }, 80).allowed).toBe(true);
  });

  it('ztunnel (ambient) cannot evaluate request attributes: an L7-only ALLOW denies, a waypoint it is attached to allows', () => {
    const ambient: AuthzWorkload = { ...sidecar, mode: 'ambient' };
    const header = ap('kubeflow', 'web', { selector: { matchLabels: { app: 'web' } }, rules: [{ when: [{ key: 'request.headers[kubeflow-userid]', notValues: ['*'] }] }] });
    const src = { principal: 'cluster.local/ns/team-a/sa/x', namespace: 'team-a' };
    const d = authorize([denyAll, header], 'istio-system', ambient, src, 80);
    expect(d.allowed).toBe(false);
    expect(d.reason).toMatch(/waypoint is needed/);
    // the same policy targeting the Service behind a waypoint, and ztunnel admitting the waypoint
    const atWaypoint = ap('kubeflow', 'web', { targetRefs: [{ kind: 'Service', group: '', name: 'web' }], rules: [{ when: [{ key: 'request.headers[kubeflow-userid]', notValues: ['*'] }] }] });
    const fromWaypoint = ap('kubeflow', 'web-from-waypoint', { selector: { matchLabels: { app: 'web' } }, rules: [{ from: [{ source: { principals: ['cluster.local/ns/kubeflow/sa/waypoint'] } }] }] });
    const withWp: AuthzWorkload = { ...ambient, waypoint: { namespace: 'kubeflow', name: 'waypoint', serviceAccount: 'waypoint', services: ['web'] } };
    expect(authorize([denyAll, atWaypoint, fromWaypoint], 'istio-system', withWp, src, 80).allowed).toBe(true);
    // without the ztunnel policy the waypoint's own identity is denied
    expect(authorize([denyAll, atWaypoint], 'istio-system', withWp, src, 80).allowed).toBe(false);
  });
});

describe('port sets', () => {
  it("parses the analyzer's connection text and subtracts ranges", () => {
    expect(parsePorts('All Connections')).toEqual([[1, 65535]]);
    expect(parsePorts('TCP 80,8000-8080;UDP 53')).toEqual([
      [80, 80],
      [8000, 8080],
    ]);
    expect(subtractPorts([[1, 100]], [[10, 20]])).toEqual([
      [1, 9],
      [21, 100],
    ]);
    expect(subtractPorts([[80, 80]], [[1, 65535]])).toEqual([]);
  });
});

const pod = (ns: string, name: string, labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name, labels }, spec: { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 8080 }] }] } });
const namespace = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } });

describe.skipIf(!hasGo() && process.env.CI !== 'true')(`NetworkPolicy semantics by netpol-analyzer${hasGo() ? '' : ' (skipped: no Go to build it)'}`, () => {
  it('a namespace isolated to itself admits its own pods and, with a second policy, one pod of another namespace on one port', async () => {
    const docs = [
      namespace('a'),
      namespace('b'),
      pod('a', 'server', { app: 'server' }),
      pod('a', 'peer', {}),
      pod('b', 'gw', { gw: 'yes' }),
      pod('b', 'other', {}),
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'a', name: 'same-ns' }, spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] } },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { namespace: 'a', name: 'gw' },
        spec: {
          podSelector: { matchLabels: { app: 'server' } },
          policyTypes: ['Ingress'],
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'b' } }, podSelector: { matchLabels: { gw: 'yes' } } }], ports: [{ port: 8080, protocol: 'TCP' }] }],
        },
      },
    ];
    const conns = await allowedConnections(docs, 'hand-made');
    const to = (src: string, dst: string) => conns.find((c) => c.src === src && c.dst === dst)?.ports ?? [];
    expect(to('a/peer[Pod]', 'a/server[Pod]')).toEqual([[1, 65535]]);
    expect(to('b/gw[Pod]', 'a/server[Pod]')).toEqual([[8080, 8080]]);
    expect(to('b/other[Pod]', 'a/server[Pod]')).toEqual([]);
    expect(to('b/gw[Pod]', 'a/peer[Pod]')).toEqual([]);
    // namespace b has no policy: everything reaches it
    expect(to('a/server[Pod]', 'b/other[Pod]')).toEqual([[1, 65535]]);
  });
});
