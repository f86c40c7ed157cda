import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { helmRun } from '../packages/generator/src/core/helm.js';
import { splitObjects } from '../packages/generator/src/core/model.js';
import { findHelm } from '../packages/generator/src/core/toolchain.js';
import { pool } from '../packages/generator/src/core/util.js';
import { chartNames, readYaml } from './helpers.js';
import { describeCluster } from './cluster.js';
import { crdCatalogue, kube, serverDryRun } from './kube.js';
import { chartsFor, PINNED } from './releases.js';
import { render } from './renders.js';

/**
 * Bad values a new user writes, each rejected with its values path named (by the
 * schema, or by the chart's `fail` at render), on helm 4 and helm 3; and valid edge
 * cases that must render. Cases come from a table applied to the charts' own keys.
 */
const dir = chartsFor(PINNED);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'kfc-bad-values-'));
const UMBRELLA = 'kubeflow';

interface Workload {
  chart: string;
  workload: string;
  container: string;
  /** a selector label of the workload (podLabels may not change it) */
  selector?: [string, string];
}

/** Every chart's workloads with a container, from values.yaml and the rendered selector. */
function workloads(): Workload[] {
  const out: Workload[] = [];
  for (const chart of chartNames(dir).filter((c) => c !== UMBRELLA)) {
    const values = readYaml(path.join(dir, chart, 'values.yaml'));
    for (const [k, v] of Object.entries<any>(values)) {
      if (!v?.containers) continue;
      out.push({ chart, workload: k, container: Object.keys(v.containers)[0] });
    }
  }
  return out;
}

interface Case {
  chart: string;
  what: string;
  values: unknown;
  /** the values path the message must name */
  path: string;
}

type Maker = (w: Workload) => { values: unknown; path: string } | undefined;

const container = (w: Workload, v: unknown) => ({ [w.workload]: { containers: { [w.container]: v } } });
const cpath = (w: Workload, rest: string) => `${w.workload}.containers.${w.container}.${rest}`;

/** What goes wrong, applied to several charts' workloads each. */
const WORKLOAD_CASES: Record<string, Maker> = {
  'cpu limit "2 cores"': (w) => ({ values: container(w, { resources: { limits: { cpu: '2 cores' } } }), path: cpath(w, 'resources.limits.cpu') }),
  'memory request "-1Gi"': (w) => ({ values: container(w, { resources: { requests: { memory: '-1Gi' } } }), path: cpath(w, 'resources.requests.memory') }),
  'quantity "abc"': (w) => ({ values: container(w, { resources: { requests: { cpu: 'abc' } } }), path: cpath(w, 'resources.requests.cpu') }),
  'negative number quantity': (w) => ({ values: container(w, { resources: { limits: { memory: -5 } } }), path: cpath(w, 'resources.limits.memory') }),
  'resource name with a space': (w) => ({ values: container(w, { resources: { limits: { 'nvidia gpu': 1 } } }), path: cpath(w, 'resources.limits') }),
  'cpu request above limit': (w) => ({ values: container(w, { resources: { requests: { cpu: '2' }, limits: { cpu: '1500m' } } }), path: cpath(w, 'resources.requests.cpu') }),
  'memory request above limit in other units': (w) => ({ values: container(w, { resources: { requests: { memory: '2Gi' }, limits: { memory: '1025Mi' } } }), path: cpath(w, 'resources.requests.memory') }),
  'digest not sha256 + 64 hex': (w) => ({ values: container(w, { image: { digest: 'sha256:abc123' } }), path: cpath(w, 'image.digest') }),
  'digest with another algorithm': (w) => ({ values: container(w, { image: { digest: `md5:${'a'.repeat(64)}` } }), path: cpath(w, 'image.digest') }),
  'registry with https://': (w) => ({ values: container(w, { image: { registry: 'https://ghcr.io' } }), path: cpath(w, 'image.registry') }),
  'registry with a path': (w) => ({ values: container(w, { image: { registry: 'ghcr.io/kubeflow' } }), path: cpath(w, 'image.registry') }),
  'tag with a space': (w) => ({ values: container(w, { image: { tag: 'v1 beta' } }), path: cpath(w, 'image.tag') }),
  'repository in upper case': (w) => ({ values: container(w, { image: { repository: 'Kubeflow/App' } }), path: cpath(w, 'image.repository') }),
  'image: null': (w) => ({ values: container(w, { image: null }), path: cpath(w, 'image') }),
  'image.tag: null': (w) => ({ values: container(w, { image: { tag: null } }), path: cpath(w, 'image.tag') }),
  'workload: null': (w) => ({ values: { [w.workload]: null }, path: w.workload }),
  'invalid label key': (w) => ({ values: { [w.workload]: { podLabels: { 'team name': 'a' } } }, path: `${w.workload}.podLabels` }),
  'invalid label value': (w) => ({ values: { [w.workload]: { podLabels: { team: 'a b' } } }, path: `${w.workload}.podLabels.team` }),
  'podLabels changing a selector label': (w) => (w.selector ? { values: { [w.workload]: { podLabels: { [w.selector[0]]: `${w.selector[1]}-x` } } }, path: `${w.workload}.podLabels` } : undefined),
  'invalid annotation key': (w) => ({ values: { [w.workload]: { podAnnotations: { '/leading-slash': 'x' } } }, path: `${w.workload}.podAnnotations` }),
  'priorityClassName not a DNS name': (w) => ({ values: { [w.workload]: { priorityClassName: 'High_Priority' } }, path: `${w.workload}.priorityClassName` }),
  'unknown field in a toleration': (w) => ({ values: { [w.workload]: { tolerations: [{ key: 'gpu', effekt: 'NoSchedule' }] } }, path: `${w.workload}.tolerations.0` }),
  'toleration seconds as a string': (w) => ({ values: { [w.workload]: { tolerations: [{ key: 'gpu', operator: 'Exists', tolerationSeconds: '10' }] } }, path: `${w.workload}.tolerations.0.tolerationSeconds` }),
  'unknown field in affinity': (w) => ({ values: { [w.workload]: { affinity: { nodeAffinity: { required: {} } } } }, path: `${w.workload}.affinity.nodeAffinity` }),
  'affinity term without topologyKey': (w) => ({
    values: { [w.workload]: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: {} }] } } } },
    path: `${w.workload}.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution.0`,
  }),
  'nodeSelector value with a space': (w) => ({ values: { [w.workload]: { nodeSelector: { pool: 'gpu nodes' } } }, path: `${w.workload}.nodeSelector.pool` }),
};

