{{- /* Feature profiles: the pull secrets to copy into each profile namespace, as a YAML list of {namespace, name, from}. */}}
{{- define "user-namespace.pullSecretCopies" -}}
{{- $out := list }}
{{- range .Values.profiles }}
{{- $ns := .name }}
{{- range $.Values.profileDefaults.imagePullSecrets }}
{{- if .from }}{{- $out = append $out (dict "namespace" $ns "name" .name "from" .from) }}{{- end }}
{{- end }}
{{- end }}
{{- toYaml $out }}
{{- end }}
