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
export function httpRoute(ingress: ResolvedCheck | undefined): { values: Record<string, unknown>; schema: JsonSchema; template: string; scenario: Record<string, unknown> } | undefined {
  if (!ingress?.port) return undefined;
  const values = {
    enabled: false,
    parentRefs: [],
    hostnames: [],
    annotations: {},
    backend: { name: ingress.name, namespace: ingress.namespace, port: ingress.port },
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
        description: 'The Kubeflow ingress Service the route sends traffic to (bring-your-own Istio: your ingress gateway Service).',
        type: 'object',
        additionalProperties: false,
        properties: { name: ref('dnsLabel'), namespace: ref('dnsLabel'), port: ref('port') },
      },
      tls: {
        description:
          "A cert-manager Certificate for the hostnames, in the namespace where the Gateway reads its TLS Secret (default: the first parentRef's). Needs hostnames and issuerRef.name; its other values are read only with certificate: true.",
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
# Gateway API: your Gateway -> the Kubeflow ingress (values httpRoute).
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: {{ $.Release.Name }}
  namespace: {{ .backend.namespace }}
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
    - name: {{ .backend.name }}
      port: {{ .backend.port }}
{{- if .tls.certificate }}
{{- if not .tls.issuerRef.name }}{{ fail "httpRoute.tls.issuerRef.name: httpRoute.tls.certificate needs the issuer's name" }}{{ end }}
{{- if not .hostnames }}{{ fail "httpRoute.hostnames: httpRoute.tls.certificate needs the host names the Certificate covers" }}{{ end }}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: {{ $.Release.Name }}-tls
  namespace: {{ .tls.namespace | default (index .parentRefs 0).namespace | default $.Release.Namespace }}
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
  return { values, schema, template, scenario };
}