/** Cases on a chart's global values (component charts and the umbrella alike). */
const GLOBAL_CASES: Record<string, { values: unknown; path: string }> = {
  'typo under global': { values: { global: { imageRegistery: 'mirror.example.com' } }, path: 'global' },
  'global.imageRegistry with https://': { values: { global: { imageRegistry: 'https://mirror.example.com' } }, path: 'global.imageRegistry' },
  'pull secret name not a DNS name': { values: { global: { imagePullSecrets: [{ name: 'Reg_Cred' }] } }, path: 'global.imagePullSecrets.0.name' },
  'global: null': { values: { global: null }, path: 'global' },
};

/** Cases only the umbrella has. */
const UMBRELLA_CASES: Record<string, { values: unknown; path: string }> = {
  'a whole component: null': { values: { katib: null }, path: 'katib' },
  'hooks.image: null': { values: { hooks: { image: null } }, path: 'hooks.image' },
  'hooks.image.digest invalid': { values: { hooks: { image: { digest: 'sha256:xyz' } } }, path: 'hooks.image.digest' },
  'hooks request above limit': { values: { hooks: { resources: { requests: { memory: '512Mi' }, limits: { memory: '256Mi' } } } }, path: 'hooks.resources.requests.memory' },
  'typo in hooks': { values: { hooks: { timeout: 60 } }, path: 'hooks' },
  'component value through the umbrella': { values: { katib: { katibController: { containers: { katibController: { image: { tag: 'v 1' } } } } } }, path: 'katib.katibController.containers.katibController.image.tag' },
  'request above limit through the umbrella': {
    values: { katib: { katibController: { containers: { katibController: { resources: { requests: { cpu: 3 }, limits: { cpu: 2 } } } } } } },
    path: 'katib.katibController.containers.katibController.resources.requests.cpu',
  },
  'selector label through the umbrella': { values: { centraldashboard: { centraldashboard: { podLabels: { app: 'other' } } } }, path: 'centraldashboard.centraldashboard.podLabels' },
};

/**
 * Feature values a platform engineer gets wrong (issue 15): formats Kubernetes/S3/OIDC require, uniqueness,
 * values that would be ignored in the combination given, literal credentials. On the component chart and, for
 * a few, through the umbrella (where the path starts with the component's key).
 */
