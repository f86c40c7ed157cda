/**
 * Named templates every chart carries for values that need more than the
 * schema: requests <= limits, and extra pod labels/annotations merged with
 * upstream's. A failure names the values path; inside the umbrella the path
 * starts with the component's key (`katib.katibController...`).
 */
export function valueHelpers(chart: string, umbrella = false): string {
  return `{{/*
The values path prefix: the component's key inside the kubeflow umbrella chart.
*/}}
{{- define "${chart}.valuesPrefix" -}}
${umbrella ? '' : '{{- if and .Values.global .Values.global.kubeflowUmbrella }}{{ .Chart.Name }}.{{ end -}}\n'}{{- end -}}

{{/*
Values read only under a condition (features' onlyWhen): while it is false, a value that differs from its default
is refused, naming the value that enables it. dict: value, defaults (JSON {"v": defaults}), except (map keys left
free), path, needs, root. Paths under global carry no component prefix.
*/}}
{{- define "${chart}.unused" -}}
{{- $d := (fromJson .defaults).v -}}
{{- $prefix := include "${chart}.valuesPrefix" .root -}}
{{- $at := printf "%s%s" (ternary "" $prefix (hasPrefix "global." .path)) .path -}}
{{- $needs := printf "%s%s" (ternary "" $prefix (hasPrefix "global." .needs)) .needs -}}
{{- if and (kindIs "map" .value) (kindIs "map" $d) -}}
{{- range $k, $v := .value -}}
{{- if and (not (has $k $.except)) (ne (toJson $v) (toJson (index $d $k))) -}}
{{- fail (printf "%s.%s is set, but it is used only with %s (it would be ignored)" $at $k $needs) -}}
{{- end -}}
{{- end -}}
{{- else if ne (toJson .value) (toJson $d) -}}
{{- fail (printf "%s is set, but it is used only with %s (it would be ignored)" $at $needs) -}}
{{- end -}}
{{- end -}}

{{/*
A Kubernetes quantity as a number (cores, bytes, ...): 500m, 1.5, 2Gi, 1e3.
*/}}
{{- define "${chart}.quantity" -}}
{{- $s := toString . -}}
{{- $num := regexFind "^[+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?" $s -}}
{{- $units := dict "" 1 "n" 1e-9 "u" 1e-6 "m" 0.001 "k" 1000 "M" 1e6 "G" 1e9 "T" 1e12 "P" 1e15 "E" 1e18 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "Pi" 1125899906842624 "Ei" 1152921504606846976 -}}
{{- mulf (float64 (trimPrefix "+" $num)) (get $units (trimPrefix $num $s)) -}}
{{- end -}}

{{/*
Container resources, checked: a request may not exceed the limit of the same resource.
dict: resources, path (values path), root ($).
*/}}
{{- define "${chart}.resources" -}}
{{- $r := .resources | default dict -}}
{{- $requests := $r.requests | default dict -}}
{{- range $name, $limit := ($r.limits | default dict) -}}
{{- if hasKey $requests $name -}}
{{- $request := index $requests $name -}}
{{- if gt (float64 (include "${chart}.quantity" $request)) (mulf (float64 (include "${chart}.quantity" $limit)) 1.000000001) -}}
{{- fail (printf "%s%s.requests.%s (%v) is above %s%s.limits.%s (%v): a request may not exceed its limit" (include "${chart}.valuesPrefix" $.root) $.path $name $request (include "${chart}.valuesPrefix" $.root) $.path $name $limit) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml $r -}}
{{- end -}}

{{/*
Pod labels or annotations: upstream's merged with the extra ones from values (an extra key replaces
upstream's value); a selector label of the workload cannot change.
dict: upstream, extra, fixed (selector labels), path (values path), root ($), keepEmpty.
*/}}
{{- define "${chart}.podMeta" -}}
{{- $out := deepCopy .upstream -}}
{{- range $k, $v := (.extra | default dict) -}}
{{- if and (hasKey $.fixed $k) (ne (toString (index $.fixed $k)) (toString $v)) -}}
{{- fail (printf "%s%s: %q is a selector label of the workload (upstream value %q) and cannot be changed; add another label instead" (include "${chart}.valuesPrefix" $.root) $.path $k (index $.fixed $k)) -}}
{{- end -}}
{{- $_ := set $out $k $v -}}
{{- end -}}
{{- $size := 0 -}}
{{- range $k, $v := $out }}{{ $size = add $size (len $k) (len (toString $v)) }}{{ end -}}
{{- if gt $size 262144 -}}
{{- fail (printf "%s%s: the pod's labels or annotations total %d bytes, above the API server's limit of 262144 (256 KiB)" (include "${chart}.valuesPrefix" $.root) $.path $size) -}}
{{- end -}}
{{- if $out }}{{ toYaml $out }}{{ else if .keepEmpty }}{}{{ end -}}
{{- end -}}

{{/*
failurePolicy of an admission webhook that admits objects of this release: upstream's, except while Helm
installs against a cluster where a server of the webhook is not available yet; then Ignore, so the release's
own objects are not rejected by a webhook that cannot answer. The umbrella's gate sets upstream's policy
back once the servers are ready; without it the next helm upgrade does. helm template and Argo CD render
without a cluster (lookup is empty) and get upstream's policy. dict: policy, servers ("namespace/name").
*/}}
{{- define "${chart}.webhookFailurePolicy" -}}
{{- $policy := .policy -}}
{{- if lookup "v1" "Namespace" "" "kube-system" -}}
{{- range .servers -}}
{{- $d := lookup "apps/v1" "Deployment" (first (splitList "/" .)) (last (splitList "/" .)) -}}
{{- if not (and $d $d.status (gt (int ($d.status.availableReplicas | default 0)) 0)) }}{{ $policy = "Ignore" }}{{ end -}}
{{- end -}}
{{- end -}}
{{- $policy -}}
{{- end -}}
`;
}
