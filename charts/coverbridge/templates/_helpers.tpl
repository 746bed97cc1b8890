{{/* Chart name, shortened to fit a label value. */}}
{{- define "coverbridge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prefix of every resource name: the release name, plus the chart name unless it has it. */}}
{{- define "coverbridge.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels that select the operator's pods. They never change after install. */}}
{{- define "coverbridge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "coverbridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The standard labels on every resource. */}}
{{- define "coverbridge.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "coverbridge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: coverbridge
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "coverbridge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "coverbridge.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "coverbridge.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "coverbridge.leaseName" -}}
{{- default (include "coverbridge.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/* The Secret holding the API credentials: the user's own, or the one this chart creates. */}}
{{- define "coverbridge.credentialsSecret" -}}
{{- default (printf "%s-credentials" (include "coverbridge.fullname" .)) .Values.credentials.existingSecret }}
{{- end }}

{{/* Namespace auto-created CoverageBindings go to. */}}
{{- define "coverbridge.autoBindingNamespace" -}}
{{- default .Release.Namespace .Values.autoBinding.template.namespace }}
{{- end }}

{{/*
Each credential: the environment variable the operator reads (as <NAME>_FILE) and the values key
naming its Secret key. The file in the pod is named after the variable, whatever the Secret key.
*/}}
{{- define "coverbridge.credentialVars" -}}
WORKMARKET_API_TOKEN: workmarketApiToken
WORKMARKET_API_SECRET: workmarketApiSecret
TEN99POLICY_API_KEY: ten99policyApiKey
TEN99POLICY_WEBHOOK_SECRET: ten99policyWebhookSecret
COVERBRIDGE_WEBHOOK_TOKEN: webhookToken
{{- end }}

{{/* Refuses combinations that would install but not work. */}}
{{- define "coverbridge.validate" -}}
{{- $template := .Values.autoBinding.template }}
{{- if and .Values.autoBinding.enabled $template.categoryMappingRef $template.categoryCode }}
{{- fail "autoBinding.template: set categoryMappingRef or categoryCode, not both" }}
{{- end }}
{{- $autoNamespace := include "coverbridge.autoBindingNamespace" . }}
{{- if and .Values.autoBinding.enabled .Values.watchNamespaces (not (has $autoNamespace .Values.watchNamespaces)) }}
{{- fail (printf "autoBinding.template.namespace %q is not in watchNamespaces, so the operator would not see the bindings it creates" $autoNamespace) }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.ingress.host) }}
{{- fail "ingress.host is required when ingress.enabled is true" }}
{{- end }}
{{- /* Empty credentials would install fine and crash-loop the pod; a `helm upgrade` without
       --reuse-values would blank them the same way. */}}
{{- if not .Values.credentials.existingSecret }}
{{- $missing := list }}
{{- range $_, $valuesKey := include "coverbridge.credentialVars" . | fromYaml }}
{{- if not (get $.Values.credentials.values $valuesKey) }}
{{- $missing = append $missing (printf "credentials.values.%s" $valuesKey) }}
{{- end }}
{{- end }}
{{- if $missing }}
{{- fail (printf "credentials are required: set %s, or set credentials.existingSecret to the name of a Secret you created with them (recommended). On helm upgrade, pass them again or use --reuse-values." (join ", " (sortAlpha $missing))) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Three times a duration such as 5m or 1h30m, as a Prometheus duration (15m, 4h30m): how long
"no sweep for three intervals" waits.
*/}}
{{- define "coverbridge.threeTimes" -}}
{{- $sizes := dict "h" 3600000 "m" 60000 "s" 1000 "ms" 1 }}
{{- $total := 0 }}
{{- range $part := regexFindAll "[0-9]+(ms|s|m|h)" . -1 }}
{{- $count := regexFind "^[0-9]+" $part }}
{{- $total = add $total (mul (int64 $count) (get $sizes (trimPrefix $count $part))) }}
{{- end }}
{{- if not $total }}
{{- fail (printf "%q is not a duration such as 5m" .) }}
{{- end }}
{{- $left := mul $total 3 }}
{{- range $unit := list "h" "m" "s" "ms" }}
{{- $size := get $sizes $unit }}
{{- if ge (int64 $left) (int64 $size) }}
{{- printf "%d%s" (div $left $size) $unit }}
{{- $left = mod $left $size }}
{{- end }}
{{- end }}
{{- end }}
