{{/* The static user of Dex's password database (feature staticUser), as a YAML list. */}}
{{- define "dex.staticPasswords" -}}
{{- if .Values.staticUser.enabled }}
- email: {{ .Values.staticUser.email | quote }}
  hashFromEnv: DEX_USER_PASSWORD
  username: {{ .Values.staticUser.username | quote }}
  userID: {{ .Values.staticUser.userID | quote }}
{{- end }}
{{- end -}}