const ok = { host: 'db.example.com', existingSecret: 'db' };
const route = { enabled: true, parentRefs: [{ name: 'gw', namespace: 'default' }] };
const issuer = (x: Record<string, unknown>) => ({ extraJwtIssuers: [{ issuer: 'https://token.example.com', ...x }] });
const oidc = (x: Record<string, unknown>) => ({ oidc: { issuerUrl: 'https://login.example.com', existingSecret: 'oidc', ...x } });
const s3 = (x: Record<string, unknown>) => ({ objectStore: { external: true, host: 's3.example.com', existingSecret: 's3', ...x } });
const profile = (x: Record<string, unknown>) => ({ profiles: [{ name: 'team-a', owner: 'alice@example.com', ...x }] });
const connector = (config: Record<string, unknown>, x: Record<string, unknown> = {}) => ({ staticUser: { enabled: false }, connectors: [{ type: 'oidc', id: 'corp', name: 'Corp', config, ...x }] });
export const FEATURE_CASES: Array<{ chart: string; what: string; values: unknown; path: string }> = [
  // Secret keys, Secret names, hosts, ports, database names
  { chart: 'katib', what: 'passwordKey with a space', values: { externalDatabase: { enabled: true, ...ok, passwordKey: 'db password' } }, path: 'externalDatabase.passwordKey' },
  { chart: 'katib', what: 'existingSecret in upper case', values: { externalDatabase: { enabled: true, host: 'db', existingSecret: 'DB_Secret' } }, path: 'externalDatabase.existingSecret' },
  { chart: 'katib', what: 'database host with a scheme', values: { externalDatabase: { enabled: true, ...ok, host: 'mysql://db' } }, path: 'externalDatabase.host' },
  { chart: 'katib', what: 'database host with a port', values: { externalDatabase: { enabled: true, ...ok, host: 'db:3306' } }, path: 'externalDatabase.host' },
  { chart: 'katib', what: 'database port 0', values: { externalDatabase: { enabled: true, ...ok, port: 0 } }, path: 'externalDatabase.port' },
  { chart: 'katib', what: 'database port above 65535', values: { externalDatabase: { enabled: true, ...ok, port: 70000 } }, path: 'externalDatabase.port' },
  { chart: 'katib', what: 'database user with @', values: { externalDatabase: { enabled: true, ...ok, user: 'kfp@host' } }, path: 'externalDatabase.user' },
  { chart: 'katib', what: 'database name with a space', values: { externalDatabase: { enabled: true, ...ok, database: 'katib db' } }, path: 'externalDatabase.database' },
  { chart: 'katib', what: 'externalDatabase.host without enabled', values: { externalDatabase: { host: 'db.example.com' } }, path: 'externalDatabase.host' },
  { chart: 'pipelines', what: 'external database without existingSecret', values: { externalDatabase: { enabled: true, host: 'db' } }, path: 'externalDatabase.existingSecret' },
  { chart: 'pipelines', what: 'database names with a slash', values: { externalDatabase: { enabled: true, ...ok, databases: { pipelines: 'a/b' } } }, path: 'externalDatabase.databases.pipelines' },
  { chart: 'pipelines', what: 'externalDatabase.user without enabled', values: { externalDatabase: { user: 'kfp' } }, path: 'externalDatabase.user' },
  { chart: 'model-registry', what: 'externalDatabase with the postgres variant', values: { variant: 'postgres', externalDatabase: { enabled: true, ...ok } }, path: 'externalDatabase.enabled' },
  { chart: 'model-registry', what: 'externalDatabase.port without enabled', values: { externalDatabase: { port: 3307 } }, path: 'externalDatabase.port' },
  // S3
  { chart: 'pipelines', what: 'bucket with ..', values: s3({ bucket: 'team..kfp' }), path: 'objectStore.bucket' },
  { chart: 'pipelines', what: 'bucket in upper case', values: s3({ bucket: 'Team-KFP' }), path: 'objectStore.bucket' },
  { chart: 'pipelines', what: 'bucket as an IP address', values: s3({ bucket: '192.168.5.4' }), path: 'objectStore.bucket' },
  { chart: 'pipelines', what: 'bucket of two characters', values: s3({ bucket: 'ab' }), path: 'objectStore.bucket' },
  { chart: 'pipelines', what: 'bucket with .-', values: s3({ bucket: 'team.-kfp' }), path: 'objectStore.bucket' },
  { chart: 'pipelines', what: 'bucket ending in -s3alias', values: s3({ bucket: 'team-s3alias' }), path: 'objectStore.bucket' },
  { chart: 'pipelines', what: 'S3 host with https://', values: s3({ host: 'https://s3.example.com' }), path: 'objectStore.host' },
  { chart: 'pipelines', what: 'S3 accessKeyKey with a slash', values: s3({ accessKeyKey: 'aws/key' }), path: 'objectStore.accessKeyKey' },
  { chart: 'pipelines', what: 'S3 region with a space', values: s3({ region: 'eu west' }), path: 'objectStore.region' },
  { chart: 'pipelines', what: 'objectStore.bucket without external', values: { objectStore: { bucket: 'team-kfp' } }, path: 'objectStore.bucket' },
  // OIDC
  { chart: 'oauth2-proxy', what: 'issuerUrl over http', values: oidc({ issuerUrl: 'http://login.example.com' }), path: 'oidc.issuerUrl' },
  { chart: 'oauth2-proxy', what: 'issuerUrl with a space', values: oidc({ issuerUrl: 'https://login.example.com/realms/my realm' }), path: 'oidc.issuerUrl' },
  { chart: 'oauth2-proxy', what: 'issuerUrl with a query', values: oidc({ issuerUrl: 'https://login.example.com/?realm=x' }), path: 'oidc.issuerUrl' },
  { chart: 'oauth2-proxy', what: 'issuerUrl without a host', values: oidc({ issuerUrl: 'https://' }), path: 'oidc.issuerUrl' },
  { chart: 'oauth2-proxy', what: 'clientSecretKey with a space', values: oidc({ clientSecretKey: 'client secret' }), path: 'oidc.clientSecretKey' },
  { chart: 'oauth2-proxy', what: 'clientId with a space', values: oidc({ clientId: 'my client' }), path: 'oidc.clientId' },
  { chart: 'oauth2-proxy', what: 'scope with a newline', values: oidc({ scope: 'openid\nemail' }), path: 'oidc.scope' },
  { chart: 'oauth2-proxy', what: 'oidc.existingSecret without issuerUrl', values: { oidc: { existingSecret: 'oidc' } }, path: 'oidc.existingSecret' },
  { chart: 'istio', what: 'extra issuer over http', values: issuer({ issuer: 'http://token.example.com' }), path: 'extraJwtIssuers.0.issuer' },
  { chart: 'istio', what: 'extra issuer twice', values: { extraJwtIssuers: [{ issuer: 'https://a.example.com' }, { issuer: 'https://a.example.com' }] }, path: 'extraJwtIssuers.1.issuer' },
  { chart: 'istio', what: 'jwksUri with a space', values: issuer({ jwksUri: 'https://a.example.com/my keys' }), path: 'extraJwtIssuers.0.jwksUri' },
  { chart: 'istio', what: 'empty audience', values: issuer({ audiences: [''] }), path: 'extraJwtIssuers.0.audiences.0' },
  { chart: 'istio', what: 'emailClaim with a space', values: issuer({ emailClaim: 'e mail' }), path: 'extraJwtIssuers.0.emailClaim' },
  // Dex
  { chart: 'dex', what: 'literal clientSecret', values: connector({ issuer: 'https://login.example.com', clientID: '$ID', clientSecret: 'hunter2' }), path: 'connectors.0.config.clientSecret' },
  { chart: 'dex', what: 'literal LDAP bindPW', values: connector({ host: 'ldap:636', bindPW: 'hunter2' }, { type: 'ldap' }), path: 'connectors.0.config.bindPW' },
  { chart: 'dex', what: 'literal secret in a nested config', values: connector({ oauth: { clientSecret: 'x' } }), path: 'connectors.0.config.oauth.clientSecret' },
  {
    chart: 'dex',
    what: 'two connectors with one id',
    values: {
      staticUser: { enabled: false },
      connectors: [
        { type: 'github', id: 'gh', name: 'A' },
        { type: 'github', id: 'gh', name: 'B' },
      ],
    },
    path: 'connectors.1.id',
  },
  { chart: 'dex', what: 'connector id with a space', values: connector({}, { id: 'my idp' }), path: 'connectors.0.id' },
  { chart: 'dex', what: 'unknown connector field', values: connector({}, { secret: 'x' }), path: 'connectors.0' },
  { chart: 'dex', what: 'connectors with devMode', values: { global: { devMode: true }, connectors: [{ type: 'github', id: 'gh', name: 'GitHub' }] }, path: 'connectors' },
  { chart: 'dex', what: 'static user email without @', values: { staticUser: { email: 'admin' } }, path: 'staticUser.email' },
  { chart: 'dex', what: 'staticUser.email with the static user off', values: { staticUser: { enabled: false, email: 'admin@example.com' } }, path: 'staticUser.email' },
  { chart: 'dex', what: 'extraEnv name with a space', values: { extraEnv: [{ name: 'MY VAR', value: 'x' }] }, path: 'extraEnv.0.name' },
  { chart: 'dex', what: 'extraEnvFrom Secret name in upper case', values: { extraEnvFrom: [{ secretRef: { name: 'Dex_Secret' } }] }, path: 'extraEnvFrom.0.secretRef.name' },
  // Profiles
  { chart: 'user-namespace', what: 'profile named kubeflow', values: profile({ name: 'kubeflow' }), path: 'profiles.0.name' },
  { chart: 'user-namespace', what: 'profile named istio-system', values: profile({ name: 'istio-system' }), path: 'profiles.0.name' },
  { chart: 'user-namespace', what: 'profile named auth', values: profile({ name: 'auth' }), path: 'profiles.0.name' },
  { chart: 'user-namespace', what: 'profile named kube-system', values: profile({ name: 'kube-system' }), path: 'profiles.0.name' },
  { chart: 'user-namespace', what: 'profile named kube-anything', values: profile({ name: 'kube-team' }), path: 'profiles.0.name' },
  { chart: 'user-namespace', what: 'profile named like the release namespace', values: profile({ name: 'default' }), path: 'profiles.0.name' },
  {
    chart: 'user-namespace',
    what: 'two profiles with one name',
    values: {
      profiles: [
        { name: 'team-a', owner: 'a@example.com' },
        { name: 'team-a', owner: 'b@example.com' },
      ],
    },
    path: 'profiles.1.name',
  },
  { chart: 'user-namespace', what: 'a contributor twice', values: profile({ contributors: [{ name: 'bob@example.com' }, { name: 'bob@example.com', role: 'view' }] }), path: 'profiles.0.contributors.1.name' },
  { chart: 'user-namespace', what: 'profile name of 64 characters', values: profile({ name: 'a'.repeat(64) }), path: 'profiles.0.name' },
  { chart: 'user-namespace', what: 'quota "8 cores"', values: profile({ resourceQuota: { 'requests.cpu': '8 cores' } }), path: 'profiles.0.resourceQuota.requests.cpu' },
  { chart: 'user-namespace', what: 'negative quota', values: profile({ resourceQuota: { 'requests.memory': -1 } }), path: 'profiles.0.resourceQuota.requests.memory' },
  { chart: 'user-namespace', what: 'quota resource with a space', values: profile({ resourceQuota: { 'requests cpu': '1' } }), path: 'profiles.0.resourceQuota' },
  { chart: 'user-namespace', what: 'profile label value with a space', values: profile({ labels: { team: 'team a' } }), path: 'profiles.0.labels.team' },
  { chart: 'user-namespace', what: 'profile label value of 64 characters', values: profile({ labels: { team: 'a'.repeat(64) } }), path: 'profiles.0.labels.team' },
  { chart: 'user-namespace', what: 'profile label taking the mesh label', values: profile({ labels: { 'istio-injection': 'disabled' } }), path: 'profiles.0.labels' },
  { chart: 'user-namespace', what: 'owner with a space', values: profile({ owner: 'alice smith' }), path: 'profiles.0.owner' },
  { chart: 'user-namespace', what: 'unknown contributor role', values: profile({ contributors: [{ name: 'bob@example.com', role: 'admin' }] }), path: 'profiles.0.contributors.0.role' },
  // global: issuers, your own Istio, nulls that would change nothing
  { chart: 'katib', what: 'issuerRef without a name', values: { global: { certManager: { issuerRef: { kind: 'ClusterIssuer' } } } }, path: 'global.certManager.issuerRef.name' },
  { chart: 'katib', what: 'issuerRef name in upper case', values: { global: { certManager: { issuerRef: { name: 'Corp_CA' } } } }, path: 'global.certManager.issuerRef.name' },
  { chart: 'centraldashboard', what: 'global.istio.namespace without external', values: { global: { istio: { namespace: 'mesh' } } }, path: 'global.istio.namespace' },
  { chart: 'centraldashboard', what: 'ingress gateway selector without external', values: { global: { istio: { ingressGateway: { selector: { app: 'gw' } } } } }, path: 'global.istio.ingressGateway' },
  { chart: 'centraldashboard', what: 'istio namespace of 64 characters', values: { global: { istio: { external: true, namespace: 'a'.repeat(64), ingressGateway: { selector: { app: 'gw' } } } } }, path: 'global.istio.namespace' },
  { chart: 'centraldashboard', what: 'gateway selector value with a space', values: { global: { istio: { external: true, ingressGateway: { selector: { app: 'my gw' } } } } }, path: 'global.istio.ingressGateway.selector.app' },
  // extraObjects
  { chart: 'katib', what: 'extraObjects string that is not a manifest', values: { extraObjects: ['just some text'] }, path: 'extraObjects.0' },
  { chart: 'katib', what: 'extraObjects string with invalid YAML', values: { extraObjects: ['apiVersion: v1\nkind: [ConfigMap'] }, path: 'extraObjects.0' },
  { chart: 'katib', what: 'extraObjects string without a name', values: { extraObjects: ['apiVersion: v1\nkind: ConfigMap\nmetadata: {}'] }, path: 'extraObjects.0' },
  { chart: 'katib', what: 'extraObjects map without metadata.name', values: { extraObjects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'x' } }] }, path: 'extraObjects.0' },
];

