import type { JsonSchema } from '../core/schema.js';
import type { ResolvedCheck } from './umbrella-checks.js';

/**
 * Gateway API on the umbrella (`httpRoute`): an HTTPRoute from the user's
 * Gateway (kgateway, Cilium, Istio's Gateway API, ...) to the Kubeflow ingress
 * Service, which keeps doing authentication (oauth2-proxy, JWT rules are
 * attached to its pods), and optionally a cert-manager Certificate for the
 * hostnames. The backend is the ingress the component files name (istio's
 * Service check), resolved in the release.
 */
export function httpRoute(
  ingress: ResolvedCheck | undefined,
): { values: Record<string, unknown>; schema: JsonSchema; template: string; scenario: Record<string, unknown>; backend: { name: string; namespace: string; port: number } } | undefined {
  if (!ingress?.port) return undefined;
  const values = {
    enabled: false,
    parentRefs: [],
    hostnames: [],
    annotations: {},
    backend: { name: '', namespace: '', port: ingress.port },
    gateway: { namespace: '', podLabels: {}, from: [] },
    tls: { certificate: false, issuerRef: { name: '', kind: 'ClusterIssuer' }, secretName: 'kubeflow-tls', namespace: '' },
  };
  const ref = (name: string, description?: string) => ({ ...(description ? { description } : {}), $ref: `#/definitions/${name}` });
  const issuerRef = {
    description: 'The cert-manager issuer of the Certificate (name required with certificate: true).',
    type: 'object',
    additionalProperties: false,
    properties: { name: { type: 'string', maxLength: 253, pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$' }, kind: { type: 'string', enum: ['Issuer', 'ClusterIssuer'] }, group: ref('apiGroup') },
  };
  const schema: JsonSchema = {
    description: `Gateway API: an HTTPRoute (gateway.networking.k8s.io/v1) from your Gateway to the Kubeflow ingress (${ingress.namespace}/${ingress.name}:${ingress.port}), which keeps authenticating requests. The route lives in the backend's namespace: let your Gateway's listener allow routes from it (allowedRoutes). The Istio ingress stays available. Its other values are read only with enabled: true.`,
    type: 'object',
    additionalProperties: false,
    properties: {
      enabled: { description: 'Render the HTTPRoute.', type: 'boolean' },
      parentRefs: {
        description: 'Gateways the route attaches to: {name, namespace, sectionName, port, group, kind}.',
        type: 'array',
        items: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: ref('objectName'), namespace: ref('dnsLabel'), sectionName: ref('objectName'), port: ref('port'), group: ref('apiGroup'), kind: ref('kindName') },
        },
      },
      hostnames: {
        description: 'Host names the route serves (and the Certificate covers), each once.',
        type: 'array',
        uniqueItems: true,
        items: { type: 'string', maxLength: 253, pattern: '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' },
      },
      annotations: ref('annotations', 'Annotations of the HTTPRoute.'),
      backend: {
        description: `The Kubeflow ingress Service the route sends traffic to. Empty name/namespace: ${ingress.namespace}/${ingress.name}, or with global.istio.external your global.istio.ingressGateway.service in its namespace.`,
        type: 'object',
        additionalProperties: false,
        properties: { name: ref('dnsLabelOrEmpty'), namespace: ref('dnsLabelOrEmpty'), port: ref('port') },
      },
      gateway: {
        description: "Where your Gateway's pods run: the ingress gateway's NetworkPolicy admits them (upstream's admits only its own namespace).",
        type: 'object',
        additionalProperties: false,
        properties: {
          namespace: ref('dnsLabelOrEmpty', "Namespace of the Gateway's pods (empty: the first parentRef's namespace, else the route's, as Gateway API defaults it)."),
          podLabels: ref('labels', "Labels of the Gateway's pods (empty: gateway.networking.k8s.io/gateway-name: <first parentRef name>, which Istio, kgateway and Envoy Gateway set)."),
          from: { description: "NetworkPolicy peers to admit instead (e.g. an ipBlock for a Gateway that is not a pod, such as Cilium's node-local Envoy).", type: 'array', items: { type: 'object' } },
        },
      },
      tls: {
        description:
          "A cert-manager Certificate for the hostnames, in the namespace where the Gateway reads its TLS Secret (default: the first parentRef's, else the route's). Needs hostnames and issuerRef.name; its other values are read only with certificate: true.",
        type: 'object',
        additionalProperties: false,
        properties: {
          certificate: { description: 'Render the Certificate.', type: 'boolean' },
          issuerRef,
          secretName: ref('objectName'),
          namespace: ref('dnsLabelOrEmpty'),
        },
        if: { properties: { certificate: { const: true } }, required: ['certificate'] },
        then: { properties: { issuerRef: { required: ['name'], properties: { name: { minLength: 1 } } } } },
      },
    },
    allOf: [
      { if: { properties: { enabled: { const: true } }, required: ['enabled'] }, then: { properties: { parentRefs: { minItems: 1 } } } },
      { if: { properties: { tls: { properties: { certificate: { const: true } }, required: ['certificate'] } }, required: ['tls'] }, then: { properties: { hostnames: { minItems: 1 } } } },
    ],
  };
  const template = `{{- with .Values.httpRoute }}{{- if .enabled }}
{{- $istio := $.Values.global.istio }}
{{- $ns := .backend.namespace | default (ternary ($istio.ingressGateway.namespace | default $istio.namespace) ${JSON.stringify(ingress.namespace)} $istio.external) }}
{{- $svc := .backend.name | default (ternary $istio.ingressGateway.service ${JSON.stringify(ingress.name)} $istio.external) }}
# Gateway API: your Gateway -> the Kubeflow ingress (values httpRoute).
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: {{ $.Release.Name }}
  namespace: {{ $ns }}
  labels:
    app.kubernetes.io/managed-by: {{ $.Release.Service }}
    app.kubernetes.io/instance: {{ $.Release.Name }}
  annotations:
    argocd.argoproj.io/sync-wave: "7"
    {{- with .annotations }}{{- toYaml . | nindent 4 }}{{- end }}
spec:
  parentRefs: {{- toYaml .parentRefs | nindent 2 }}
  {{- with .hostnames }}
  hostnames: {{- toYaml . | nindent 2 }}
  {{- end }}
  rules:
  - matches:
    - path:
        type: PathPrefix
        value: /
    backendRefs:
    - name: {{ $svc }}
      port: {{ .backend.port }}
---
# ... and the ingress gateway's NetworkPolicy admits your Gateway's pods (httpRoute.gateway).
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $.Release.Name }}-gateway-api
  namespace: {{ $ns }}
  labels:
    app.kubernetes.io/managed-by: {{ $.Release.Service }}
    app.kubernetes.io/instance: {{ $.Release.Name }}
  annotations:
    argocd.argoproj.io/sync-wave: "7"
spec:
  podSelector:
    matchLabels: {{- toYaml (ternary $istio.ingressGateway.selector (dict ${Object.entries(ingress.selector ?? {})
      .map(([k, v]) => `${JSON.stringify(k)} ${JSON.stringify(v)}`)
      .join(' ')}) $istio.external) | nindent 6 }}
  policyTypes: [Ingress]
  ingress:
  - from:
    {{- if .gateway.from }}
    {{- toYaml .gateway.from | nindent 4 }}
    {{- else }}
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ .gateway.namespace | default (index .parentRefs 0).namespace | default $ns }}
      podSelector:
        matchLabels: {{- toYaml (.gateway.podLabels | default (dict "gateway.networking.k8s.io/gateway-name" (index .parentRefs 0).name)) | nindent 10 }}
    {{- end }}
    {{- if not $istio.external }}
    ports:
    - port: ${JSON.stringify(ingress.targetPort ?? ingress.port)}
      protocol: TCP
    {{- end }}
{{- if .tls.certificate }}
{{- if not .tls.issuerRef.name }}{{ fail "httpRoute.tls.issuerRef.name: httpRoute.tls.certificate needs the issuer's name" }}{{ end }}
{{- if not .hostnames }}{{ fail "httpRoute.hostnames: httpRoute.tls.certificate needs the host names the Certificate covers" }}{{ end }}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: {{ $.Release.Name }}-tls
  namespace: {{ .tls.namespace | default (index .parentRefs 0).namespace | default $ns }}
  annotations:
    argocd.argoproj.io/sync-wave: "7"
spec:
  secretName: {{ .tls.secretName }}
  dnsNames: {{- toYaml .hostnames | nindent 2 }}
  issuerRef:
    name: {{ .tls.issuerRef.name }}
    kind: {{ .tls.issuerRef.kind | default "ClusterIssuer" }}
    group: {{ .tls.issuerRef.group | default "cert-manager.io" }}
{{- end }}
{{- end }}{{- end }}
`;
  const scenario = {
    httpRoute: {
      enabled: true,
      parentRefs: [{ name: 'default-gateway', namespace: 'default', sectionName: 'https' }],
      hostnames: ['kubeflow.example.com'],
      tls: { certificate: true, issuerRef: { name: 'letsencrypt', kind: 'ClusterIssuer' }, secretName: 'kubeflow-example-com-tls' },
    },
  };
  return { values, schema, template, scenario, backend: { name: ingress.name, namespace: ingress.namespace, port: ingress.port } };
}
