{{/* The static user of Dex's password database (feature staticUser), as a YAML list. */}}
{{- define "dex.staticPasswords" -}}
{{- if .Values.staticUser.enabled }}
- email: {{ .Values.staticUser.email | quote }}
  hashFromEnv: DEX_USER_PASSWORD
  username: {{ .Values.staticUser.username | quote }}
  userID: {{ .Values.staticUser.userID | quote }}
{{- end }}
{{- range $i, $u := .Values.staticUsers }}
- email: {{ $u.email | quote }}
  hashFromEnv: DEX_STATIC_USER_{{ $i }}
  username: {{ $u.username | default (index (splitList "@" $u.email) 0) | quote }}
  userID: {{ $u.userID | default ($u.email | sha256sum | trunc 20) | quote }}
{{- end }}
{{- end -}}

{{/* The environment of the static users' password hashes (feature identity, staticUsers). */}}
{{- define "dex.staticUserEnv" -}}
{{- range $i, $u := .Values.staticUsers }}
- name: DEX_STATIC_USER_{{ $i }}
  valueFrom:
    secretKeyRef:
      name: {{ $u.existingSecret | quote }}
      key: {{ $u.hashKey | default "hash" | quote }}
{{- end }}
{{- end -}}

{{/*
A connector's config may not hold a credential literally (clientSecret, bindPW, password, token, privateKey, apiKey,
...): it lands in ConfigMap dex in clear. Write $VARIABLE (or ${VARIABLE}) and provide it from your Secret with
extraEnvFrom/extraEnv. dict: value (a map or list), path.
*/}}
{{- define "dex.literalCredentials" -}}
{{- $path := .path -}}
{{- if kindIs "map" .value -}}
{{- range $k, $v := .value -}}
{{- if and (regexMatch "(?i)(secret|password|passwd|bindpw|token|privatekey|apikey|credentials)$" $k) (kindIs "string" $v) (not (regexMatch "^\\$(\\{[A-Za-z_][A-Za-z0-9_]*\\}|[A-Za-z_][A-Za-z0-9_]*)$" $v)) (ne $v "") -}}
{{- fail (printf "%s.%s holds a credential literally (it would land in ConfigMap auth/dex in clear): write $VARIABLE and provide it from your Secret with extraEnvFrom or extraEnv" $path $k) -}}
{{- end -}}
{{- include "dex.literalCredentials" (dict "value" $v "path" (printf "%s.%s" $path $k)) -}}
{{- end -}}
{{- else if kindIs "slice" .value -}}
{{- range $i, $v := .value -}}
{{- include "dex.literalCredentials" (dict "value" $v "path" (printf "%s.%d" $path $i)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