/** Umbrella-only rules: Gateway API, disabled components, hooks, values passing through to a component. */
export const UMBRELLA_FEATURE_CASES: Array<{ what: string; values: unknown; path: string }> = [
  { what: 'httpRoute certificate without hostnames', values: { httpRoute: { ...route, tls: { certificate: true, issuerRef: { name: 'le' } } } }, path: 'httpRoute.hostnames' },
  { what: 'httpRoute certificate without an issuer', values: { httpRoute: { ...route, hostnames: ['kf.example.com'], tls: { certificate: true } } }, path: 'httpRoute.tls.issuerRef.name' },
  { what: 'httpRoute hostname with a scheme', values: { httpRoute: { ...route, hostnames: ['https://kf.example.com'] } }, path: 'httpRoute.hostnames.0' },
  { what: 'httpRoute hostname twice', values: { httpRoute: { ...route, hostnames: ['kf.example.com', 'kf.example.com'] } }, path: 'httpRoute.hostnames' },
  { what: 'httpRoute parentRef port 0', values: { httpRoute: { enabled: true, parentRefs: [{ name: 'gw', port: 0 }] } }, path: 'httpRoute.parentRefs.0.port' },
  { what: 'httpRoute parentRef namespace in upper case', values: { httpRoute: { enabled: true, parentRefs: [{ name: 'gw', namespace: 'Default' }] } }, path: 'httpRoute.parentRefs.0.namespace' },
  { what: 'httpRoute.hostnames without enabled', values: { httpRoute: { hostnames: ['kf.example.com'] } }, path: 'httpRoute.hostnames' },
  { what: 'httpRoute.tls.secretName without certificate', values: { httpRoute: { ...route, tls: { secretName: 'my-tls' } } }, path: 'httpRoute.tls.secretName' },
  { what: 'httpRoute annotation key with a space', values: { httpRoute: { ...route, annotations: { 'my note': 'x' } } }, path: 'httpRoute.annotations' },
  { what: 'values of a disabled component', values: { katib: { enabled: false, katibController: { replicas: 2 } } }, path: 'katib.katibController' },
  { what: 'istio.extraJwtIssuers with your own Istio', values: { istio: { enabled: false, extraJwtIssuers: [{ issuer: 'https://token.example.com' }] } }, path: 'istio.extraJwtIssuers' },
  { what: 'hooks.timeoutSeconds with hooks off', values: { hooks: { enabled: false, timeoutSeconds: 60 } }, path: 'hooks.timeoutSeconds' },
  { what: 'hooks.timeoutSeconds beyond int32', values: { hooks: { timeoutSeconds: 3000000000 } }, path: 'hooks.timeoutSeconds' },
  { what: 'a profile named knative-serving through the umbrella', values: { 'user-namespace': profile({ name: 'knative-serving' }) }, path: 'user-namespace.profiles.0.name' },
  { what: 'a bad bucket through the umbrella', values: { pipelines: s3({ bucket: 'team..kfp' }) }, path: 'pipelines.objectStore.bucket' },
  { what: 'postgres with an external database through the umbrella', values: { 'model-registry': { enabled: true, variant: 'postgres', externalDatabase: { enabled: true, ...ok } } }, path: 'model-registry.externalDatabase.enabled' },
  { what: 'a literal connector secret through the umbrella', values: { dex: connector({ clientSecret: 'hunter2' }) }, path: 'dex.connectors.0.config.clientSecret' },
  { what: 'extraObjects string that is not a manifest', values: { extraObjects: ['{{ .Release.Name }}'] }, path: 'extraObjects.0' },
];

