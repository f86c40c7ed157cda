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