/** Limits of Kubernetes' types and the keys the charts rely on, applied to workloads of several charts. */
const LIMIT_CASES: Record<string, Maker> = {
  'replicas beyond int32': (w) => ({ values: { [w.workload]: { replicas: 2147483648 } }, path: `${w.workload}.replicas` }),
  'pod label sidecar.istio.io/inject': (w) => ({ values: { [w.workload]: { podLabels: { 'sidecar.istio.io/inject': 'false' } } }, path: `${w.workload}.podLabels` }),
  'pod annotation istio.io/dataplane-mode': (w) => ({ values: { [w.workload]: { podAnnotations: { 'istio.io/dataplane-mode': 'none' } } }, path: `${w.workload}.podAnnotations` }),
  'pod annotation checksum/config': (w) => ({ values: { [w.workload]: { podAnnotations: { 'checksum/config': 'abc' } } }, path: `${w.workload}.podAnnotations` }),
  'a 300 KiB pod annotation': (w) => ({ values: { [w.workload]: { podAnnotations: { 'example.com/blob': 'x'.repeat(300 * 1024) } } }, path: `${w.workload}.podAnnotations` }),
  'label key prefix of 254 characters': (w) => ({ values: { [w.workload]: { podLabels: { [`${'a'.repeat(254)}/x`]: 'y' } } }, path: `${w.workload}.podLabels` }),
};

/** The selector labels of each workload, from the chart's rendered defaults. */
async function withSelectors(ws: Workload[]): Promise<Workload[]> {
  const byChart = new Map<string, Map<string, Record<string, string>>>();
  for (const chart of new Set(ws.map((w) => w.chart))) {
    const m = new Map<string, Record<string, string>>();
    for (const o of (await render(chart)).objects) {
      const d = YAML.parse(o.raw);
      if (d?.spec?.template || d?.spec?.jobTemplate) m.set(o.name, d.spec.selector?.matchLabels ?? {});
    }
    byChart.set(chart, m);
  }
  const camel = (s: string) => s.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  // workloads the default values render (a variant-only workload's values do nothing by default)
  const rendered = (w: Workload) => [...(byChart.get(w.chart) ?? new Map()).keys()].some((name) => camel(name) === w.workload);
  return ws.filter(rendered).map((w) => {
    const entry = [...(byChart.get(w.chart) ?? new Map()).entries()].find(([name]) => camel(name) === w.workload);
    const first = entry && Object.entries(entry[1])[0];
    return first ? { ...w, selector: [first[0], String(first[1])] as [string, string] } : w;
  });
}

function cases(ws: Workload[]): Case[] {
  const out: Case[] = [];
  const kinds = Object.entries({ ...WORKLOAD_CASES, ...LIMIT_CASES });
  // each kind of mistake on 3 workloads of different charts, rotating through the charts
  kinds.forEach(([what, make], i) => {
    let taken = 0;
    for (let j = 0; j < ws.length && taken < 3; j++) {
      const w = ws[(i * 5 + j * 7) % ws.length];
      const c = make(w);
      if (!c || out.some((x) => x.chart === w.chart && x.what === what)) continue;
      out.push({ chart: w.chart, what, ...c });
      taken++;
    }
  });
  const charts = [...new Set(ws.map((w) => w.chart))];
  Object.entries(GLOBAL_CASES).forEach(([what, c], i) => {
    for (const chart of [charts[i % charts.length], charts[(i + 11) % charts.length], UMBRELLA]) out.push({ chart, what, ...c });
  });
  for (const [what, c] of Object.entries(UMBRELLA_CASES)) out.push({ chart: UMBRELLA, what, ...c });
  out.push(...FEATURE_CASES, ...UMBRELLA_FEATURE_CASES.map((c) => ({ chart: UMBRELLA, ...c })));
  return out;
}

/** Whether helm's message names `p`: helm 4 prints /a/b/c, helm 3 a.b.c; a missing key is named after its parent. */
export function namesPath(message: string, p: string): boolean {
  const msg = message.replace(/\//g, '.').replace(/['"]/g, '');
  // an umbrella's subchart errors come under the subchart's name: "katib:\n- at .katibController..."
  const [first, ...rest] = p.split('.');
  if (rest.length && new RegExp(`^${first}:$`, 'm').test(msg) && namesPath(message, rest.join('.'))) return true;
  const segs = p.split('.');
  const parent = segs.slice(0, -1).join('.');
  const leaf = segs[segs.length - 1];
  return msg.includes(p) || ((parent === '' || msg.includes(parent)) && new RegExp(`\\b${leaf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(msg));
}

describe(`bad values are rejected naming the values path (${PINNED})`, async () => {
  const all = cases(await withSelectors(workloads()));

  it('the table covers each kind of mistake on three charts (workload and global cases) and on the umbrella', () => {
    console.log(`bad-values cases: ${all.length} on ${new Set(all.map((c) => c.chart)).size} charts`);
    expect(all.length).toBeGreaterThanOrEqual(80);
    expect(all.some((c) => c.chart === UMBRELLA)).toBe(true);
    expect(new Set(all.map((c) => c.chart)).size).toBeGreaterThan(10);
    for (const what of [...Object.keys(WORKLOAD_CASES), ...Object.keys(LIMIT_CASES), ...Object.keys(GLOBAL_CASES), ...Object.keys(UMBRELLA_CASES)])
      expect(
        all.some((c) => c.what === what),
        what,
      ).toBe(true);
    // issue 15: at least 60 cases on feature values besides the workload table
    expect(FEATURE_CASES.length + UMBRELLA_FEATURE_CASES.length + Object.keys(LIMIT_CASES).length).toBeGreaterThanOrEqual(60);
  });

  it.each([4, 3] as const)('on helm %i every case fails and names its path', async (major) => {
    const helm = await findHelm(major);
    expect(all.length).toBeGreaterThan(0);
    const problems = (
      await pool(all, 4, async (c, i) => {
        const file = path.join(tmp, `bad-${major}-${i}.yaml`);
        writeFileSync(file, YAML.stringify(c.values));
        const res = await helmRun(['template', 'x', path.join(dir, c.chart), '-f', file], helm);
        if (res.exitCode === 0) return `${c.chart}: ${c.what} was accepted`;
        if (!namesPath(res.stderr, c.path)) return `${c.chart}: ${c.what}: the message does not name ${c.path}:\n${res.stderr}`;
        return undefined;
      })
    ).filter(Boolean);
    expect(problems).toEqual([]);
  });
});

/** A render of an accepted case: its documents (parsed with unique keys) and its text. */
interface Rendered {
  docs: any[];
  text: string;
}

const find = (r: Rendered, kind: string, name: string) => {
  const d = r.docs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!d) throw new Error(`no ${kind} ${name} in the render`);
  return d;
};
const podOf = (r: Rendered, kind: string, name: string) => find(r, kind, name).spec.template;

/** Names and keys at the edge of what Kubernetes allows. */
const LONG = {
  /** a DNS label of 63 characters */
  label: `t${'e'.repeat(61)}a`,
  /** a label key: a DNS subdomain prefix of 253 characters, '/', a name of 63 */
  labelKey: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}/${'n'.repeat(63)}`,
  /** a DNS subdomain of 253 characters (an object name) */
  subdomain: `${'p'.repeat(63)}.${'q'.repeat(63)}.${'r'.repeat(63)}.${'s'.repeat(61)}`,
  /** an S3 bucket of 63 characters with dots and digits */
  bucket: `team-1.kfp-${'b'.repeat(43)}.archive`,
};
const UNICODE = 'Größe 🚀 — 日本語 "quoted" \\ back: {{ not a template }}';

/**
 * Valid values at the edges (issue 15): nulls that unset, the largest int32, names at their maximum length,
 * unicode, empty lists, every quantity form, formats at their most unusual. Each asserts what renders; on a
 * control plane every one also passes `kubectl apply --dry-run=server`.
 */
export const ACCEPTED: Array<{ chart: string; what: string; values: unknown; check: (r: Rendered) => void }> = [
  {
    chart: 'cert-manager',
    what: 'null unsets upstream nodeSelector and replicas (one workload only)',
    values: { certManager: { nodeSelector: null, replicas: null } },
    check: (r) => {
      expect(find(r, 'Deployment', 'cert-manager').spec).not.toHaveProperty('replicas');
      expect(podOf(r, 'Deployment', 'cert-manager').spec).not.toHaveProperty('nodeSelector');
      expect(podOf(r, 'Deployment', 'cert-manager-cainjector').spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
      expect(find(r, 'Deployment', 'cert-manager-cainjector').spec.replicas).toBe(1);
    },
  },
  {
    chart: 'istio',
    what: "an empty list replaces upstream's tolerations; null drops its priorityClassName and nodeSelector",
    values: { istioCniNode: { tolerations: [], priorityClassName: null, nodeSelector: null } },
    check: (r) => {
      const pod = podOf(r, 'DaemonSet', 'istio-cni-node').spec;
      expect(pod.tolerations ?? []).toEqual([]);
      expect(pod).not.toHaveProperty('priorityClassName');
      expect(pod).not.toHaveProperty('nodeSelector');
    },
  },
  {
    chart: 'katib',
    what: 'the largest int32, unicode and empty annotation values, a label key and value of maximum length, a 253-character priorityClassName',
    values: {
      katibController: {
        replicas: 2147483647,
        podAnnotations: { 'example.com/note': UNICODE, 'example.com/empty': '' },
        podLabels: { [LONG.labelKey]: 'v'.repeat(63) },
        priorityClassName: LONG.subdomain,
        tolerations: [],
        nodeSelector: {},
      },
      katibUi: { replicas: 0, podLabels: null, podAnnotations: null, affinity: null },
    },
    check: (r) => {
      expect(find(r, 'Deployment', 'katib-controller').spec.replicas).toBe(2147483647);
      expect(r.text).toMatch(/^ {2}replicas: 2147483647$/m);
      const pod = podOf(r, 'Deployment', 'katib-controller');
      expect(pod.metadata.annotations['example.com/note']).toBe(UNICODE);
      expect(pod.metadata.annotations['example.com/empty']).toBe('');
      expect(pod.metadata.annotations['prometheus.io/scrape']).toBe('true');
      expect(pod.metadata.labels[LONG.labelKey]).toBe('v'.repeat(63));
      expect(pod.spec.priorityClassName).toBe(LONG.subdomain);
      expect(find(r, 'Deployment', 'katib-ui').spec.replicas).toBe(0);
      expect(podOf(r, 'Deployment', 'katib-ui').spec).not.toHaveProperty('affinity');
    },
  },
  {
    chart: 'katib',
    what: "a pod annotation just under the API server's 256 KiB; quantities as large integers, fractions and exponents",
    values: {
      katibController: {
        podAnnotations: { 'example.com/blob': 'x'.repeat(250 * 1024) },
        containers: { katibController: { resources: { requests: { cpu: 0.25, memory: 1073741824, 'ephemeral-storage': '1e9' }, limits: { cpu: 2, memory: 34359738368, 'ephemeral-storage': '2G' } } } },
      },
    },
    check: (r) => {
      const pod = podOf(r, 'Deployment', 'katib-controller');
      expect(pod.metadata.annotations['example.com/blob']).toHaveLength(250 * 1024);
      expect(pod.spec.containers[0].resources).toEqual({ requests: { cpu: 0.25, memory: 1073741824, 'ephemeral-storage': '1e9' }, limits: { cpu: 2, memory: 34359738368, 'ephemeral-storage': '2G' } });
      expect(r.text).toContain('memory: 34359738368');
    },
  },
  {
    chart: 'katib',
    what: 'an external database on an IPv4 host, the highest port, a 64-character database name',
    values: { externalDatabase: { enabled: true, host: '10.20.30.40', port: 65535, user: 'katib_user-1', database: `katib_${'d'.repeat(58)}`, existingSecret: LONG.label, passwordKey: 'MYSQL_ROOT_PASSWORD.v2' } },
    check: (r) => {
      const env = Object.fromEntries(podOf(r, 'Deployment', 'katib-db-manager').spec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
      expect(env.KATIB_MYSQL_DB_HOST).toBe('10.20.30.40');
      expect(String(env.KATIB_MYSQL_DB_PORT)).toBe('65535');
      expect(env.KATIB_MYSQL_DB_DATABASE).toBe(`katib_${'d'.repeat(58)}`);
      expect(podOf(r, 'Deployment', 'katib-db-manager').spec.containers[0].env).toContainEqual({ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: LONG.label, key: 'MYSQL_ROOT_PASSWORD.v2' } } });
      expect(r.docs.some((d) => d.kind === 'Deployment' && d.metadata.name === 'katib-mysql')).toBe(false);
    },
  },
  {
    chart: 'katib',
    what: 'extraObjects: a templated manifest string with unicode, and a map',
    values: {
      extraObjects: [
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "{{ .Release.Name }}-extra"\n  namespace: kubeflow\ndata:\n  note: ${JSON.stringify(UNICODE.replace(/\{\{|\}\}/g, ''))}\n`,
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extra-map', namespace: 'kubeflow' }, data: {} },
      ],
    },
    check: (r) => {
      expect(find(r, 'ConfigMap', 'x-extra').data.note).toBe(UNICODE.replace(/\{\{|\}\}/g, ''));
      expect(find(r, 'ConfigMap', 'extra-map').metadata.namespace).toBe('kubeflow');
    },
  },
  {
    chart: 'pipelines',
    what: 'an S3 bucket of 63 characters with dots, an IPv4 host with a port, plain http',
    values: { objectStore: { external: true, host: '192.168.10.20', port: 9000, secure: false, region: 'us-east-1', bucket: LONG.bucket, existingSecret: 'kfp-s3', accessKeyKey: 'access_key', secretKeyKey: 'secret.key' } },
    check: (r) => {
      expect(r.text).toContain(`bucket: "${LONG.bucket}"`);
      expect(r.text).toContain('endpoint: "192.168.10.20:9000"');
      expect(r.docs.some((d) => d.kind === 'Deployment' && d.metadata.name === 'minio')).toBe(false);
    },
  },
  {
    chart: 'oauth2-proxy',
    what: 'an issuer URL with a port and a deep path, a client id with dots and underscores',
    values: { oidc: { issuerUrl: 'https://login.example.com:8443/auth/realms/kubeflow-prod', clientId: 'kubeflow_client.v2', existingSecret: 'kubeflow-oidc' } },
    check: (r) => {
      expect(r.text).toContain('oidc_issuer_url = "https://login.example.com:8443/auth/realms/kubeflow-prod"');
      expect(r.text).toContain('kubeflow_client.v2');
    },
  },
  {
    chart: 'dex',
    what: 'connector secrets as $VARIABLE and ${VARIABLE}, unicode connector names, no static user, empty extraEnv',
    values: {
      staticUser: { enabled: false },
      connectors: [
        { type: 'oidc', id: 'corp.sso_1', name: 'Corp SSO — Anmeldung 🚀', config: { issuer: 'https://login.example.com', clientID: '$OIDC_ID', clientSecret: '${OIDC_SECRET}', redirectURI: 'https://kf.example.com/dex/callback' } },
        { type: 'ldap', id: 'ldap', name: 'LDAP', config: { host: 'ldap.example.com:636', bindDN: 'cn=admin,dc=example,dc=com', bindPW: '$LDAP_PW', userSearch: { baseDN: 'ou=people,dc=example,dc=com', username: 'mail' } } },
      ],
      extraEnv: [],
      extraEnvFrom: [{ secretRef: { name: 'dex-idp' } }],
    },
    check: (r) => {
      const config = YAML.parse(find(r, 'ConfigMap', 'dex').data['config.yaml']);
      expect(config.enablePasswordDB).toBe(false);
      expect(config.connectors.map((c: any) => c.id)).toEqual(['corp.sso_1', 'ldap']);
      expect(config.connectors[0].name).toBe('Corp SSO — Anmeldung 🚀');
      expect(config.connectors[0].config.clientSecret).toBe('${OIDC_SECRET}');
      expect(config.connectors[1].config.bindPW).toBe('$LDAP_PW');
      expect(podOf(r, 'Deployment', 'dex').spec.containers[0].envFrom).toContainEqual({ secretRef: { name: 'dex-idp' } });
    },
  },
  {
    chart: 'istio',
    what: 'an extra issuer with a port and path, several audiences, its own JWKS URI',
    values: { extraJwtIssuers: [{ issuer: 'https://token.example.com:8443/tenant/1', audiences: ['kubeflow', 'ci.example.com'], jwksUri: 'https://token.example.com/keys', emailClaim: 'preferred_username' }] },
    check: (r) => {
      const rule = find(r, 'RequestAuthentication', 'kubeflow-extra-jwt-issuers').spec.jwtRules[0];
      expect(rule).toMatchObject({ issuer: 'https://token.example.com:8443/tenant/1', audiences: ['kubeflow', 'ci.example.com'], jwksUri: 'https://token.example.com/keys' });
      expect(rule.outputClaimToHeaders[0]).toEqual({ claim: 'preferred_username', header: 'kubeflow-userid' });
    },
  },
  {
    chart: 'istio',
    what: 'no extra issuers (an empty list) renders none',
    values: { extraJwtIssuers: [] },
    check: (r) => expect(r.docs.some((d) => d.kind === 'RequestAuthentication' && d.metadata.name === 'kubeflow-extra-jwt-issuers')).toBe(false),
  },
  {
    chart: 'user-namespace',
    what: 'a profile name of 63 characters, every quantity form in its quota, no contributors, a label of maximum length, a contributor with + and upper case',
    values: {
      profiles: [
        {
          name: LONG.label,
          owner: 'alice@example.com',
          contributors: [],
          resourceQuota: { 'requests.cpu': '1500m', 'requests.memory': '1.5Gi', 'limits.memory': 34359738368, 'requests.nvidia.com/gpu': 2, pods: '1e3' },
          labels: { [LONG.labelKey]: 'v'.repeat(63) },
        },
        { name: 'team-b', owner: 'Bob.Builder@Example.com', contributors: [{ name: 'Carol+ml@Example.com', role: 'view' }] },
      ],
    },
    check: (r) => {
      const p = find(r, 'Profile', LONG.label);
      expect(p.spec.owner.name).toBe('alice@example.com');
      expect(p.spec.resourceQuotaSpec.hard).toEqual({ 'requests.cpu': '1500m', 'requests.memory': '1.5Gi', 'limits.memory': 34359738368, 'requests.nvidia.com/gpu': 2, pods: '1e3' });
      expect(p.metadata.labels[LONG.labelKey]).toBe('v'.repeat(63));
      expect(find(r, 'Namespace', LONG.label).metadata.annotations.owner).toBe('alice@example.com');
      const rb = r.docs.find((d) => d.kind === 'RoleBinding' && d.metadata.namespace === 'team-b');
      expect(rb.subjects[0].name).toBe('Carol+ml@Example.com');
      expect(rb.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    },
  },
];

describe(`valid edge cases render (${PINNED})`, () => {
  const katib = path.join(dir, 'katib');
  const render = async (values: unknown, chart = katib, major?: 3 | 4) => {
    const file = path.join(tmp, `ok-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, YAML.stringify(values));
    const res = await helmRun(['template', 'x', chart, '-f', file], await findHelm(major));
    expect(res.stderr).toBe('');
    // every document parses with unique keys (a duplicated label would not)
    const docs = splitObjects(res.stdout, 'render').map((o) => YAML.parse(o.raw, { uniqueKeys: true }));
    return docs;
  };
  const deployment = (docs: any[], name: string) => docs.find((d) => d.kind === 'Deployment' && d.metadata.name === name);

  describe.each([4, 3] as const)('on helm %i', (major) => {
    it.each(ACCEPTED.map((c) => [`${c.chart}: ${c.what}`, c] as const))('%s', async (_name, c) => {
      const file = path.join(tmp, `accepted-${major}-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(file, YAML.stringify(c.values));
      const res = await helmRun(['template', 'x', path.join(dir, c.chart), '-f', file], await findHelm(major));
      expect(res.stderr).toBe('');
      const docs = splitObjects(res.stdout, 'render').map((o) => YAML.parse(o.raw, { uniqueKeys: true }));
      c.check({ docs, text: res.stdout });
    });
  });

  describeCluster('on a control plane of its own', (cluster) => {
    it('every accepted case passes kubectl apply --dry-run=server', async () => {
      const k = kube(cluster().kubeconfig);
      const catalogue = crdCatalogue(dir);
      const problems: string[] = [];
      for (const c of ACCEPTED) {
        const file = path.join(tmp, `dry-run-${Math.random().toString(36).slice(2)}.yaml`);
        writeFileSync(file, YAML.stringify(c.values));
        const res = await helmRun(['template', 'x', path.join(dir, c.chart), '-f', file]);
        expect(res.exitCode, res.stderr).toBe(0);
        problems.push(...(await serverDryRun(k, res.stdout, `${c.chart}: ${c.what}`, catalogue)));
      }
      expect(problems).toEqual([]);
    }, 1_200_000);
  });

  it.each([4, 3] as const)('on helm %i: quantities, digests, registries with ports, merged labels and annotations, full scheduling', async (major) => {
    const docs = await render(
      {
        global: { imageRegistry: 'mirror.example.com:5000/kubeflow', imagePullSecrets: [{ name: 'reg-cred.v1' }] },
        katibController: {
          podLabels: { 'katib.kubeflow.org/component': 'controller', team: 'ml', empty: '' },
          podAnnotations: { 'prometheus.io/port': '9090', 'example.com/note': 'any text: {{ not a template }}' },
          priorityClassName: 'system-cluster-critical',
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 }],
          affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'x' } } } }] } },
          containers: {
            katibController: {
              image: { tag: '', digest: `sha256:${'0123456789abcdef'.repeat(4)}` },
              resources: { requests: { cpu: 0.5, memory: '1Gi', 'nvidia.com/gpu': 1 }, limits: { cpu: '500m', memory: '1024Mi', 'ephemeral-storage': '1e9', 'nvidia.com/gpu': '1' } },
            },
          },
        },
        katibUi: { containers: { katibUi: { image: { registry: 'localhost:5000' }, resources: { requests: { cpu: '+.5' }, limits: { cpu: '1' } } } } },
      },
      katib,
      major,
    );
    const d = deployment(docs, 'katib-controller');
    const pod = d.spec.template;
    expect(pod.metadata.labels).toMatchObject({ 'katib.kubeflow.org/component': 'controller', team: 'ml', empty: '' });
    expect(pod.metadata.annotations['prometheus.io/port']).toBe('9090');
    expect(pod.metadata.annotations['prometheus.io/scrape']).toBe('true');
    expect(pod.metadata.annotations['example.com/note']).toBe('any text: {{ not a template }}');
    expect(pod.spec.containers[0].image).toBe(`mirror.example.com:5000/kubeflow/kubeflow/katib/katib-controller@sha256:${'0123456789abcdef'.repeat(4)}`);
    expect(pod.spec.priorityClassName).toBe('system-cluster-critical');
    expect(pod.spec.tolerations[0].tolerationSeconds).toBe(30);
    expect(pod.spec.imagePullSecrets).toContainEqual({ name: 'reg-cred.v1' });
    expect(deployment(docs, 'katib-ui').spec.template.spec.containers[0].image).toMatch(/^mirror\.example\.com:5000\/kubeflow\//);
  });

  it('through the umbrella: a component value, equal request and limit, and no extra pod metadata where upstream has none', async () => {
    const docs = await render({ katib: { katibController: { replicas: 2, containers: { katibController: { resources: { requests: { memory: '1Gi' }, limits: { memory: '1073741824' } } } } } } }, path.join(dir, UMBRELLA));
    expect(deployment(docs, 'katib-controller').spec.replicas).toBe(2);
    expect(docs.length).toBeGreaterThan(500);
  });
});
